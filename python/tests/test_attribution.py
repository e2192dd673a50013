"""Multi-touch attribution: the Markov and Shapley maths, and the warehouse models.

The first half checks :mod:`leadscore.attribution` against textbook examples whose answers
are derived by hand in each docstring, and against the defining properties of Shapley
values. The tests marked ``dbt`` read the demo warehouse and re-derive the attribution
tables independently in pandas (paths by a plain window filter instead of the as-of join,
credits by direct formulas, features by brute force over the raw touches).
"""

from __future__ import annotations

import math
import os
from itertools import pairwise, permutations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from leadscore.attribution import (
    CONVERSION,
    MAX_SHAPLEY_PLAYERS,
    NULL,
    START,
    channel_ranking_agreement,
    channel_set_game,
    markov_removal_effects,
    markov_removal_effects_frame,
    normalized_shares,
    shapley_values,
    shapley_values_frame,
    spearman,
    warehouse_channel_credits,
)
from leadscore.config import DEMO_WORLD, PROJECT_ROOT


def transitions_of(paths: list[tuple[list[str], bool]]) -> tuple[list, list, list]:
    """Transition lists of complete paths (channels, converted), as the warehouse counts them."""
    counts: dict[tuple[str, str], int] = {}
    for channels, converted in paths:
        states = [START, *channels, CONVERSION if converted else NULL]
        for pair in pairwise(states):
            counts[pair] = counts.get(pair, 0) + 1
    return [a for a, _ in counts], [b for _, b in counts], list(counts.values())


# --------------------------------------------------------------------------- Markov


def test_markov_two_channel_textbook_example() -> None:
    """Paths A>B>conv, A>null, B>conv.

    From (start): A with 2/3, B with 1/3. From A: B or null with 1/2 each; from B: conversion.
    P(conv) = 2/3 * 1/2 + 1/3 = 2/3. Removing A sends the 2/3 to null: P = 1/3, so
    RE(A) = 1 - (1/3)/(2/3) = 1/2. Every conversion passes through B: RE(B) = 1. Shares:
    (1/2) / (3/2) = 1/3 and 2/3.
    """
    result = markov_removal_effects(
        *transitions_of([(["A", "B"], True), (["A"], False), (["B"], True)])
    )
    assert result.channels == ("A", "B")
    assert result.conversion_probability == pytest.approx(2 / 3, abs=1e-12)
    np.testing.assert_allclose(result.removed_conversion_probabilities, [1 / 3, 0.0], atol=1e-12)
    np.testing.assert_allclose(result.removal_effects, [1 / 2, 1.0], atol=1e-12)
    np.testing.assert_allclose(normalized_shares(result.removal_effects), [1 / 3, 2 / 3])


def test_markov_cycle_is_solved_exactly() -> None:
    """Paths A>B>A>conv and B>null: a cycle between A and B.

    From (start): A or B with 1/2. From A: B or conversion with 1/2; from B: A or null with
    1/2. The absorption probabilities solve b_A = 1/2 b_B + 1/2 and b_B = 1/2 b_A, so
    b_A = 2/3 and b_B = 1/3 (the geometric series of the A<->B loop), and
    P(conv) = 1/2 * 2/3 + 1/2 * 1/3 = 1/2. Without A nothing converts: RE(A) = 1. Without B,
    b_A = 1/2 and P = 1/4: RE(B) = 1/2. A simulation would only approximate these.
    """
    result = markov_removal_effects(*transitions_of([(["A", "B", "A"], True), (["B"], False)]))
    assert result.conversion_probability == pytest.approx(1 / 2, abs=1e-12)
    np.testing.assert_allclose(result.removed_conversion_probabilities, [0.0, 1 / 4], atol=1e-12)
    np.testing.assert_allclose(result.removal_effects, [1.0, 1 / 2], atol=1e-12)


def test_markov_self_loop_matches_the_geometric_series() -> None:
    """Path counts from A: A again 1, conversion 1, null 2, so from A conversion has
    probability sum_k (1/4)^k * 1/4 = (1/4) / (1 - 1/4) = 1/3."""
    result = markov_removal_effects(
        [START, "A", "A", "A"], ["A", "A", CONVERSION, NULL], [1, 1, 1, 2]
    )
    assert result.conversion_probability == pytest.approx(1 / 3, abs=1e-12)
    assert result.removal_effects[0] == pytest.approx(1.0)


