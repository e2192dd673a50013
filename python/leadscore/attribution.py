"""Data-driven multi-touch attribution: Markov removal effects and Shapley values over channels.

The warehouse does the heavy lifting: it orders every touch into conversion and
non-conversion paths and aggregates them to transition counts (for the Markov chain) and
channel-set counts (for Shapley). The functions here turn those small aggregates into one
number per channel, exactly and deterministically:

* :func:`markov_removal_effects` builds the first-order chain ``(start) -> channel -> ... ->
  (conversion) | (null)`` from transition counts and solves the absorbing chain's linear
  equations with :func:`numpy.linalg.solve` (no simulation). A channel's removal effect is
  the relative drop in the probability of reaching ``(conversion)`` from ``(start)`` when
  every transition into the channel is redirected to ``(null)``.
* :func:`shapley_values` computes exact Shapley values of a coalition game given as a vector
  of ``2**n`` coalition values; :func:`channel_set_game` builds that game from channel-set
  counts (``v(S)`` = conversion rate, or conversions, of the paths whose channel set is a
  subset of ``S``).
* :func:`normalized_shares` turns either into shares that sum to 1, which the warehouse
  spreads over each conversion's touches.

The ``*_frame`` functions apply these per ``path_scope`` to pandas frames; they are what the
thin dbt Python models call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import factorial
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import duckdb

START = "(start)"
CONVERSION = "(conversion)"
NULL = "(null)"
SPECIAL_STATES = frozenset({START, CONVERSION, NULL})

# 2**n coalitions: 16 channels is 65,536 coalitions, far above the ~10-12 channels of a real
# taxonomy, and still instant. Beyond that, exact Shapley is the wrong tool.
MAX_SHAPLEY_PLAYERS = 16

ShapleyValue = Literal["conversion_rate", "conversions"]


@dataclass(frozen=True)
class MarkovResult:
    """Removal effects of a first-order Markov attribution model.

    Attributes
    ----------
    channels:
        The channel states, sorted.
    conversion_probability:
        Probability of absorption in ``(conversion)`` starting from ``(start)``.
    removed_conversion_probabilities:
        The same probability with each channel removed, aligned with ``channels``.
    removal_effects:
        ``1 - removed / conversion_probability`` per channel (0 when nothing converts).
    """

    channels: tuple[str, ...]
    conversion_probability: float
    removed_conversion_probabilities: np.ndarray
    removal_effects: np.ndarray


def _absorption_probability(
    transient_to_transient: np.ndarray, transient_to_conversion: np.ndarray
) -> np.ndarray:
    """Probability of ending in ``(conversion)`` from each transient state.

    With ``Q`` the transient-to-transient and ``r`` the transient-to-conversion transition
    probabilities, the absorption probabilities ``b`` satisfy ``b = Q b + r``, i.e.
    ``(I - Q) b = r``, which is solved exactly.
    """
    size = transient_to_transient.shape[0]
    return np.linalg.solve(np.eye(size) - transient_to_transient, transient_to_conversion)


def markov_removal_effects(
    from_states: Sequence[str], to_states: Sequence[str], counts: Sequence[float]
) -> MarkovResult:
    """Removal effects of every channel in a first-order absorbing Markov chain.

    Parameters
    ----------
    from_states, to_states, counts:
        Observed transitions and how often each occurred. States are channel names plus
        :data:`START`, :data:`CONVERSION` and :data:`NULL`; every path starts at ``START``
        and ends in ``CONVERSION`` or ``NULL``. Repeated (from, to) pairs are summed.

    Returns
    -------
    MarkovResult
        Channels, the conversion probability, and per channel the conversion probability
        without it and its removal effect.

    Raises
    ------
    ValueError
        On mismatched lengths, negative counts, transitions out of an absorbing state or
        into ``START``, or when there are no transitions out of ``START``.

    Notes
    -----
    Removing channel ``c`` redirects every transition into ``c`` to ``(null)``. A state
    with no observed outgoing transition (impossible for complete paths) is treated as
    going to ``(null)``. Because every observed state lies on a path that ends in an
    absorbing state, ``I - Q`` is non-singular, and zeroing columns of ``Q`` (removal)
    keeps it so.
    """
    from_arr = np.asarray(from_states, dtype=object)
    to_arr = np.asarray(to_states, dtype=object)
    count_arr = np.asarray(counts, dtype=float)
    if not (len(from_arr) == len(to_arr) == len(count_arr)):
        raise ValueError("from_states, to_states and counts must have the same length")
    if np.any(count_arr < 0):
        raise ValueError("transition counts must be non-negative")
    if np.any(np.isin(from_arr, [CONVERSION, NULL])):
        raise ValueError("no transition may leave an absorbing state")
    if np.any(to_arr == START):
        raise ValueError("no transition may enter the start state")

    channels = tuple(sorted((set(from_arr) | set(to_arr)) - SPECIAL_STATES))
    transient = (START, *channels)
    index = {state: i for i, state in enumerate(transient)}
    size = len(transient)
    conversion_col, null_col = size, size + 1
    index[CONVERSION], index[NULL] = conversion_col, null_col

    flows = np.zeros((size, size + 2))
    np.add.at(
        flows,
        (
            np.array([index[s] for s in from_arr], dtype=int),
            np.array([index[s] for s in to_arr], dtype=int),
        ),
        count_arr,
    )
    if flows[0].sum() == 0:
        raise ValueError("there are no transitions out of the start state")
    dead_ends = flows.sum(axis=1) == 0
    flows[dead_ends, null_col] = 1.0
    probabilities = flows / flows.sum(axis=1, keepdims=True)
    q = probabilities[:, :size]
    r = probabilities[:, conversion_col]

    base = float(_absorption_probability(q, r)[0])
    removed = np.empty(len(channels))
    for position, channel in enumerate(channels):
        column = index[channel]
        q_removed = q.copy()
        q_removed[:, column] = 0.0
        removed[position] = _absorption_probability(q_removed, r)[0]
    effects = 1.0 - removed / base if base > 0 else np.zeros(len(channels))
    # Removal can only lose converting paths; clip round-off below zero.
    return MarkovResult(channels, base, removed, np.clip(effects, 0.0, None))


def normalized_shares(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Shares that sum to 1: negative values count as 0; all zeros stay all zeros.

    Parameters
    ----------
    values:
        Removal effects or Shapley values.

    Returns
    -------
    numpy.ndarray
        ``max(value, 0) / sum(max(values, 0))``, or zeros when that sum is 0.
    """
    clipped = np.clip(np.asarray(values, dtype=float), 0.0, None)
    total = clipped.sum()
    return clipped / total if total > 0 else np.zeros_like(clipped)


