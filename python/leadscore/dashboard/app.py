"""The lead scoring dashboard: ``streamlit run python/leadscore/dashboard/app.py``.

It reads only the serving file (``LEAD_SCORING_SERVING_PATH``, default
``warehouse/serving.duckdb``), read-only, with a new connection for every page load, so a
publish between two loads shows on the next one. Every figure comes from
:mod:`leadscore.dashboard.queries`; this module formats and lays them out. Figures a test
reads sit in containers with a stable key (CSS class ``st-key-<key>``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from leadscore.dashboard import queries

EMPTY = "—"
# st.table renders each cell as Markdown: a drift bin ">= 10" would become a quote.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~$:])")
LEADERBOARD_ROWS = 50
ACCOUNT_ROWS = 50
DRIFT_ROWS = 20
DEFAULT_ATTRIBUTION_MODEL = "linear"
DEFAULT_PATH_SCOPE = "account"
ALL_TIERS = "All"
PERIOD_LABELS = {
    "out_of_sample": "Out-of-sample snapshots (after the model's validation window)",
    "no_model": "Every matured snapshot, rules score only (no model is promoted)",
    "in_sample": "In-sample snapshots",
    "unknown": "Matured snapshots (the card records no windows)",
}
STYLE = """
<style>
[data-testid="stMetricValue"] { font-size: 1.75rem; }
[data-testid="stMetricValue"] p { white-space: normal; overflow-wrap: anywhere; }
[data-testid="stTable"] td, [data-testid="stTable"] th { font-size: 0.85rem; }
.st-key-build-info p { margin-bottom: 0; }
</style>
"""

Connection = duckdb.DuckDBPyConnection


# --- Formatting -----------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def fmt_int(value: Any) -> str:
    """``4528`` -> ``4,528``."""
    return EMPTY if _missing(value) else f"{int(value):,}"


def fmt_num(value: Any, digits: int = 1) -> str:
    """``281.977`` -> ``282.0``."""
    return EMPTY if _missing(value) else f"{float(value):,.{digits}f}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    """A share 0-1 as a percent: ``0.2663`` -> ``26.6%``."""
    return EMPTY if _missing(value) else f"{100 * float(value):.{digits}f}%"


def fmt_money(value: Any, compact: bool = False) -> str:
    """USD: ``$1,828,134``, or ``$1.83M`` when compact."""
    if _missing(value):
        return EMPTY
    amount = float(value)
    if compact and abs(amount) >= 1_000_000:
        return f"${amount / 1_000_000:,.2f}M"
    if compact and abs(amount) >= 1_000:
        return f"${amount / 1_000:,.1f}K"
    return f"${amount:,.0f}"


def fmt_date(value: Any) -> str:
    """A date as ISO ``2026-01-01``."""
    if _missing(value) or value is pd.NaT:
        return EMPTY
    if isinstance(value, datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return value.isoformat() if isinstance(value, date) else str(value)


def fmt_month(value: Any) -> str:
    """A month as ``Feb 2024``."""
    return EMPTY if _missing(value) else pd.Timestamp(value).strftime("%b %Y")


def humanize(name: Any) -> str:
    """``paid_search`` -> ``Paid search``."""
    return EMPTY if _missing(name) else str(name).replace("_", " ").capitalize()


def spaced(value: Any) -> str:
    """A category with spaces for underscores: ``financial_services`` -> ``financial services``."""
    return EMPTY if _missing(value) else str(value).replace("_", " ")


def text(value: Any) -> str:
    """A value as text, ``—`` when missing or empty."""
    return EMPTY if _missing(value) or str(value) == "" else str(value)


def escape_markdown(value: str) -> str:
    """Backslash-escape Markdown punctuation, so a cell is never read as Markdown structure.

    (Streamlit still typesets a few sequences, e.g. ``>=`` shows as ``≥``.)
    """
    return MARKDOWN_SPECIAL.sub(r"\\\1", value)


def display_table(
    frame: pd.DataFrame, columns: dict[str, tuple[str, Callable[[Any], str]]]
) -> pd.DataFrame:
    """Keep, format, escape and rename columns: ``{column: (label, formatter)}``."""
    return pd.DataFrame(
        {
            label: [escape_markdown(fmt(value)) for value in frame[column]]
            for column, (label, fmt) in columns.items()
        }
    )


# --- Layout helpers -------------------------------------------------------------------------


def keyed_metric(key: str, label: str, value: str, help_text: str | None = None) -> None:
    """An ``st.metric`` in a container a test finds by ``.st-key-<key>``."""
    with st.container(key=key):
        st.metric(label, value, help=help_text, border=True)


def keyed_table(key: str, frame: pd.DataFrame) -> None:
    """An ``st.table`` (rendered as an HTML table) in a keyed container."""
    with st.container(key=key):
        st.table(frame, hide_index=True)


def metric_row(metrics: Sequence[tuple[str, str, str, str | None]]) -> None:
    """One row of keyed metrics: ``(key, label, value, help)``."""
    for column, (key, label, value, help_text) in zip(
        st.columns(len(metrics)), metrics, strict=True
    ):
        with column:
            keyed_metric(key, label, value, help_text)


def scored_by(info: queries.BuildInfo) -> str:
    """``Model v0003`` or ``Rules fallback · rules:…``."""
    if info.is_rules_fallback:
        return f"Rules fallback · `{info.model_version}`"
    return f"Model `{info.model_version}`"


def header_field(key: str, label: str, value: str) -> None:
    """A small label and its value; the value alone in the keyed container."""
    st.caption(label)
    with st.container(key=key):
        st.markdown(value)


def build_header(info: queries.BuildInfo) -> None:
    """The publish this page shows: scoring date, scorer, build id and publish time."""
    with st.container(key="build-info", border=True):
        fields = [
            ("scoring-date", "Scoring date", f"**{fmt_date(info.scoring_date)}**"),
            ("scored-by", "Scored by", f"**{scored_by(info)}**"),
            ("build-id", "Build", f"`{info.build_id}`"),
            (
                "published-at",
                "Published (UTC)",
                f"**{info.published_at.strftime('%Y-%m-%d %H:%M:%S')}**",
            ),
        ]
        for column, field in zip(st.columns([1, 1.4, 1.6, 1.2]), fields, strict=True):
            with column:
                header_field(*field)
    if info.build_ids != 1:
        st.error(
            f"The serving file mixes {info.build_ids} build ids: it was not written by "
            "`leadscore publish`. Run `leadscore publish --verify`."
        )


def fallback_note(info: queries.BuildInfo) -> None:
    """Say so when the rules points table, not a trained model, scored the leads."""
    if info.is_rules_fallback:
        with st.container(key="fallback-note"):
            st.info(
                "These scores come from the **rules points table**, not a trained model: "
                f"{info.fallback_reason or 'no model scored'}. Each probability is the "
                "historical conversion rate of the lead's points band.",
                icon=":material/rule:",
            )


def tier_choice(con: Connection, key: str) -> str | None:
    """A tier filter bound to the URL (``?<key>=A``); None for all tiers."""
    funnel = queries.tier_funnel(con)
    actions = " · ".join(
        f"{tier} {action}"
        for tier, action in zip(funnel["tier"], funnel["tier_action"], strict=True)
    )
    choice = st.segmented_control(
        "Tier",
        [ALL_TIERS, *funnel["tier"]],
        default=ALL_TIERS,
        required=True,
        key=key,
        bind="query-params",
        help=actions,
    )
    return None if choice in (None, ALL_TIERS) else str(choice)


# --- Pages ----------------------------------------------------------------------------------


def funnel_page(con: Connection, info: queries.BuildInfo) -> None:
    """Leads per tier, expected conversions and the tier actions."""
    st.title("Tier funnel")
    st.caption(
        "Today's open leads cut into tiers sized to sales capacity. Expected conversions are "
        "the sum of calibrated probabilities: the opportunities the tier should open within "
        "the label horizon."
    )
    build_header(info)
    fallback_note(info)
    totals = queries.funnel_totals(con)
    metric_row(
        [
            ("total-leads", "Open leads scored", fmt_int(totals.leads), None),
            (
                "total-expected",
                "Expected conversions",
                fmt_num(totals.expected_conversions),
                "Sum of calibrated probabilities over every scored lead.",
            ),
            (
                "worked-leads",
                "Leads to work this week",
                fmt_int(totals.worked_leads),
                f"Leads in the tiers with weekly sales capacity, of a capacity of "
                f"{fmt_int(totals.weekly_capacity)} (seeds/sales_capacity.csv).",
            ),
            ("expected-rate", "Expected conversion rate", fmt_pct(totals.expected_rate), None),
        ]
    )
    funnel = queries.tier_funnel(con)
    chart = funnel.assign(tier=funnel["tier"] + " · " + funnel["tier_action"])
    left, right = st.columns(2)
    for column, measure, title in (
        (left, "leads", "Leads per tier"),
        (right, "expected_conversions", "Expected conversions per tier"),
    ):
        with column:
            st.subheader(title)
            st.bar_chart(
                chart,
                x="tier",
                y=measure,
                x_label="",
                y_label="",
                horizontal=True,
                sort=False,
                height=220,
            )
    st.subheader("Tiers")
    keyed_table("funnel-table", funnel_table(funnel))
    st.caption(
        "Historical rate: the latest matured snapshots scored the same way and cut at today's "
        "tier floors, i.e. how often that cut converted before."
    )


def funnel_table(funnel: pd.DataFrame) -> pd.DataFrame:
    """The tier summary with readable labels."""
    table = display_table(
        funnel,
        {
            "tier": ("Tier", text),
            "tier_action": ("Action", text),
            "reps": ("Reps", fmt_int),
            "weekly_capacity": ("Weekly capacity", fmt_int),
            "leads": ("Leads", fmt_int),
            "expected_conversions": ("Expected conversions", fmt_num),
            "expected_conversion_rate": ("Expected rate", fmt_pct),
            "history_conversion_rate": ("Historical rate", fmt_pct),
            "history_rows": ("History rows", fmt_int),
        },
    )
    ranges = [
        f"{fmt_pct(low)} to {fmt_pct(high)}"
        for low, high in zip(funnel["min_probability"], funnel["max_probability"], strict=True)
    ]
    table.insert(5, "Probability range", ranges)
    return table


def leaderboard_page(con: Connection, info: queries.BuildInfo) -> None:
    """The most likely leads, with tier and reasons, filterable by tier."""
    st.title("Lead leaderboard")
    st.caption(
        "Open leads by calibrated probability that their account opens an opportunity within "
        "the label horizon, with the three reasons that raised it the most."
    )
    build_header(info)
    tier = tier_choice(con, "tier")
    totals = queries.lead_totals(con, tier)
    metric_row(
        [
            ("leads-in-view", "Leads", fmt_int(totals.leads), None),
            (
                "expected-in-view",
                "Expected conversions",
                fmt_num(totals.expected_conversions),
                None,
            ),
            ("top-probability", "Highest probability", fmt_pct(totals.top_probability), None),
        ]
    )
    board = queries.lead_leaderboard(con, tier, LEADERBOARD_ROWS)
    st.subheader(f"Top {len(board)} leads" + (f" in tier {tier}" if tier else ""))
    keyed_table(
        "leaderboard-table",
        display_table(
            board,
            {
                "priority_rank": ("Rank", fmt_int),
                "lead_id": ("Lead", text),
                "account_id": ("Account", text),
                "tier": ("Tier", text),
                "conversion_probability": ("Probability", fmt_pct),
                "score": ("Score", fmt_int),
                "reason_1": ("Reason 1", text),
                "reason_2": ("Reason 2", text),
                "reason_3": ("Reason 3", text),
            },
        ),
    )
    st.caption("Score: 1-100 against the latest matured snapshots scored the same way.")


def accounts_page(con: Connection, info: queries.BuildInfo) -> None:
    """Accounts by opportunity probability, with buying-committee coverage and gaps."""
    st.title("Accounts")
    st.caption(
        "Accounts with an open lead, by the probability that the account opens an opportunity "
        "within the label horizon, with who of the buying committee is engaged and who is not."
    )
    build_header(info)
    totals = queries.account_totals(con)
    metric_row(
        [
            ("accounts-scored", "Accounts scored", fmt_int(totals.accounts), None),
            (
                "expected-opportunities",
                "Expected opportunities",
                fmt_num(totals.expected_opportunities),
                "Sum of the accounts' opportunity probabilities.",
            ),
            (
                "tier-a-gaps",
                "Tier A accounts missing a committee role",
                f"{fmt_int(totals.tier_a_with_gap)} of {fmt_int(totals.tier_a_accounts)}",
                None,
            ),
            (
                "full-committee",
                "Accounts with the full committee",
                fmt_int(totals.fully_covered),
                None,
            ),
        ]
    )
    tier = tier_choice(con, "account_tier")
    accounts = queries.account_view(con, tier, ACCOUNT_ROWS)
    st.subheader(f"Top {len(accounts)} accounts" + (f" in tier {tier}" if tier else ""))
    keyed_table("accounts-table", accounts_table(accounts))


def missing_roles(value: Any) -> str:
    """The missing committee roles, ``none`` when the whole committee is engaged."""
    return "none" if _missing(value) or str(value) == "" else str(value)


def accounts_table(accounts: pd.DataFrame) -> pd.DataFrame:
    """The account view with committee coverage as ``covered of total``."""
    table = display_table(
        accounts,
        {
            "priority_rank": ("Rank", fmt_int),
            "account_id": ("Account", text),
            "tier": ("Tier", text),
            "opportunity_probability": ("Opportunity probability", fmt_pct),
            "missing_roles": ("Missing roles", missing_roles),
            "scored_leads": ("Open leads", fmt_int),
            "top_lead_id": ("Top lead", text),
            "top_lead_probability": ("Top lead probability", fmt_pct),
            "reason_1": ("Why", text),
        },
    )
    coverage = [
        f"{fmt_int(covered)} of {fmt_int(total)}"
        for covered, total in zip(accounts["roles_covered"], accounts["roles_total"], strict=True)
    ]
    table.insert(4, "Committee coverage", coverage)
    return table


def attribution_page(con: Connection, info: queries.BuildInfo) -> None:
    """Credit per channel under each attribution model."""
    st.title("Channel attribution")
    st.caption(
        "Opportunities credited to marketing channels by eight attribution models. Compare "
        "models within one path scope; never add the scopes (each conversion counts once in "
        "each)."
    )
    build_header(info)
    scopes = queries.attribution_scopes(con)
    models = queries.attribution_models(con)
    if not scopes or not models:
        st.info("No conversion with a touch yet: fct_channel_attributions is empty.")
        return
    left, right = st.columns(2)
    with left:
        scope = st.selectbox(
            "Path scope",
            scopes,
            index=scopes.index(DEFAULT_PATH_SCOPE) if DEFAULT_PATH_SCOPE in scopes else 0,
            format_func=lambda value: f"{humanize(value)} paths",
            key="scope",
            bind="query-params",
        )
    with right:
        model = st.selectbox(
            "Attribution model",
            models,
            index=models.index(DEFAULT_ATTRIBUTION_MODEL)
            if DEFAULT_ATTRIBUTION_MODEL in models
            else 0,
            format_func=humanize,
            key="model",
            bind="query-params",
        )
    attribution_figures(con, model, scope)


def attribution_figures(con: Connection, model: str, scope: str) -> None:
    """Totals, chart and tables of one model in one scope, then every model side by side."""
    totals = queries.attribution_totals(con, model, scope)
    metric_row(
        [
            ("attributed-conversions", "Conversions credited", fmt_num(totals.conversions), None),
            (
                "attributed-pipeline",
                "Pipeline credited",
                fmt_money(totals.pipeline_amount, compact=True),
                None,
            ),
            ("channels", "Channels", fmt_int(totals.channels), None),
            (
                "months",
                "Conversion months",
                f"{fmt_month(totals.first_month)} to {fmt_month(totals.last_month)}",
                None,
            ),
        ]
    )
    credit = queries.channel_credit(con, model, scope)
    st.subheader(f"{humanize(model)} credit per channel")
    chart = credit.assign(channel=credit["channel"].map(humanize))
    st.bar_chart(
        chart,
        x="channel",
        y="attributed_conversions",
        x_label="",
        y_label="attributed conversions",
        horizontal=True,
        sort="-attributed_conversions",
        height=320,
    )
    keyed_table(
        "attribution-table",
        display_table(
            credit,
            {
                "channel": ("Channel", humanize),
                "attributed_conversions": ("Attributed conversions", fmt_num),
                "share_of_conversions": ("Share", fmt_pct),
                "attributed_pipeline_amount": ("Attributed pipeline", fmt_money),
                "touchpoint_count": ("Credited touches", fmt_int),
                "touched_conversion_count": ("Conversions touched", fmt_int),
            },
        ),
    )
    st.subheader("Every model side by side (attributed conversions)")
    comparison = queries.attribution_comparison(con, scope)
    columns = {"channel": ("Channel", humanize)}
    columns |= {name: (humanize(name), fmt_num) for name in comparison.columns if name != "channel"}
    keyed_table("attribution-comparison", display_table(comparison, columns))


def monitoring_page(con: Connection, info: queries.BuildInfo) -> None:
    """Model health verdict, feature drift, backtest and segment performance."""
    st.title("Drift and backtest")
    st.caption(
        "Is the model still fit to score? Drift of every feature from the model's test window, "
        "the backtest of the model and of the rules score on matured snapshots, and fairness "
        "by segment."
    )
    build_header(info)
    health = queries.model_health(con)
    if health is None:
        st.warning("fct_model_health is empty: the monitoring models have not run.")
        return
    health_verdict(health)
    st.divider()
    drift_section(con, health)
    st.divider()
    backtest_section(con)
    st.divider()
    segment_section(con, health)


def health_verdict(health: dict[str, Any]) -> None:
    """The verdict, the model and its age, the worst drift and the test AUC."""
    with st.container(key="health-verdict"):
        if health["is_retrain_due"]:
            st.error(f"**Retraining due:** {health['retrain_reasons']}", icon=":material/warning:")
        else:
            st.success("**No retraining due.**", icon=":material/check_circle:")
    model = health["model_version"]
    age = health["model_age_days"]
    metric_row(
        [
            (
                "monitored-model",
                "Monitored model",
                f"{model} · {humanize(health['model_type'])}" if model else "none promoted",
                health["status_note"],
            ),
            (
                "model-age",
                f"Model age (retrain after {fmt_int(health['max_model_age_days'])} days)",
                EMPTY if _missing(age) else f"{fmt_int(age)} days",
                "Days from the model's data date (test window end + label horizon) to the "
                "scoring date.",
            ),
            (
                "test-auc",
                "ROC AUC on its test window",
                fmt_num(health["card_test_roc_auc"], 3),
                None,
            ),
        ]
    )
    metric_row(
        [
            (
                "worst-drift",
                "Worst drifting feature",
                text(health["worst_drift_feature"]),
                None,
            ),
            ("worst-psi", "Its PSI", fmt_num(health["worst_drift_psi"], 3), None),
            ("score-psi", "Score PSI", fmt_num(health["score_psi"], 3), None),
        ]
    )


def drift_section(con: Connection, health: dict[str, Any]) -> None:
    """PSI per feature with the warn and error thresholds."""
    st.subheader("Feature drift")
    warn, error = health["drift_warn_psi"], health["drift_error_psi"]
    st.caption(
        f"Population stability index from the model's test window to today. PSI ≥ "
        f"{fmt_num(warn, 2)} warns (worth a look), ≥ {fmt_num(error, 2)} fails the build "
        "(a large shift: retrain)."
    )
    drift = queries.feature_drift(con, DRIFT_ROWS)
    if drift.empty:
        with st.container(key="drift-empty"):
            st.info(f"No drift measured: {health['status_note']}.")
        return
    counts = queries.drift_counts(con)
    st.markdown(
        " · ".join(f"**{fmt_int(count)}** {status}" for status, count in counts.items())
        + f" — the {len(drift)} largest PSIs:"
    )
    keyed_table(
        "drift-table",
        display_table(
            drift,
            {
                "feature_name": ("Feature", text),
                "feature_kind": ("Kind", text),
                "psi": ("PSI", lambda value: fmt_num(value, 3)),
                "ks": ("KS", lambda value: fmt_num(value, 3)),
                "drift_status": ("Status", text),
                "most_shifted_bin": ("Most shifted bin", text),
                "psi_vs_card": ("PSI vs training window", lambda value: fmt_num(value, 3)),
            },
        ),
    )


def backtest_section(con: Connection) -> None:
    """The model and the rules score per tier and per walk-forward window."""
    st.subheader("Backtest by tier")
    tiers = queries.backtest_tiers(con)
    if tiers.empty:
        st.info("The backtest is empty: no matured snapshot yet.")
        return
    period = tiers["sample_period"].iloc[0]
    st.caption(
        f"{PERIOD_LABELS.get(period, humanize(period))}, "
        f"{fmt_date(tiers['first_as_of_date'].min())} to "
        f"{fmt_date(tiers['last_as_of_date'].max())}: how each tier converted. Capture is the "
        "tier's share of all conversions; lift its rate over the overall rate."
    )
    keyed_table(
        "backtest-tiers",
        display_table(
            tiers,
            {
                "tier": ("Tier", text),
                "scorer": ("Scorer", humanize),
                "row_count": ("Lead-snapshots", fmt_int),
                "conversion_rate": ("Conversion rate", fmt_pct),
                "mean_predicted": ("Mean predicted", fmt_pct),
                "share_of_conversions": ("Capture", fmt_pct),
                "lift": ("Lift", lambda value: fmt_num(value, 2)),
            },
        ),
    )
    st.subheader("Backtest by window")
    keyed_table(
        "backtest-windows",
        display_table(
            queries.backtest_windows(con),
            {
                "window_name": ("Window", humanize),
                "scorer": ("Scorer", humanize),
                "sample_period": ("Period", humanize),
                "first_as_of_date": ("From", fmt_date),
                "last_as_of_date": ("To", fmt_date),
                "row_count": ("Lead-snapshots", fmt_int),
                "roc_auc": ("ROC AUC", lambda value: fmt_num(value, 3)),
                "conversion_rate": ("Conversion rate", fmt_pct),
                "mean_predicted": ("Mean predicted", fmt_pct),
                "expected_calibration_error": ("ECE", lambda value: fmt_num(value, 4)),
            },
        ),
    )


def segment_section(con: Connection, health: dict[str, Any]) -> None:
    """Tier-A rate and the four-fifths check per segment, failing segments first."""
    st.subheader("Segment performance and fairness")
    st.caption(
        f"{fmt_int(health['segments_failing_disparate_impact'])} segments get less than "
        f"{fmt_pct(health['disparate_impact_min_ratio'], 0)} of the best tier-A rate of their "
        "kind. A disparity is not proof of unfairness: compare it with the conversion-rate "
        "ratio."
    )
    keyed_table(
        "segments-table",
        display_table(
            queries.segment_performance(con),
            {
                "segment_type": ("Segment", humanize),
                "segment_value": ("Value", spaced),
                "scored_leads_today": ("Leads today", fmt_int),
                "tier_a_rate_today": ("Tier A rate", fmt_pct),
                "disparate_impact_ratio": ("Disparate impact", lambda value: fmt_num(value, 2)),
                "passes_disparate_impact_check": (
                    "Passes 4/5 rule",
                    lambda value: EMPTY if _missing(value) else ("yes" if value else "no"),
                ),
                "backtest_conversion_rate": ("Backtest conversion rate", fmt_pct),
                "conversion_rate_ratio": ("Conversion-rate ratio", lambda value: fmt_num(value, 2)),
                "model_roc_auc": ("Model AUC", lambda value: fmt_num(value, 3)),
                "rules_roc_auc": ("Rules AUC", lambda value: fmt_num(value, 3)),
            },
        ),
    )


PAGES: tuple[tuple[Callable[[Connection, queries.BuildInfo], None], str, str, str], ...] = (
    (funnel_page, "Tier funnel", "funnel", ":material/filter_alt:"),
    (leaderboard_page, "Lead leaderboard", "leaderboard", ":material/leaderboard:"),
    (accounts_page, "Accounts", "accounts", ":material/domain:"),
    (attribution_page, "Channel attribution", "attribution", ":material/hub:"),
    (monitoring_page, "Drift and backtest", "monitoring", ":material/monitor_heart:"),
)


# --- Entry point ----------------------------------------------------------------------------


def sidebar(path: Path, info: queries.BuildInfo) -> None:
    """Where the data comes from and how to refresh it."""
    with st.sidebar:
        st.caption(
            f"Read-only from **{path.name}** (build `{info.build_id}`), reopened on every page "
            "load: reload to see the latest publish."
        )


def render(path: Path) -> None:
    """Open the serving file for this page load, run the chosen page, close it."""
    with queries.open_serving(path) as con:
        missing = queries.missing_tables(con)
        if missing:
            st.error(
                f"{path} is not a complete serving file (no {', '.join(missing)}). Publish "
                "the warehouse again with `leadscore publish`."
            )
            return
        info = queries.build_info(con)
        pages = [
            st.Page(
                partial(page, con, info), title=title, url_path=url, icon=icon, default=index == 0
            )
            for index, (page, title, url, icon) in enumerate(PAGES)
        ]
        selected = st.navigation(pages)
        sidebar(path, info)
        selected.run()


def main() -> None:
    """The Streamlit script: one read of the serving file per run."""
    st.set_page_config(page_title="Lead scoring", page_icon=":material/target:", layout="wide")
    st.html(STYLE)
    path = queries.serving_path()
    try:
        render(path)
    except queries.ServingFileMissingError as missing:
        st.title("Lead scoring")
        with st.container(key="serving-missing"):
            st.error(str(missing), icon=":material/database_off:")
    except duckdb.Error as error:
        st.title("Lead scoring")
        with st.container(key="serving-error"):
            st.error(
                f"The serving file {path} could not be read: {error}. If it is being replaced, "
                "reload; otherwise publish again with `leadscore publish`.",
                icon=":material/error:",
            )


if __name__ == "__main__":
    main()