def test_markov_channel_only_on_lost_paths_has_no_effect() -> None:
    """C only ever leads to null: removing it changes nothing, RE(C) = 0."""
    result = markov_removal_effects(
        *transitions_of([(["A"], True), (["C"], False), (["A"], False)])
    )
    assert dict(zip(result.channels, result.removal_effects, strict=True))["C"] == 0.0


def test_markov_without_conversions_gives_zero_effects() -> None:
    result = markov_removal_effects(*transitions_of([(["A", "B"], False)]))
    assert result.conversion_probability == 0.0
    np.testing.assert_array_equal(result.removal_effects, [0.0, 0.0])
    np.testing.assert_array_equal(normalized_shares(result.removal_effects), [0.0, 0.0])


@pytest.mark.parametrize(
    ("from_states", "to_states", "counts", "message"),
    [
        ([START], ["A", "B"], [1], "same length"),
        ([START], ["A"], [-1], "non-negative"),
        ([CONVERSION], ["A"], [1], "absorbing"),
        (["A"], [START], [1], "start state"),
        (["A"], [CONVERSION], [1], "no transitions out of the start"),
    ],
)
def test_markov_rejects_malformed_chains(from_states, to_states, counts, message) -> None:
    with pytest.raises(ValueError, match=message):
        markov_removal_effects(from_states, to_states, counts)


def test_markov_frame_is_per_scope() -> None:
    """Each scope is its own chain; a state with no way out (C) counts as going to null."""
    lead = transitions_of([(["A", "B"], True), (["A"], False), (["B"], True)])
    frame = pd.DataFrame(
        {
            "path_scope": ["lead"] * len(lead[0]) + ["account"] * 3,
            "from_state": [*lead[0], START, START, "D"],
            "to_state": [*lead[1], "C", "D", CONVERSION],
            "transition_count": [*lead[2], 1, 1, 1],
        }
    )
    result = markov_removal_effects_frame(frame).set_index(["path_scope", "channel"])
    assert result.loc[("lead", "B"), "channel_share"] == pytest.approx(2 / 3)
    assert result.loc[("account", "D"), "removal_effect"] == pytest.approx(1.0)
    assert result.loc[("account", "C"), "removal_effect"] == pytest.approx(0.0)
    assert result.loc[("account", "D"), "conversion_probability"] == pytest.approx(1 / 2)
    assert result.groupby(level=0)["channel_share"].sum().to_dict() == pytest.approx(
        {"lead": 1.0, "account": 1.0}
    )


# --------------------------------------------------------------------------- Shapley


def brute_force_shapley(values: np.ndarray, n_players: int) -> np.ndarray:
    """Average marginal contribution over all n! orderings (the definition)."""
    phi = np.zeros(n_players)
    orders = list(permutations(range(n_players)))
    for order in orders:
        mask = 0
        for player in order:
            phi[player] += values[mask | 1 << player] - values[mask]
            mask |= 1 << player
    return phi / len(orders)


def test_shapley_glove_game() -> None:
    """Players L1, L2 (a left glove each) and R (a right glove); a pair is worth 1.

    v(S) = 1 iff R is in S with at least one L. Over the 6 orderings R is pivotal whenever
    it is not first (4 of 6): phi(R) = 2/3. L1 is pivotal only in R, L1, L2: phi(L1) = 1/6,
    and L2 likewise.
    """
    left_1, left_2, right = 1, 2, 4
    values = np.array(
        [float(bool(mask & right) and bool(mask & (left_1 | left_2))) for mask in range(8)]
    )
    np.testing.assert_allclose(shapley_values(values), [1 / 6, 1 / 6, 2 / 3], atol=1e-12)


def test_shapley_two_players_closed_form() -> None:
    """phi_1 = v(1) + (v(12) - v(1) - v(2)) / 2: each keeps its own value and half the synergy."""
    v1, v2, v12 = 3.0, 1.0, 10.0
    phi = shapley_values([0.0, v1, v2, v12])
    np.testing.assert_allclose(phi, [v1 + (v12 - v1 - v2) / 2, v2 + (v12 - v1 - v2) / 2])