def shapley_values(coalition_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Exact Shapley values of an ``n``-player game.

    Parameters
    ----------
    coalition_values:
        ``v`` of length ``2**n``: ``v[mask]`` is the value of the coalition whose members are
        the set bits of ``mask`` (player ``i`` is bit ``i``). ``v[0]`` is the empty coalition.

    Returns
    -------
    numpy.ndarray
        ``phi_i = sum over S not containing i of |S|! (n-|S|-1)! / n! * (v(S+i) - v(S))``.
        By efficiency they sum to ``v(N) - v(empty)``.

    Raises
    ------
    ValueError
        When the length is not a power of two or ``n`` exceeds :data:`MAX_SHAPLEY_PLAYERS`.
    """
    values = np.asarray(coalition_values, dtype=float)
    n_players = int(values.size).bit_length() - 1
    if values.ndim != 1 or values.size != 1 << n_players:
        raise ValueError("coalition_values must have length 2**n")
    if n_players > MAX_SHAPLEY_PLAYERS:
        raise ValueError(f"exact Shapley supports at most {MAX_SHAPLEY_PLAYERS} players")
    masks = np.arange(values.size)
    sizes = np.array([bin(mask).count("1") for mask in masks])
    weights = np.array(
        [
            factorial(s) * factorial(n_players - s - 1) / factorial(n_players)
            for s in range(n_players)
        ]
    )
    phi = np.empty(n_players)
    for player in range(n_players):
        bit = 1 << player
        without = masks[(masks & bit) == 0]
        phi[player] = np.sum(weights[sizes[without]] * (values[without | bit] - values[without]))
    return phi


def channel_set_game(
    channel_sets: Sequence[Sequence[str]],
    path_counts: Sequence[float],
    conversion_counts: Sequence[float],
    value: ShapleyValue = "conversion_rate",
) -> tuple[tuple[str, ...], np.ndarray]:
    """The coalition game of channels defined by path counts per channel set.

    Parameters
    ----------
    channel_sets:
        The distinct channels of each group of paths (order and repeats do not matter).
    path_counts, conversion_counts:
        How many paths have that channel set, and how many of them converted.
    value:
        ``"conversion_rate"``: ``v(S)`` = conversions / paths over the paths whose channel set
        is a subset of ``S`` (0 when there are none). ``"conversions"``: their conversions.

    Returns
    -------
    tuple
        The channels (sorted; player ``i`` is ``channels[i]``) and the ``2**n`` coalition
        values for :func:`shapley_values`.

    Raises
    ------
    ValueError
        On mismatched lengths, an unknown ``value`` or too many channels.
    """
    if not (len(channel_sets) == len(path_counts) == len(conversion_counts)):
        raise ValueError("channel_sets, path_counts and conversion_counts must align")
    if value not in ("conversion_rate", "conversions"):
        raise ValueError(f"unknown characteristic function {value!r}")
    channels = tuple(sorted({channel for channel_set in channel_sets for channel in channel_set}))
    if len(channels) > MAX_SHAPLEY_PLAYERS:
        raise ValueError(f"exact Shapley supports at most {MAX_SHAPLEY_PLAYERS} channels")
    bit = {channel: 1 << i for i, channel in enumerate(channels)}
    set_masks = np.array(
        [sum(bit[channel] for channel in set(channel_set)) for channel_set in channel_sets],
        dtype=int,
    )
    size = 1 << len(channels)
    paths = np.zeros(size)
    conversions = np.zeros(size)
    np.add.at(paths, set_masks, np.asarray(path_counts, dtype=float))
    np.add.at(conversions, set_masks, np.asarray(conversion_counts, dtype=float))
    # Sum over subsets (zeta transform): after the pass for bit i, f[S] holds the total over
    # all T that equal S outside the bits seen so far and are subsets of S on them.
    for player in range(len(channels)):
        step = 1 << player
        for table in (paths, conversions):
            view = table.reshape(-1, 2, step)
            view[:, 1, :] += view[:, 0, :]
    if value == "conversions":
        return channels, conversions
    rate = np.divide(conversions, paths, out=np.zeros(size), where=paths > 0)
    return channels, rate


def markov_removal_effects_frame(transitions: pd.DataFrame) -> pd.DataFrame:
    """Markov removal effects and shares per path scope.

    Parameters
    ----------
    transitions:
        Columns ``path_scope``, ``from_state``, ``to_state``, ``transition_count``.

    Returns
    -------
    pandas.DataFrame
        One row per (path_scope, channel): ``conversion_probability`` (whole chain),
        ``removed_conversion_probability``, ``removal_effect`` and ``channel_share`` (removal
        effects normalized to sum to 1 within the scope).
    """
    frames = []
    # Sorted, so the counts are added in the same order on every run (bit-identical output).
    transitions = transitions.sort_values(["path_scope", "from_state", "to_state"])
    for scope, group in transitions.groupby("path_scope", sort=True):
        result = markov_removal_effects(
            group["from_state"].tolist(),
            group["to_state"].tolist(),
            group["transition_count"].to_numpy(dtype=float),
        )
        frames.append(
            pd.DataFrame(
                {
                    "path_scope": scope,
                    "channel": list(result.channels),
                    "conversion_probability": result.conversion_probability,
                    "removed_conversion_probability": result.removed_conversion_probabilities,
                    "removal_effect": result.removal_effects,
                    "channel_share": normalized_shares(result.removal_effects),
                }
            )
        )
    return _concat(
        frames,
        [
            "path_scope",
            "channel",
            "conversion_probability",
            "removed_conversion_probability",
            "removal_effect",
            "channel_share",
        ],
    )


def shapley_values_frame(
    channel_sets: pd.DataFrame, value: ShapleyValue = "conversion_rate"
) -> pd.DataFrame:
    """Shapley values and shares of channels per path scope.

    Parameters
    ----------
    channel_sets:
        Columns ``path_scope``, ``channel_set`` (a list of channels), ``path_count`` and
        ``conversion_count``.
    value:
        The characteristic function, see :func:`channel_set_game`.

    Returns
    -------
    pandas.DataFrame
        One row per (path_scope, channel): ``shapley_value`` and ``channel_share`` (values
        clipped at 0 and normalized to sum to 1 within the scope).
    """
    frames = []
    # Sorted, so the counts are added in the same order on every run (bit-identical output).
    channel_sets = channel_sets.assign(
        _key=[" + ".join(sorted(channel_set)) for channel_set in channel_sets["channel_set"]]
    ).sort_values(["path_scope", "_key"])
    for scope, group in channel_sets.groupby("path_scope", sort=True):
        channels, game = channel_set_game(
            [list(channel_set) for channel_set in group["channel_set"]],
            group["path_count"].to_numpy(dtype=float),
            group["conversion_count"].to_numpy(dtype=float),
            value=value,
        )
        phi = shapley_values(game)
        frames.append(
            pd.DataFrame(
                {
                    "path_scope": scope,
                    "channel": list(channels),
                    "shapley_value": phi,
                    "channel_share": normalized_shares(phi),
                }
            )
        )
    return _concat(frames, ["path_scope", "channel", "shapley_value", "channel_share"])


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """Concatenate per-scope frames, keeping the columns when there are none."""
    if not frames:
        return pd.DataFrame(
            {
                column: pd.Series(dtype=object if column in ("path_scope", "channel") else float)
                for column in columns
            }
        )
    return pd.concat(frames, ignore_index=True)[columns]


def spearman(a: pd.Series, b: pd.Series) -> float:
    """Spearman rank correlation (average ranks for ties) over the pairs where both are known.

    NaN when either side is constant (no ranking to compare).
    """
    pairs = pd.concat([a, b], axis=1).dropna()
    ranks = pairs.rank(method="average")
    if len(ranks) < 2 or (ranks.nunique() < 2).any():
        return float("nan")
    return float(np.corrcoef(ranks.iloc[:, 0], ranks.iloc[:, 1])[0, 1])


def channel_ranking_agreement(
    channel_credits: pd.DataFrame, true_effects: pd.DataFrame
) -> pd.DataFrame:
    """How well each attribution model ranks channels, against known true effects.

    Parameters
    ----------
    channel_credits:
        Columns ``path_scope``, ``attribution_model``, ``channel``,
        ``attributed_conversions`` (the model's total credit for the channel) and
        ``touches`` (the channel's touches on the scope's paths, its exposure). Channels
        missing for a model count as 0 credit.
    true_effects:
        Columns ``channel`` and ``true_effect`` (e.g. the synthetic world's per-touch
        log-hazard effect).

    Returns
    -------
    pandas.DataFrame
        One row per (path_scope, attribution_model), plus a ``touch_volume`` baseline that
        ranks channels by touches alone: Spearman rank correlations (average ranks for ties)
        of the true effect with the total credit (``spearman_total``) and with the credit per
        touch (``spearman_per_touch``), and of the total credit with the touch volume
        (``spearman_volume``).
    """
    truth = true_effects.set_index("channel")["true_effect"].astype(float)
    rows = []
    for scope, scope_credits in channel_credits.groupby("path_scope", sort=True):
        touches = scope_credits.groupby("channel")["touches"].max().reindex(truth.index).fillna(0.0)
        models = {"touch_volume": touches}
        for model, group in scope_credits.groupby("attribution_model", sort=True):
            credit = group.set_index("channel")["attributed_conversions"]
            models[str(model)] = credit.reindex(truth.index).fillna(0.0).astype(float)
        for model, credit in models.items():
            per_touch = credit / touches.where(touches > 0)
            rows.append(
                {
                    "path_scope": scope,
                    "attribution_model": model,
                    "spearman_total": spearman(credit, truth),
                    "spearman_per_touch": spearman(per_touch, truth),
                    "spearman_volume": spearman(credit, touches),
                }
            )
    return pd.DataFrame(rows)


def warehouse_channel_credits(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Total credit and touches per path scope, attribution model and channel.

    Parameters
    ----------
    con:
        A DuckDB connection to a warehouse with ``marts.fct_touchpoint_attributions`` and
        ``intermediate.int_touchpoints_pathed``.
    """
    return con.sql(
        """
        with credits as (
            select path_scope, attribution_model, channel, sum(credit) as attributed_conversions
            from marts.fct_touchpoint_attributions
            group by path_scope, attribution_model, channel
        ),

        exposure as (
            select path_scope, channel, count(*) as touches
            from intermediate.int_touchpoints_pathed
            group by path_scope, channel
        )

        select credits.*, coalesce(exposure.touches, 0) as touches
        from credits
        left join exposure using (path_scope, channel)
        order by all
        """
    ).df()


def main(argv: Sequence[str] | None = None) -> int:
    """Print each model's channel-ranking agreement with a synthetic world's ground truth.

    ``python -m leadscore.attribution --warehouse W --truth T`` reads the credits from the
    warehouse ``W`` and the true effects from ``T`` (``channel_effects.csv`` or
    ``.parquet`` of the generator's ``ground_truth`` folder) and prints a Markdown table.
    """
    import argparse

    import duckdb

    parser = argparse.ArgumentParser(prog="python -m leadscore.attribution")
    parser.add_argument("--warehouse", required=True, help="the DuckDB warehouse file")
    parser.add_argument("--truth", required=True, help="ground_truth/channel_effects file")
    args = parser.parse_args(argv)
    with duckdb.connect(args.warehouse, read_only=True) as con:
        credits = warehouse_channel_credits(con)
        truth = con.sql(f"select channel, true_effect from '{args.truth}'").df()
    table = channel_ranking_agreement(credits, truth)
    print("| path_scope | model | rho(total, truth) | rho(per touch, truth) | rho(total, volume) |")
    print("|---|---|---:|---:|---:|")
    for row in table.itertuples(index=False):
        print(
            f"| {row.path_scope} | {row.attribution_model} | {row.spearman_total:+.2f} "
            f"| {row.spearman_per_touch:+.2f} | {row.spearman_volume:+.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
