"""Every figure the dashboard shows, as one SQL query each on the serving file.

The serving file (``leadscore publish``) is replaced atomically after every passing build,
so a reader opens it read-only for one page load and closes it (:func:`open_serving`). Each
function here takes that connection and returns a pandas DataFrame or plain values; the app
only formats and lays them out, so a test can compare what a page shows with these results
and with its own SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from leadscore.config import Settings

MANIFEST_TABLE = "publish_manifest"
SERVED_TABLES = (
    "fct_lead_scores",
    "fct_account_scores",
    "fct_lead_tier_summary",
    "fct_channel_attributions",
    "fct_feature_drift",
    "fct_score_backtest",
    "fct_segment_performance",
    "fct_model_health",
)
# Backtest periods in the order the dashboard prefers them: the model's life after its
# validation window first; `no_model` when only the rules score is backtested.
PERIOD_PREFERENCE = ("out_of_sample", "no_model", "unknown", "in_sample")


class ServingFileMissingError(FileNotFoundError):
    """No serving file at the configured path: nothing has been published yet."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"No serving file at {path}. Build and publish the warehouse first: `make run` "
            "(a full build, then publish), or `leadscore publish` after a passing build. "
            "Set LEAD_SCORING_SERVING_PATH to read another file."
        )
        self.path = path


@dataclass(frozen=True)
class BuildInfo:
    """Which publish the page shows, and who scored it."""

    build_id: str
    build_ids: int
    published_at: datetime
    tables: int
    scoring_date: date | None
    model_version: str
    is_rules_fallback: bool
    fallback_reason: str | None
    scored_leads: int


@dataclass(frozen=True)
class FunnelTotals:
    """Today's scored leads and what they should bring."""

    leads: int
    expected_conversions: float
    expected_rate: float | None
    worked_leads: int
    weekly_capacity: int


@dataclass(frozen=True)
class LeadTotals:
    """The leads of one tier (or all) on the leaderboard."""

    leads: int
    expected_conversions: float
    top_probability: float | None


@dataclass(frozen=True)
class AccountTotals:
    """Accounts with an open lead, their expected opportunities and committee gaps."""

    accounts: int
    expected_opportunities: float
    tier_a_accounts: int
    tier_a_with_gap: int
    fully_covered: int


@dataclass(frozen=True)
class AttributionTotals:
    """One attribution model in one path scope over every conversion month."""

    conversions: float
    pipeline_amount: float
    channels: int
    first_month: date | None
    last_month: date | None


def serving_path() -> Path:
    """The serving file: ``LEAD_SCORING_SERVING_PATH``, else ``warehouse/serving.duckdb``."""
    return Settings.from_env().serving_file


@contextmanager
def open_serving(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the serving file for one page load, closed afterwards.

    The file is attached to a new in-memory database rather than opened with
    ``duckdb.connect(path)``: DuckDB's Python client caches one database per path while any
    connection to it is open, so in a server with several sessions a new ``connect`` could
    keep returning the file a publish has just replaced. An attach always opens the file
    that is at the path now.

    Raises
    ------
    ServingFileMissingError
        When no file exists at ``path``.
    """
    if not path.exists():
        raise ServingFileMissingError(path)
    con = duckdb.connect(":memory:")
    try:
        con.execute("set enable_progress_bar = false")
        escaped = str(path).replace("'", "''")
        con.execute(f"attach '{escaped}' as serving (read_only)")
        con.execute("use serving")
        yield con
    finally:
        con.close()


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> tuple[Any, ...]:
    row = con.execute(sql, params).fetchone()
    assert row is not None, "an aggregate query returned no row"
    return row


def missing_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Served tables (and the manifest) the file does not hold; empty for a good publish."""
    present = {
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() "
            "where database_name = 'serving' and schema_name = 'main'"
        ).fetchall()
    }
    return [name for name in (MANIFEST_TABLE, *SERVED_TABLES) if name not in present]


def build_info(con: duckdb.DuckDBPyConnection) -> BuildInfo:
    """The publish's build id and time (``publish_manifest``) and today's scorer."""
    row = _one(
        con,
        f"""
        with manifest as (
            select
                min(build_id) as build_id,
                count(distinct build_id) as build_ids,
                max(published_at) as published_at,
                count(*) as tables
            from {MANIFEST_TABLE}
        ),
        scores as (
            select
                max(as_of_date) as scoring_date,
                coalesce(
                    string_agg(distinct model_version, ', ' order by model_version), 'none'
                ) as model_version,
                coalesce(bool_and(is_rules_fallback), false) as is_rules_fallback,
                min(fallback_reason) as fallback_reason,
                count(*) as scored_leads
            from fct_lead_scores
        )
        select * from manifest cross join scores
        """,
    )
    return BuildInfo(
        build_id=row[0],
        build_ids=int(row[1]),
        published_at=row[2],
        tables=int(row[3]),
        scoring_date=row[4],
        model_version=row[5],
        is_rules_fallback=bool(row[6]),
        fallback_reason=row[7],
        scored_leads=int(row[8]),
    )