def test_shapley_matches_the_permutation_definition_and_is_efficient() -> None:
    rng = np.random.default_rng(0)
    for n_players in range(1, 6):
        values = rng.normal(size=1 << n_players)
        values[0] = 0.0
        phi = shapley_values(values)
        np.testing.assert_allclose(phi, brute_force_shapley(values, n_players), atol=1e-12)
        assert phi.sum() == pytest.approx(values[-1] - values[0], abs=1e-12)


def test_shapley_symmetric_players_get_equal_value() -> None:
    """v depends only on |S| (every player interchangeable): all values equal v(N) / n."""
    n_players = 4
    values = np.array([math.sqrt(bin(mask).count("1")) for mask in range(1 << n_players)])
    np.testing.assert_allclose(shapley_values(values), [values[-1] / n_players] * n_players)


def test_shapley_rejects_bad_games() -> None:
    with pytest.raises(ValueError, match="2\\*\\*n"):
        shapley_values([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="at most"):
        shapley_values(np.zeros(1 << (MAX_SHAPLEY_PLAYERS + 1)))


def test_channel_set_game_conversion_rate_by_hand() -> None:
    """Paths: {A} 10 with 2 conversions, {B} 5 with 2, {A, B} 5 with 3.

    v(empty) = 0 (no paths), v(A) = 2/10, v(B) = 2/5, v(AB) = 7/20 (all paths).
    phi(A) = 1/2 (v(A) - 0) + 1/2 (v(AB) - v(B)) = 1/10 - 1/40 = 3/40;
    phi(B) = 1/2 (2/5) + 1/2 (7/20 - 1/5) = 1/5 + 3/40 = 11/40; together 7/20 = v(AB).
    """
    channels, game = channel_set_game([["A"], ["B"], ["B", "A"]], [10, 5, 5], [2, 2, 3])
    assert channels == ("A", "B")
    np.testing.assert_allclose(game, [0.0, 0.2, 0.4, 0.35])
    np.testing.assert_allclose(shapley_values(game), [3 / 40, 11 / 40], atol=1e-12)


def test_channel_set_game_conversions_splits_each_set_equally() -> None:
    """With v(S) = conversions of the paths within S, the game is a sum of unanimity games,
    one per channel set T weighted by its conversions, so phi(i) = sum over the sets T
    containing i of conversions(T) / |T|."""
    rng = np.random.default_rng(1)
    channels = ["a", "b", "c", "d", "e"]
    sets = [list(rng.choice(channels, size=rng.integers(1, 5), replace=False)) for _ in range(40)]
    conversions = rng.integers(0, 9, size=len(sets)).astype(float)
    names, game = channel_set_game(sets, conversions + 3, conversions, value="conversions")
    expected = {name: 0.0 for name in names}
    for channel_set, count in zip(sets, conversions, strict=True):
        for channel in channel_set:
            expected[channel] += count / len(channel_set)
    np.testing.assert_allclose(shapley_values(game), [expected[n] for n in names], atol=1e-9)
    assert shapley_values(game).sum() == pytest.approx(conversions.sum())


def test_channel_that_never_appears_gets_zero_and_symmetric_channels_match() -> None:
    """C is a player only on a channel set with no paths: it never changes v, so phi(C) = 0.
    A and B appear in mirrored sets with mirrored counts, so they are symmetric."""
    channels, game = channel_set_game(
        [["A"], ["B"], ["A", "B"], ["C"]], [10, 10, 4, 0], [3, 3, 2, 0]
    )
    phi = dict(zip(channels, shapley_values(game), strict=True))
    assert phi["C"] == 0.0
    assert phi["A"] == pytest.approx(phi["B"], abs=1e-15)
    assert phi["A"] + phi["B"] == pytest.approx(8 / 24)


def test_channel_set_game_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="align"):
        channel_set_game([["A"]], [1, 2], [1])
    with pytest.raises(ValueError, match="characteristic"):
        channel_set_game([["A"]], [1], [1], value="revenue")  # type: ignore[arg-type]


