"""Account scores: P(the account opens an opportunity within the horizon), calibrated on
account outcomes.

A lead's probability is already about its account (a lead converts when its account opens an
opportunity), but an account with several warm leads and a broad, engaged buying committee is
more likely to buy than its best lead alone says. A small logistic regression learns that on
account snapshots whose outcome is known: the latest matured snapshots, scored by the same
lead model (or the same rules) as today, with the account-level label. Its inputs
(:data:`ACCOUNT_FEATURES`) are computed in SQL by ``int_account_score_inputs_joined``:

- ``max_lead_probability``: the best lead's calibrated probability (as log-odds);
- ``leads_above_base_rate``: leads whose probability is at least the history's conversion
  rate (log1p). Not the raw number of leads: historical snapshots keep only recently active
  leads while the scoring date keeps every lead, so a raw count would mean different things;
- ``committee_engagement_score`` (0-100, scaled to 0-1), ``committee_roles_engaged``,
  ``is_executive_engaged`` and ``contacts_engaged_30d`` (log1p) from
  ``fct_account_committee_features``.

The fit is deterministic (standardised inputs, L2 ``C=1``, lbfgs). Its reasons are exact:
in log-odds a feature adds ``coefficient x standardised value``, measured from the history
mean. With too little history (fewer than :data:`MIN_ACCOUNT_ROWS` rows or
:data:`MIN_ACCOUNT_POSITIVES` positives or negatives) the account probability is its best
lead's probability and the rows say so in ``account_model``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.linear_model import LogisticRegression

from leadscore.reasons import REASONS_PER_LEAD, format_numbers, top_reasons

ACCOUNT_FEATURES: tuple[str, ...] = (
    "max_lead_probability",
    "leads_above_base_rate",
    "committee_engagement_score",
    "committee_roles_engaged",
    "is_executive_engaged",
    "contacts_engaged_30d",
)
KEY_COLUMNS: tuple[str, ...] = ("account_id", "as_of_date")
LABEL_COLUMN = "opened_opportunity"
MIN_ACCOUNT_ROWS = 200
MIN_ACCOUNT_POSITIVES = 20
PROBABILITY_CLIP = 1e-6

OUTPUT_SCHEMA = pa.schema(
    [
        ("account_id", pa.string()),
        ("as_of_date", pa.date32()),
        ("opportunity_probability", pa.float64()),
        ("account_model", pa.string()),
        *(
            field
            for k in range(1, REASONS_PER_LEAD + 1)
            for field in (
                (f"reason_{k}_feature", pa.string()),
                (f"reason_{k}_value", pa.string()),
                (f"reason_{k}_contribution", pa.float64()),
            )
        ),
    ]
)


def design_matrix(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """The model's inputs, one column per :data:`ACCOUNT_FEATURES` entry (float64).

    Missing committee values count as 0; a missing probability stays NaN.
    """
    p = np.clip(
        np.asarray(columns["max_lead_probability"], dtype=np.float64),
        PROBABILITY_CLIP,
        1 - PROBABILITY_CLIP,
    )

    def zero_filled(name: str) -> np.ndarray:
        return np.nan_to_num(np.asarray(columns[name], dtype=np.float64), nan=0.0)

    return np.column_stack(
        [
            np.log(p / (1 - p)),
            np.log1p(zero_filled("leads_above_base_rate")),
            zero_filled("committee_engagement_score") / 100.0,
            zero_filled("committee_roles_engaged"),
            zero_filled("is_executive_engaged"),
            np.log1p(zero_filled("contacts_engaged_30d")),
        ]
    )


@dataclass(frozen=True)
class AccountModel:
    """A fitted account model (or the best-lead fallback when ``coef`` is None)."""

    mean: np.ndarray | None
    scale: np.ndarray | None
    coef: np.ndarray | None
    intercept: float
    rows: int
    positives: int
    snapshots: int

    @property
    def description(self) -> str:
        if self.coef is None:
            return (
                f"best lead's probability (too little account history to fit: {self.rows:,} "
                f"account snapshots, {self.positives:,} opened an opportunity)"
            )
        return (
            f"logistic regression on {self.rows:,} account snapshots ({self.snapshots} dates, "
            f"{self.positives:,} opened an opportunity)"
        )

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probability, per-feature log-odds contribution from the history mean)."""
        if self.coef is None or self.mean is None or self.scale is None:
            p = 1 / (1 + np.exp(-X[:, 0]))
            return p, np.zeros_like(X)
        contribution = self.coef * (X - self.mean) / self.scale
        logit = self.intercept + contribution.sum(axis=1)
        return 1 / (1 + np.exp(-logit)), contribution


