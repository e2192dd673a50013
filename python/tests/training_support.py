"""Test support for the training step: a small synthetic warehouse like the dbt training table.

``make_training_warehouse`` writes a DuckDB file with ``marts.fct_lead_training_set`` under
the contract in docs/training.md (keys, 0/1 ``converted``, ``sample_weight`` with sampled
negatives, numeric and categorical features with NULLs and rare values, weekly snapshots),
and ``marts.fct_lead_oracle`` with the true probability of every row. The label is drawn from
a known logistic model with one interaction, so the features carry real signal.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from leadscore.config import PROJECT_ROOT, Settings

FIRST_SNAPSHOT = date(2024, 1, 1)  # a Monday
TEST_HORIZON_DAYS = 28  # short horizon so 30 weekly snapshots hold three windows and two gaps

INDUSTRIES = [
    "software",
    "financial_services",
    "healthcare",
    "manufacturing",
    "retail",
    "education",
]
INDUSTRY_P = [0.3, 0.2, 0.15, 0.15, 0.12, 0.08]
INDUSTRY_EFFECT = dict(zip(INDUSTRIES, [0.6, 0.4, 0.0, -0.1, -0.3, -0.6], strict=True))
SENIORITIES = ["c_level", "vp", "director", "manager", "individual_contributor", "student"]
SENIORITY_P = [0.08, 0.12, 0.2, 0.25, 0.3, 0.05]
SENIORITY_EFFECT = dict(zip(SENIORITIES, [0.8, 0.6, 0.3, 0.0, -0.3, -1.5], strict=True))
SOURCES = ["organic_search", "paid_search", "webinar", "referral", "outbound"]
DEPARTMENTS = ["engineering", "marketing", "sales", "finance", "it"]


def _with_nulls(rng: np.random.Generator, values: np.ndarray, share: float) -> list:
    mask = rng.random(len(values)) < share
    return [None if m else v for m, v in zip(mask, values.tolist(), strict=True)]


def make_training_warehouse(
    path: Path,
    *,
    n_leads: int = 1500,
    n_snapshots: int = 30,
    seed: int = 7,
    negative_rate: float = 0.5,
    extra_columns: bool = False,
) -> Path:
    """Write the synthetic warehouse to ``path`` and return it.

    ``extra_columns`` adds ``webinar_attended_90d`` (integer) and ``department`` (varchar),
    the columns an analytics engineer would add in SQL; the label uses them either way, so
    the two warehouses differ only by those columns.
    """
    rng = np.random.default_rng(seed)
    lead_index = np.arange(n_leads)
    created = rng.integers(-12, n_snapshots - 1, n_leads)
    industry = rng.choice(INDUSTRIES, size=n_leads, p=INDUSTRY_P).astype(object)
    # A rare value on two early leads: rows in the training window, too few for a slot.
    industry[np.flatnonzero(created < 0)[:2]] = "space_mining"
    seniority = rng.choice(SENIORITIES, size=n_leads, p=SENIORITY_P).astype(object)
    source = rng.choice(SOURCES, size=n_leads).astype(object)
    source[np.flatnonzero(created < 0)[2]] = "podcast"
    region = rng.choice(["NA", "EMEA", "APAC", "LATAM"], size=n_leads, p=[0.45, 0.3, 0.15, 0.1])
    department = rng.choice(DEPARTMENTS, size=n_leads)
    employees = np.round(np.exp(rng.normal(5.5, 1.5, n_leads))).astype(np.int64) + 1
    icp = np.clip(
        50 + 15 * np.vectorize(INDUSTRY_EFFECT.get)(industry, 0.0) + rng.normal(0, 18, n_leads),
        0,
        100,
    )
    free_mail = rng.random(n_leads) < 0.15
    intensity = rng.gamma(0.7, 1.0, n_leads)

    # One row per lead and snapshot after its creation.
    alive = np.maximum(created + 1, 0)
    counts = np.maximum(n_snapshots - alive, 0)
    lead = np.repeat(lead_index, counts)
    snapshot = np.concatenate([np.arange(a, n_snapshots) for a in alive])
    rows = len(lead)
    trend = 1 + 0.5 * snapshot / n_snapshots
    visits = rng.poisson(intensity[lead] * 0.8 * trend)
    clicks = rng.poisson(intensity[lead] * 0.6 + 0.2)
    webinars = rng.poisson(0.15 + 0.2 * intensity[lead])
    active = (visits + clicks) > 0
    days = np.where(active, rng.integers(0, 30, rows), rng.integers(30, 365, rows)).astype(float)
    never = ~active & (rng.random(rows) < 0.4)
    days[never] = np.nan
    logit = (
        -4.6
        + np.vectorize(SENIORITY_EFFECT.get)(seniority[lead], 0.0)
        + np.vectorize(INDUSTRY_EFFECT.get)(industry[lead], 0.0)
        + 0.025 * (icp[lead] - 50)
        + 0.45 * np.minimum(visits, 5)
        + 0.25 * np.minimum(clicks, 4)
        - 0.008 * np.nan_to_num(days, nan=200.0)
        + 0.9 * ((visits >= 2) & np.isin(seniority[lead], ["c_level", "vp"]))
        - 0.8 * free_mail[lead]
        + 0.35 * np.minimum(webinars, 3)
        + 0.4 * (department[lead] == "it")
    )
    probability = 1 / (1 + np.exp(-logit))
    converted = rng.random(rows) < probability
    kept = converted | (rng.random(rows) < negative_rate)

    columns: dict[str, pa.Array] = {
        "lead_id": pa.array([f"L{i:05d}" for i in lead[kept]]),
        "account_id": pa.array(
            [None if i % 10 == 0 else f"A{i % (n_leads // 3):05d}" for i in lead[kept]]
        ),
        "as_of_date": pa.array(
            np.datetime64(FIRST_SNAPSHOT) + (7 * snapshot[kept]).astype("timedelta64[D]")
        ),
        "converted": pa.array(converted[kept].astype(np.int32)),
        "sample_weight": pa.array(np.where(converted[kept], 1.0, 1.0 / negative_rate)),
        "industry": pa.array(_with_nulls(rng, industry[lead[kept]], 0.05), pa.string()),
        "region": pa.array(region[lead[kept]]),
        "lead_source": pa.array(source[lead[kept]].tolist(), pa.string()),
        "seniority": pa.array(_with_nulls(rng, seniority[lead[kept]], 0.08), pa.string()),
        "employee_count": pa.array(_with_nulls(rng, employees[lead[kept]], 0.05), pa.int64()),
        "icp_fit_score": pa.array(_with_nulls(rng, icp[lead[kept]], 0.03), pa.float64()),
        "is_free_mail": pa.array(free_mail[lead[kept]]),
        "high_intent_visits_30d": pa.array(visits[kept].astype(np.int32)),
        "email_clicks_30d": pa.array(clicks[kept].astype(np.int32)),
        "days_since_last_activity": pa.array(days[kept], mask=np.isnan(days[kept])),
    }
    if extra_columns:
        columns["webinar_attended_90d"] = pa.array(webinars[kept].astype(np.int32))
        columns["department"] = pa.array(department[lead[kept]])
    training = pa.table(columns)
    oracle = pa.table(
        {
            "lead_id": columns["lead_id"],
            "as_of_date": columns["as_of_date"],
            "true_probability": pa.array(probability[kept]),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.register("training_arrow", training)
        con.register("oracle_arrow", oracle)
        con.execute(
            "create table marts.fct_lead_training_set as select * replace ("
            "cast(days_since_last_activity as integer) as days_since_last_activity, "
            "cast(employee_count as integer) as employee_count) "
            "from training_arrow order by as_of_date, lead_id"
        )
        con.execute("create table marts.fct_lead_oracle as select * from oracle_arrow")
    return path


def settings_for(warehouse: Path, registry_dir: Path) -> Settings:
    """Settings pointing at a test warehouse and registry."""
    return Settings(project_dir=PROJECT_ROOT, warehouse_path=warehouse, registry_dir=registry_dir)