def test_shapley_frame_clips_negative_values_in_shares() -> None:
    """B lowers the conversion rate (its paths convert worse): phi(B) < 0, share 0."""
    frame = pd.DataFrame(
        {
            "path_scope": ["lead"] * 3,
            "channel_set": [["A"], ["B"], ["A", "B"]],
            "path_count": [10, 10, 10],
            "conversion_count": [5, 0, 1],
        }
    )
    result = shapley_values_frame(frame).set_index("channel")
    assert result.loc["B", "shapley_value"] < 0
    assert result.loc["B", "channel_share"] == 0.0
    assert result.loc["A", "channel_share"] == 1.0


def test_normalized_shares() -> None:
    np.testing.assert_allclose(normalized_shares([1.0, -2.0, 3.0]), [0.25, 0.0, 0.75])
    np.testing.assert_array_equal(normalized_shares([0.0, -1.0]), [0.0, 0.0])


def test_spearman_and_ranking_agreement() -> None:
    a = pd.Series([1.0, 2.0, 3.0, 4.0], index=list("wxyz"))
    assert spearman(a, a**3) == pytest.approx(1.0)
    assert spearman(a, -a) == pytest.approx(-1.0)
    assert math.isnan(spearman(a, pd.Series(1.0, index=a.index)))
    truth = pd.DataFrame({"channel": list("wxyz"), "true_effect": [0.1, 0.2, 0.3, 0.4]})
    credits = pd.DataFrame(
        {
            "path_scope": "lead",
            "attribution_model": "linear",
            "channel": list("wxy"),  # z never credited: 0
            "attributed_conversions": [8.0, 4.0, 2.0],
            "touches": [80, 20, 5],
        }
    )
    table = channel_ranking_agreement(credits, truth).set_index("attribution_model")
    assert table.loc["linear", "spearman_total"] == pytest.approx(-1.0)
    assert table.loc["linear", "spearman_volume"] == pytest.approx(1.0)
    assert table.loc["linear", "spearman_per_touch"] == pytest.approx(1.0)  # .1, .2, .4; z NaN


# --------------------------------------------------------------------------- warehouse

MODELS = [
    "first_touch", "last_touch", "linear", "time_decay",
    "position_based", "w_shaped", "markov", "shapley",
]  # fmt: skip


@pytest.fixture(scope="module")
def project_vars() -> dict:
    """The dbt project's default variables (the demo warehouse is built with them)."""
    return yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]


@pytest.fixture(scope="module")
def expected_paths(demo_warehouse: Path, project_vars: dict) -> pd.DataFrame:
    """Touches on conversion and open paths, derived in pandas from the staging tables.

    A direct reading of the definition: a touch of entity e belongs to conversion c of e
    when max(c - lookback, previous conversion of e) <= touched_at < c, and to e's open
    path when it is after e's last conversion and within lookback of the data end.
    """
    import duckdb

    lookback = pd.Timedelta(days=project_vars["lead_scoring__attribution_lookback_days"])
    event = project_vars["lead_scoring__attribution_conversion_event"]
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        touches = con.sql(
            """
            select touchpoints.touchpoint_id, touchpoints.lead_id, leads.account_id,
                touchpoints.channel, touchpoints.touched_at
            from staging.stg_crm__touchpoints as touchpoints
            left join staging.stg_crm__leads as leads using (lead_id)
            """
        ).df()
        opportunities = con.sql("select * from staging.stg_crm__opportunities").df()
        data_end = pd.Timestamp(
            con.sql(
                "select as_of_date from intermediate.int_as_of_dates where is_scoring_date"
            ).fetchall()[0][0]
        )
    if event == "won":
        opportunities = opportunities[opportunities["is_won"] == True]  # noqa: E712
        opportunities = opportunities.assign(converted_at=opportunities["closed_at"])
    else:
        opportunities = opportunities.assign(converted_at=opportunities["created_at"])
    opportunities = opportunities[opportunities["converted_at"] < data_end]
    touches = touches[touches["touched_at"] < data_end]
    frames = []
    for scope, key in (("lead", "lead_id"), ("account", "account_id")):
        conversions = (
            opportunities.dropna(subset=[key])
            .sort_values([key, "converted_at", "opportunity_id"])
            .assign(previous=lambda df, key=key: df.groupby(key)["converted_at"].shift())
        )
        conversions["start"] = (conversions["converted_at"] - lookback).where(
            conversions["previous"].isna()
            | (conversions["converted_at"] - lookback > conversions["previous"]),
            conversions["previous"],
        )
        scoped = touches.dropna(subset=[key])
        pairs = scoped.merge(conversions[[key, "opportunity_id", "converted_at", "start"]], on=key)
        on_conversion = pairs[
            (pairs["touched_at"] >= pairs["start"]) & (pairs["touched_at"] < pairs["converted_at"])
        ].assign(path_id=f"{scope}:" + pairs["opportunity_id"])
        last = conversions.groupby(key)["converted_at"].max()
        after_last = scoped[key].map(last)
        open_touches = scoped[
            (after_last.isna() | (scoped["touched_at"] >= after_last))
            & (scoped["touched_at"] >= data_end - lookback)
        ].assign(path_id=f"{scope}:open:" + scoped[key], converted_at=data_end)
        frames.append(on_conversion.assign(path_scope=scope, is_conversion=True))
        frames.append(open_touches.assign(path_scope=scope, is_conversion=False))
    paths = pd.concat(frames, ignore_index=True)
    paths = paths.sort_values(["path_id", "touched_at", "touchpoint_id"])
    paths["touch_position"] = paths.groupby("path_id").cumcount() + 1
    paths["touch_count"] = paths.groupby("path_id")["touchpoint_id"].transform("size")
    paths["days_before"] = (paths["converted_at"] - paths["touched_at"]).dt.total_seconds() / 86400
    return paths