def tier_funnel(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per tier: its action, capacity, leads today and expected conversions."""
    return con.execute(
        """
        select
            tier,
            tier_action,
            reps,
            weekly_capacity,
            leads,
            min_probability,
            max_probability,
            expected_conversions,
            expected_conversion_rate,
            history_rows,
            history_conversion_rate
        from fct_lead_tier_summary
        order by tier_order
        """
    ).df()


def funnel_totals(con: duckdb.DuckDBPyConnection) -> FunnelTotals:
    """All tiers together; worked leads are those in tiers with sales capacity."""
    row = _one(
        con,
        """
        select
            coalesce(sum(leads), 0),
            coalesce(sum(expected_conversions), 0),
            sum(expected_conversions) / nullif(sum(leads), 0),
            coalesce(sum(leads) filter (where weekly_capacity > 0), 0),
            coalesce(sum(weekly_capacity), 0)
        from fct_lead_tier_summary
        """,
    )
    return FunnelTotals(
        leads=int(row[0]),
        expected_conversions=float(row[1]),
        expected_rate=None if row[2] is None else float(row[2]),
        worked_leads=int(row[3]),
        weekly_capacity=int(row[4]),
    )


def tiers(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tiers in their order (A first)."""
    return [
        tier
        for (tier,) in con.execute(
            "select tier from fct_lead_tier_summary order by tier_order"
        ).fetchall()
    ]


def lead_leaderboard(
    con: duckdb.DuckDBPyConnection, tier: str | None = None, limit: int = 50
) -> pd.DataFrame:
    """The most likely leads (by ``priority_rank``, i.e. probability), optionally of one tier."""
    return con.execute(
        """
        select
            priority_rank,
            lead_id,
            account_id,
            tier,
            tier_action,
            conversion_probability,
            score,
            reason_1,
            reason_2,
            reason_3
        from fct_lead_scores
        where $tier::varchar is null or tier = $tier
        order by priority_rank
        limit $limit
        """,
        {"tier": tier, "limit": limit},
    ).df()


def lead_totals(con: duckdb.DuckDBPyConnection, tier: str | None = None) -> LeadTotals:
    """Leads, expected conversions and the best probability of one tier (or all)."""
    row = _one(
        con,
        """
        select count(*), coalesce(sum(conversion_probability), 0), max(conversion_probability)
        from fct_lead_scores
        where $tier::varchar is null or tier = $tier
        """,
        {"tier": tier},
    )
    return LeadTotals(
        leads=int(row[0]),
        expected_conversions=float(row[1]),
        top_probability=None if row[2] is None else float(row[2]),
    )


def account_view(
    con: duckdb.DuckDBPyConnection, tier: str | None = None, limit: int = 50
) -> pd.DataFrame:
    """The most likely accounts with their buying-committee coverage and missing roles.

    ``missing_roles`` lists ``committee_roles_missing`` with spaces for underscores.
    """
    return con.execute(
        """
        select
            priority_rank,
            account_id,
            tier,
            tier_action,
            opportunity_probability,
            scored_leads,
            len(committee_roles_covered) as roles_covered,
            committee_roles_total as roles_total,
            replace(array_to_string(committee_roles_missing, ', '), '_', ' ') as missing_roles,
            committee_gap,
            top_lead_id,
            top_lead_probability,
            top_lead_reason,
            reason_1
        from fct_account_scores
        where $tier::varchar is null or tier = $tier
        order by priority_rank
        limit $limit
        """,
        {"tier": tier, "limit": limit},
    ).df()


def account_totals(con: duckdb.DuckDBPyConnection) -> AccountTotals:
    """Accounts scored, expected opportunities, and tier-A accounts missing committee roles."""
    row = _one(
        con,
        """
        select
            count(*),
            coalesce(sum(opportunity_probability), 0),
            count(*) filter (where tier = 'A'),
            count(*) filter (where tier = 'A' and len(committee_roles_missing) > 0),
            count(*) filter (where len(committee_roles_missing) = 0)
        from fct_account_scores
        """,
    )
    return AccountTotals(
        accounts=int(row[0]),
        expected_opportunities=float(row[1]),
        tier_a_accounts=int(row[2]),
        tier_a_with_gap=int(row[3]),
        fully_covered=int(row[4]),
    )


def attribution_scopes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The path scopes present (``account``, ``lead``)."""
    return [
        scope
        for (scope,) in con.execute(
            "select distinct path_scope from fct_channel_attributions order by 1"
        ).fetchall()
    ]


def attribution_models(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The attribution models present, alphabetically."""
    return [
        model
        for (model,) in con.execute(
            "select distinct attribution_model from fct_channel_attributions order by 1"
        ).fetchall()
    ]


def channel_credit(con: duckdb.DuckDBPyConnection, model: str, scope: str) -> pd.DataFrame:
    """Credit per channel under one attribution model and path scope, all months summed."""
    return con.execute(
        """
        select
            channel,
            sum(attributed_conversions) as attributed_conversions,
            sum(attributed_conversions)
                / sum(sum(attributed_conversions)) over () as share_of_conversions,
            sum(attributed_pipeline_amount) as attributed_pipeline_amount,
            sum(touchpoint_count) as touchpoint_count,
            sum(touched_conversion_count) as touched_conversion_count
        from fct_channel_attributions
        where attribution_model = $model and path_scope = $scope
        group by channel
        order by attributed_conversions desc, channel
        """,
        {"model": model, "scope": scope},
    ).df()


def attribution_totals(con: duckdb.DuckDBPyConnection, model: str, scope: str) -> AttributionTotals:
    """Conversions and pipeline credited by one model in one scope, and the months covered."""
    row = _one(
        con,
        """
        select
            coalesce(sum(attributed_conversions), 0),
            coalesce(sum(attributed_pipeline_amount), 0),
            count(distinct channel),
            min(conversion_month),
            max(conversion_month)
        from fct_channel_attributions
        where attribution_model = $model and path_scope = $scope
        """,
        {"model": model, "scope": scope},
    )
    return AttributionTotals(
        conversions=float(row[0]),
        pipeline_amount=float(row[1]),
        channels=int(row[2]),
        first_month=row[3],
        last_month=row[4],
    )


def attribution_comparison(con: duckdb.DuckDBPyConnection, scope: str) -> pd.DataFrame:
    """Attributed conversions per channel (rows) and attribution model (columns)."""
    long = con.execute(
        """
        select channel, attribution_model, sum(attributed_conversions) as conversions
        from fct_channel_attributions
        where path_scope = $scope
        group by all
        """,
        {"scope": scope},
    ).df()
    if long.empty:
        return pd.DataFrame(columns=["channel"])
    wide = long.pivot(index="channel", columns="attribution_model", values="conversions")
    wide = wide.fillna(0.0).sort_index(axis=1)
    wide = wide.loc[wide.mean(axis=1).sort_values(ascending=False).index]
    return wide.reset_index().rename_axis(columns=None)


def model_health(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The monitoring verdict (``fct_model_health``, one row per scoring date: the latest)."""
    frame = con.execute("select * from fct_model_health order by scoring_date desc limit 1").df()
    if frame.empty:
        return None
    row = frame.astype(object).where(frame.notna(), None).iloc[0]
    return {str(key): value for key, value in row.items()}


def feature_drift(con: duckdb.DuckDBPyConnection, limit: int = 20) -> pd.DataFrame:
    """The most drifted features (and the score) by PSI from the model's test window."""
    return con.execute(
        """
        select
            feature_name,
            feature_kind,
            psi,
            ks,
            drift_status,
            most_shifted_bin,
            current_null_share,
            psi_vs_card
        from fct_feature_drift
        order by psi desc nulls last, feature_name
        limit $limit
        """,
        {"limit": limit},
    ).df()


def drift_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Features per drift status (``ok``, ``warn``, ``error``, ``no_reference``)."""
    return {
        status: int(count)
        for status, count in con.execute(
            "select drift_status, count(*) from fct_feature_drift group by 1 order by 1"
        ).fetchall()
    }


def _preferred_period_sql(breakdown: str) -> str:
    cases = " ".join(
        f"when '{period}' then {rank}" for rank, period in enumerate(PERIOD_PREFERENCE)
    )
    return f"""
        select sample_period
        from fct_score_backtest
        where breakdown = '{breakdown}'
        group by sample_period
        order by case sample_period {cases} else {len(PERIOD_PREFERENCE)} end
        limit 1
    """


def backtest_tiers(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Conversion rate, capture and lift per tier and scorer, in the preferred period.

    The period is out of sample when a model is promoted (its life after validation), else
    ``no_model`` (the rules score on every matured snapshot).
    """
    return con.execute(
        f"""
        select
            bucket as tier,
            scorer,
            sample_period,
            first_as_of_date,
            last_as_of_date,
            row_count,
            conversion_rate,
            mean_predicted,
            share_of_population,
            share_of_conversions,
            lift
        from fct_score_backtest
        where breakdown = 'tier'
            and sample_period = ({_preferred_period_sql("tier")})
        order by bucket_order, scorer
        """
    ).df()


def backtest_windows(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """ROC AUC and calibration per walk-forward window and scorer."""
    return con.execute(
        """
        select
            bucket as window_name,
            scorer,
            sample_period,
            first_as_of_date,
            last_as_of_date,
            row_count,
            positive_rows,
            roc_auc,
            conversion_rate,
            mean_predicted,
            expected_calibration_error
        from fct_score_backtest
        where breakdown = 'window'
        order by bucket_order, scorer
        """
    ).df()


def segment_performance(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Fairness and performance per segment: failing the four-fifths check first."""
    return con.execute(
        """
        select
            segment_type,
            segment_value,
            scored_leads_today,
            tier_a_rate_today,
            is_judged,
            disparate_impact_ratio,
            passes_disparate_impact_check,
            backtest_conversion_rate,
            conversion_rate_ratio,
            model_roc_auc,
            rules_roc_auc
        from fct_segment_performance
        order by
            passes_disparate_impact_check,
            segment_type,
            disparate_impact_ratio nulls last,
            segment_value
        """
    ).df()
