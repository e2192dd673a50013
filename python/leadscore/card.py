"""The model card: ``card.json`` (written by the registry) and ``card.html`` for people.

card.html is one self-contained file: the card's facts as tables, and the plots embedded as
base64 PNG (matplotlib, Agg backend): ROC, precision-recall, calibration, cumulative gain and
lift, score distribution by outcome (all on the test window, with the rules score and the
oracle when present), and permutation importance (validation window).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve

from leadscore.metrics import METRIC_KEYS, calibration_table, gain_curve

SCORE_LABELS = {"model": "model", "rules": "rules points score", "oracle": "oracle (true p)"}
SCORE_STYLES = {"model": "-", "rules": "--", "oracle": ":"}


@dataclass
class TestCurves:
    """What the plots need: labels, weights and each score on the test window."""

    y: np.ndarray
    w: np.ndarray
    scores: dict[str, np.ndarray] = field(default_factory=dict)


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _roc(curves: TestCurves) -> str:
    fig, ax = plt.subplots(figsize=(4.6, 4), layout="constrained")
    for name, score in curves.scores.items():
        fpr, tpr, _ = roc_curve(curves.y, score, sample_weight=curves.w)
        ax.plot(fpr, tpr, SCORE_STYLES[name], label=SCORE_LABELS[name])
    ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (test)")
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def _pr(curves: TestCurves) -> str:
    fig, ax = plt.subplots(figsize=(4.6, 4), layout="constrained")
    for name, score in curves.scores.items():
        precision, recall, _ = precision_recall_curve(curves.y, score, sample_weight=curves.w)
        ax.plot(recall, precision, SCORE_STYLES[name], label=SCORE_LABELS[name])
    base_rate = float((curves.w * curves.y).sum() / curves.w.sum())
    ax.axhline(base_rate, color="grey", linewidth=0.8, label=f"base rate {base_rate:.3f}")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (test)")
    ax.legend(loc="upper right", fontsize=8)
    return _png(fig)


def _calibration(curves: TestCurves) -> str:
    fig, ax = plt.subplots(figsize=(4.6, 4), layout="constrained")
    top = 0.0
    for name, score in curves.scores.items():
        if name == "rules":
            continue
        predicted, observed, _ = calibration_table(curves.y, score, curves.w)
        ax.plot(predicted, observed, SCORE_STYLES[name], marker="o", label=SCORE_LABELS[name])
        top = max(top, float(predicted.max()), float(observed.max()))
    ax.plot([0, top], [0, top], color="grey", linewidth=0.8)
    ax.set(
        xlabel="mean predicted probability",
        ylabel="observed conversion rate",
        title="Calibration, 10 equal-frequency bins (test)",
    )
    ax.legend(loc="upper left", fontsize=8)
    return _png(fig)


def _gain(curves: TestCurves) -> str:
    fig, (gain_ax, lift_ax) = plt.subplots(1, 2, figsize=(8.4, 3.8), layout="constrained")
    for name, score in curves.scores.items():
        share, captured = gain_curve(curves.y, score, curves.w)
        gain_ax.plot(share, captured, SCORE_STYLES[name], label=SCORE_LABELS[name])
        lift_ax.plot(
            share[1:], captured[1:] / share[1:], SCORE_STYLES[name], label=SCORE_LABELS[name]
        )
    gain_ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
    gain_ax.set(xlabel="share of leads (by score)", ylabel="share of conversions", title="Gain")
    lift_ax.axhline(1.0, color="grey", linewidth=0.8)
    lift_ax.set(xlabel="share of leads (by score)", ylabel="cumulative lift", title="Lift")
    gain_ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def _distribution(curves: TestCurves) -> str:
    fig, ax = plt.subplots(figsize=(4.6, 4), layout="constrained")
    score = curves.scores["model"]
    bins = np.linspace(0.0, float(np.quantile(score, 0.995)) or 1.0, 40)
    for outcome, label in ((0, "not converted"), (1, "converted")):
        mask = curves.y == outcome
        ax.hist(
            np.clip(score[mask], 0, bins[-1]),
            bins=bins,
            weights=curves.w[mask],
            density=True,
            alpha=0.55,
            label=label,
        )
    ax.set(xlabel="P(converted)", ylabel="density (weighted)", title="Scores by outcome (test)")
    ax.legend(fontsize=8)
    return _png(fig)


def _importance(importance: Sequence[Mapping[str, Any]], top: int = 20) -> str:
    rows = list(importance)[:top][::-1]
    fig, ax = plt.subplots(figsize=(6, 0.28 * max(len(rows), 4) + 1))
    ax.barh(
        [row["feature"] for row in rows],
        [row["importance_mean"] for row in rows],
        xerr=[row["importance_std"] for row in rows],
        color="#4c72b0",
    )
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set(xlabel="drop in PR-AUC when shuffled", title="Permutation importance (validation)")
    ax.tick_params(axis="y", labelsize=8)
    return _png(fig)


def render_plots(curves: TestCurves, importance: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Every card plot as base64 PNG, keyed by section name."""
    plots = {
        "ROC": _roc(curves),
        "Precision-recall": _pr(curves),
        "Calibration": _calibration(curves),
        "Cumulative gain and lift": _gain(curves),
        "Score distribution by outcome": _distribution(curves),
    }
    if importance:
        plots["Permutation importance"] = _importance(importance)
    return plots


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4f}"
        return html.escape("-" if value is None else str(value))

    head = "".join(f"<th>{html.escape(str(name))}</th>" for name in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(card: Mapping[str, Any], plots: Mapping[str, str]) -> str:
    """The human-readable model card."""
    metrics = card["metrics"]
    windows = card["training_window"]
    features = card["features"]
    parity = card["parity"]
    metric_rows = [
        [name, *(metrics[name].get(key) for key in METRIC_KEYS)]
        for name in ("validation", "test", "rules_test", "oracle_test")
        if name in metrics
    ]
    window_rows = [
        [
            name,
            windows[name]["start"],
            windows[name]["end"],
            windows[name]["snapshots"],
            windows[name]["rows"],
            windows[name]["positive_rows"],
        ]
        for name in ("train", "validation", "test")
    ]
    candidate_rows = [
        [c["model_type"], c["class_weighting"], c["validation_pr_auc"], c["kept"]]
        for c in card["selection"]["candidates"]
    ]
    importance_rows = [
        [row["feature"], row["importance_mean"], row["importance_std"]]
        for row in card.get("permutation_importance", [])
    ]
    segment_rows = [
        [
            seg["segment"],
            seg["value"],
            seg["rows"],
            seg["positive_rows"],
            seg["observed_rate"],
            seg["mean_predicted"],
            seg["roc_auc"],
            seg["pr_auc"],
        ]
        for seg in card.get("segments", [])
    ]
    feature_rows = [
        [name, "numeric", features["types"].get(name, ""), ""] for name in features["numeric"]
    ]
    feature_rows += [
        [
            entry["name"],
            "categorical",
            features["types"].get(entry["name"], ""),
            ", ".join(entry["categories"]) or "(none kept)",
        ]
        for entry in features["categorical"]
    ]
    plot_html = "".join(
        f"<figure><figcaption>{html.escape(title)}</figcaption>"
        f'<img alt="{html.escape(title)}" src="data:image/png;base64,{data}"></figure>'
        for title, data in plots.items()
    )
    calibration = card["calibration"]
    e = {  # every text value, escaped once
        "version": html.escape(card["version"]),
        "model_type": html.escape(card["model_type"]),
        "weighting": html.escape(card["class_weighting"]),
        "method": html.escape(calibration["method"]),
        "source": html.escape(card["source_table"]),
        "data_hash": html.escape(card["data_hash"][:16]),
        "commit": html.escape(str(card.get("git_commit") or "unknown")),
        "input": html.escape(card["onnx"]["input"]),
        "sha": html.escape(card["model_sha256"]),
        "brier": html.escape(
            ", ".join(f"{k}: {v}" for k, v in calibration["cross_fitted_brier"].items())
        ),
        "note": html.escape(calibration.get("note", "")),
        "cutoffs": html.escape(", ".join(f"{c:.4f}" for c in card["thresholds"]["decile_cutoffs"])),
    }
    metrics_table = _table(["window", *METRIC_KEYS], metric_rows)
    windows_table = _table(
        ["window", "start", "end", "snapshots", "rows", "positive rows"], window_rows
    )
    selection_table = _table(
        ["model", "class weighting", "validation PR-AUC", "chosen"], candidate_rows
    )
    importance_table = _table(["feature", "PR-AUC drop (mean)", "std"], importance_rows)
    segments_table = _table(
        ["segment", "value", "rows", "positive rows", "observed rate", "mean predicted",
         "ROC AUC", "PR-AUC"],
        segment_rows,
    )  # fmt: skip
    features_table = _table(["feature", "kind", "type", "one-hot categories"], feature_rows)
    parity_text = (
        f"max |dp| {parity['max_abs_diff']:.2e}, rows beyond {parity['tolerance']}: "
        f"{parity['rows_beyond_tolerance']} (allowed {parity['rows_allowed_beyond']}), "
        f"decile changes {parity['decile_changes']}: "
        + ("passed" if parity["passed"] else "FAILED")
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Lead conversion model {e["version"]}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 68rem; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.85rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
figure {{ display: inline-block; margin: 0.5rem; vertical-align: top; }}
figcaption {{ font-weight: 600; }}
code {{ background: #f3f3f3; padding: 0 0.2rem; }}
</style></head><body>
<h1>Lead conversion model {e["version"]}</h1>
<p>Predicts <b>P(converted=1)</b>: the probability that the lead's account opens an
opportunity within {card["horizon_days"]} days after the as-of date. Model:
<b>{e["model_type"]}</b>, class weighting <b>{e["weighting"]}</b>, calibration
<b>{e["method"]}</b> (fitted on the validation window). Source <code>{e["source"]}</code>,
data hash <code>{e["data_hash"]}</code>, git commit <code>{e["commit"]}</code>,
seed {card["seed"]}.</p>
<p>ONNX input <code>{e["input"]}</code> float32 [None, {features["n_packed"]}] (the packed
matrix of <code>leadscore.features.packing_sql</code>); output
<code>probabilities[:, 1]</code> is P(converted=1). model.onnx sha256
<code>{e["sha"]}</code>.</p>
<h2>Metrics</h2>
<p>Weighted by <code>sample_weight</code> (population figures). ECE over 10 equal-frequency
bins; lift at 10% = conversion rate in the top 10% / overall; capture at 20% = share of
conversions in the top 20%. Validation figures are in-sample for the calibration. The rules
score is mapped to a probability by a logistic fit on the validation window (its ranking
metrics do not depend on that).</p>
{metrics_table}
<h2>Plots</h2>
{plot_html}
<h2>Walk-forward windows</h2>
<p>Purge gap of at least {windows["purge_gap_days"]} days (the label horizon) between
train and validation and between validation and test: no label window overlaps the next.</p>
{windows_table}
<h2>Model selection (validation PR-AUC)</h2>
{selection_table}
<p>Calibration candidates (cross-fitted Brier on the validation window): {e["brier"]}.
{e["note"]}</p>
<h2>ONNX parity (test window)</h2>
<p>{parity_text}.</p>
<h2>Permutation importance (validation)</h2>
{importance_table}
<h2>Metrics by segment (test)</h2>
{segments_table}
<h2>Features ({features["n_packed"]} packed columns)</h2>
{features_table}
<h2>Score deciles (test window)</h2>
<p>Cut-offs, top first: {e["cutoffs"]}</p>
</body></html>
"""