@pytest.mark.dbt
def test_touchpoints_pathed_matches_an_independent_derivation(
    demo_con, expected_paths: pd.DataFrame
) -> None:
    actual = demo_con.sql(
        "select path_id, touchpoint_id, touch_position, touch_count, is_conversion "
        "from intermediate.int_touchpoints_pathed"
    ).df()
    assert len(actual) > 1000, "the demo world should put thousands of touches on paths"
    merged = expected_paths.merge(
        actual, on=["path_id", "touchpoint_id"], how="outer", indicator=True, suffixes=("", "_sql")
    )
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert (merged["touch_position"] == merged["touch_position_sql"]).all()
    assert (merged["touch_count"] == merged["touch_count_sql"]).all()
    assert (merged["is_conversion"] == merged["is_conversion_sql"]).all()


def expected_rules_credits(paths: pd.DataFrame, lead_creation: pd.Series, v: dict) -> dict:
    """Rules-based credits from their definitions, path by path (not vectorized like SQL)."""
    half_life = v["lead_scoring__attribution_half_life_days"]
    position = v["lead_scoring__attribution_position_weights"]
    w_shaped = v["lead_scoring__attribution_w_shaped_weights"]
    credits: dict[str, dict[tuple[str, str], float]] = {model: {} for model in MODELS[:6]}
    for path_id, path in paths.groupby("path_id"):
        n = len(path)
        ids = path["touchpoint_id"].tolist()
        days = path["days_before"].to_numpy()
        lc = ids.index(lead_creation[path_id])
        decay = 2.0 ** (-days / half_life)
        if n == 1:
            u_shape = np.array([1.0])
        elif n == 2:
            total = position["first"] + position["last"]
            u_shape = np.array([position["first"], position["last"]]) / total
        else:
            u_shape = np.array(
                [position["first"], *[position["middle"] / (n - 2)] * (n - 2), position["last"]]
            )
        w = np.zeros(n)
        w[0] += w_shaped["first"]
        w[lc] += w_shaped["lead_creation"]
        w[-1] += w_shaped["opportunity_creation"]
        rest = [i for i in range(n) if i not in (0, lc, n - 1)]
        for i in rest:
            w[i] += w_shaped["rest"] / len(rest)
        by_model = {
            "first_touch": np.eye(n)[0],
            "last_touch": np.eye(n)[-1],
            "linear": np.full(n, 1 / n),
            "time_decay": decay / decay.sum(),
            "position_based": u_shape / u_shape.sum(),
            "w_shaped": w / w.sum(),
        }
        for model, values in by_model.items():
            for touchpoint_id, value in zip(ids, values, strict=True):
                credits[model][(path_id, touchpoint_id)] = float(value)
    return credits