def fit_account_model(X: np.ndarray, y: np.ndarray, snapshots: int) -> AccountModel:
    """Fit the logistic regression on history rows (deterministic), or return the fallback."""
    keep = ~np.isnan(X).any(axis=1)
    X, y = X[keep], y[keep]
    positives = int(y.sum())
    rows = len(y)
    if (
        rows < MIN_ACCOUNT_ROWS
        or positives < MIN_ACCOUNT_POSITIVES
        or rows - positives < MIN_ACCOUNT_POSITIVES
    ):
        return AccountModel(None, None, None, 0.0, rows, positives, snapshots)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    fitted = LogisticRegression(C=1.0, max_iter=1000).fit((X - mean) / scale, y)
    return AccountModel(
        mean=mean,
        scale=scale,
        coef=fitted.coef_[0].astype(np.float64),
        intercept=float(fitted.intercept_[0]),
        rows=rows,
        positives=positives,
        snapshots=snapshots,
    )


def _value_texts(columns: Mapping[str, np.ndarray], positions: np.ndarray) -> pa.Array:
    """The raw value of each chosen account feature as text."""
    rows = len(positions)
    text = np.full(rows, None, dtype=object)
    for index, name in enumerate(ACCOUNT_FEATURES):
        here = positions == index
        if not here.any():
            continue
        values = np.asarray(columns[name], dtype=np.float64)[here]
        if name == "max_lead_probability":
            percent = pc.binary_join_element_wise(
                format_numbers(np.round(100 * values)), pa.scalar("%"), ""
            )
            text[here] = percent.to_numpy(zero_copy_only=False)
        elif name == "is_executive_engaged":
            text[here] = np.where(values >= 0.5, "yes", "no")
        else:
            text[here] = format_numbers(values).to_numpy(zero_copy_only=False)
    return pa.array(text, pa.string())


def score_accounts(con: duckdb.DuckDBPyConnection, inputs: str) -> pa.Table:
    """Fit on the history rows of ``inputs`` and score its scoring-date rows.

    Parameters
    ----------
    inputs:
        ``int_account_score_inputs_joined`` (table name or query): one row per account and
        as-of date with :data:`ACCOUNT_FEATURES`, ``is_scoring_date`` and, on history rows,
        ``opened_opportunity``.
    """
    from_item = f"({inputs}) as inputs" if inputs.lstrip().lower().startswith("select") else inputs
    names = ", ".join((*KEY_COLUMNS, "is_scoring_date", LABEL_COLUMN, *ACCOUNT_FEATURES))
    table = con.sql(f"select {names} from {from_item}").arrow().read_all()
    history_mask = ~np.asarray(table.column("is_scoring_date").to_numpy(zero_copy_only=False))
    columns = {
        name: table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
        for name in (*ACCOUNT_FEATURES, LABEL_COLUMN)
    }
    X = design_matrix(columns)
    y = np.nan_to_num(columns[LABEL_COLUMN][history_mask], nan=0.0)
    history_dates = table.column("as_of_date").filter(pa.array(history_mask))
    snapshots = len(set(history_dates.to_pylist())) if len(history_dates) else 0
    model = fit_account_model(X[history_mask], y, snapshots)
    scoring_mask = ~history_mask
    p, contribution = model.predict(X[scoring_mask])
    positions, amounts = top_reasons(contribution)
    scoring_columns = {name: values[scoring_mask] for name, values in columns.items()}
    scoring_keys = table.filter(pa.array(scoring_mask))
    out: dict[str, pa.Array] = {
        "account_id": scoring_keys.column("account_id"),
        "as_of_date": scoring_keys.column("as_of_date"),
        "opportunity_probability": pa.array(p, mask=np.isnan(p)),
        "account_model": pa.array([model.description] * len(p), pa.string()),
    }
    names_array = np.array([*ACCOUNT_FEATURES, None], dtype=object)
    for k in range(REASONS_PER_LEAD):
        out[f"reason_{k + 1}_feature"] = pa.array(names_array[positions[:, k]], pa.string())
        out[f"reason_{k + 1}_value"] = _value_texts(scoring_columns, positions[:, k])
        out[f"reason_{k + 1}_contribution"] = pa.array(amounts[:, k], mask=np.isnan(amounts[:, k]))
    return pa.table(out).cast(OUTPUT_SCHEMA)