@pytest.mark.dbt
def test_rules_based_credits_match_their_definitions(
    demo_con, expected_paths: pd.DataFrame, project_vars: dict
) -> None:
    conversion_paths = expected_paths[expected_paths["is_conversion"]]
    # The lead-creation touch is the one input taken from the warehouse: its definition
    # (closest to a creation time) is checked by the unit test of int_touchpoints_pathed.
    lead_creation = (
        demo_con.sql(
            "select path_id, touchpoint_id from intermediate.int_touchpoints_pathed "
            "where is_lead_creation_touch and is_conversion"
        )
        .df()
        .set_index("path_id")["touchpoint_id"]
    )
    expected = expected_rules_credits(conversion_paths, lead_creation, project_vars)
    actual = demo_con.sql(
        "select path_scope || ':' || opportunity_id as path_id, touchpoint_id, "
        "attribution_model, credit from marts.fct_touchpoint_attributions"
    ).df()
    for model in MODELS[:6]:
        rows = actual[actual["attribution_model"] == model]
        got = dict(
            zip(
                zip(rows["path_id"], rows["touchpoint_id"], strict=True),
                rows["credit"],
                strict=True,
            )
        )
        assert got.keys() == expected[model].keys(), model
        worst = max(abs(got[key] - value) for key, value in expected[model].items())
        assert worst < 1e-12, f"{model}: largest difference {worst}"


@pytest.mark.dbt
def test_data_driven_models_match_a_recomputation_from_the_paths(
    demo_con, expected_paths: pd.DataFrame, project_vars: dict
) -> None:
    """Markov and Shapley from transition / channel-set counts made in pandas, not SQL."""
    transitions, channel_sets = [], []
    for (scope, _path_id), path in expected_paths.groupby(["path_scope", "path_id"]):
        ordered = path.sort_values("touch_position")
        converted = bool(ordered["is_conversion"].iloc[0])
        states = [START, *ordered["channel"], CONVERSION if converted else NULL]
        transitions += [(scope, a, b) for a, b in pairwise(states)]
        channel_sets.append((scope, tuple(sorted(set(ordered["channel"]))), converted))
    counts = pd.DataFrame(transitions, columns=["path_scope", "from_state", "to_state"])
    counts = counts.value_counts().rename("transition_count").reset_index()
    markov = markov_removal_effects_frame(counts).set_index(["path_scope", "channel"])
    sets = pd.DataFrame(channel_sets, columns=["path_scope", "channel_set", "converted"])
    sets = (
        sets.groupby(["path_scope", "channel_set"])["converted"]
        .agg(path_count="size", conversion_count="sum")
        .reset_index()
    )
    shapley = shapley_values_frame(
        sets, value=project_vars["lead_scoring__attribution_shapley_value"]
    ).set_index(["path_scope", "channel"])
    for table, expected, column in (
        ("int_attribution_markov_effects_solved", markov, "removal_effect"),
        ("int_attribution_shapley_values_computed", shapley, "shapley_value"),
    ):
        actual = demo_con.sql(f"select * from intermediate.{table}").df()
        actual = actual.set_index(["path_scope", "channel"]).sort_index()
        assert set(actual.index) == set(expected.index), table
        for name in (column, "channel_share"):
            np.testing.assert_allclose(
                actual[name], expected.loc[actual.index, name], atol=1e-12, err_msg=table
            )


@pytest.mark.dbt
def test_every_conversion_is_fully_credited_by_every_model(demo_con) -> None:
    sums = demo_con.sql(
        """
        select path_scope, attribution_model, opportunity_id, sum(credit) as total
        from marts.fct_touchpoint_attributions
        group by all
        """
    ).df()
    assert set(sums["attribution_model"]) == set(MODELS)
    assert (sums["total"] - 1).abs().max() < 1e-9
    per_model = sums.groupby(["path_scope", "attribution_model"]).size().unstack()
    assert (per_model.nunique(axis=1) == 1).all(), "every model credits the same conversions"


@pytest.mark.dbt
def test_attribution_features_match_brute_force_without_leakage(
    demo_con, project_vars: dict
) -> None:
    """Features of 5,000 sampled spine rows recomputed by joining each row to every touch of
    its lead before the as-of date (the brute force the model avoids)."""
    half_life = project_vars["lead_scoring__attribution_feature_half_life_days"]
    channels = project_vars["lead_scoring__attribution_feature_channels"]
    features = demo_con.sql(
        "select * from intermediate.int_lead_attribution_features "
        "using sample reservoir(5000 rows) repeatable (42)"
    ).df()
    assert (features["attr_touch_count"] > 0).sum() > 100
    touches = demo_con.sql(
        "select touchpoint_id, lead_id, channel, is_paid_channel, touched_at "
        "from staging.stg_crm__touchpoints"
    ).df()
    seen = features[["lead_id", "as_of_date"]].merge(touches, on="lead_id")
    seen = seen[seen["touched_at"] < pd.to_datetime(seen["as_of_date"])]
    seen = seen.sort_values(["lead_id", "as_of_date", "touched_at", "touchpoint_id"])
    age = (pd.to_datetime(seen["as_of_date"]) - seen["touched_at"]).dt.total_seconds() / 86400
    seen = seen.assign(
        weight=2.0 ** (-age / half_life),
        recent=age <= 30,
        group=seen["channel"].where(seen["channel"].isin(channels), "other"),
    )
    keys = ["lead_id", "as_of_date"]
    grouped = seen.groupby(keys)
    expected = pd.DataFrame(
        {
            "attr_touch_count": grouped.size(),
            "attr_touches_last_30d": grouped["recent"].sum(),
            "attr_distinct_channel_count": grouped["channel"].nunique(),
            "attr_first_channel": grouped["channel"].first(),
            "attr_last_channel": grouped["channel"].last(),
            "attr_paid_touch_share": grouped["is_paid_channel"].mean(),
        }
    )
    decayed = seen.pivot_table(index=keys, columns="group", values="weight", aggfunc="sum")
    for name in [*channels, "other"]:
        expected[f"attr_decayed_touches_{name}"] = decayed.get(name, 0.0)
    expected = features[keys].merge(expected.reset_index(), on=keys, how="left")
    expected = expected.fillna({"attr_first_channel": "none", "attr_last_channel": "none"})
    expected = expected.fillna(0.0).set_index(keys).sort_index()
    actual = features.set_index(keys).sort_index()[expected.columns]
    for column in expected.columns:
        if column in ("attr_first_channel", "attr_last_channel"):
            assert (actual[column] == expected[column]).all(), column
        else:
            # Decayed counts are published rounded to 9 decimal places.
            tolerance = 5e-10 + 1e-15 if column.startswith("attr_decayed") else 1e-12
            np.testing.assert_allclose(
                actual[column].astype(float),
                expected[column].astype(float),
                rtol=0,
                atol=tolerance,
                err_msg=column,
            )


@pytest.mark.dbt
def test_channel_rankings_against_the_generators_true_effects(demo_con) -> None:
    """The table in docs/attribution.md. Only the claims made there are asserted: credit
    totals of the rules-based models follow touch volume more closely than the truth."""
    world = Path(os.environ.get("LEAD_SCORING_TEST_WORLD", DEMO_WORLD))
    truth_files = sorted((world / "ground_truth").glob("channel_effects.*"))
    if not truth_files:
        pytest.skip(f"no ground truth in {world}")
    truth = demo_con.sql(f"select channel, true_effect from '{truth_files[0]}'").df()
    table = channel_ranking_agreement(warehouse_channel_credits(demo_con), truth)
    print("\n" + table.to_string(index=False, float_format=lambda x: f"{x:+.2f}"))
    assert set(table["attribution_model"]) == {*MODELS, "touch_volume"}
    scores = table.drop(columns=["path_scope", "attribution_model"]).to_numpy()
    assert np.all(np.isnan(scores) | (np.abs(scores) <= 1 + 1e-12))
    rules = table[table["attribution_model"].isin(MODELS[:6])]
    assert (rules["spearman_volume"] > rules["spearman_total"]).all()
