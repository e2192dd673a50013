"""ONNX export of a calibrated pipeline, canonical bytes, ONNX scoring and the parity gate.

The exported model takes ONE input, ``features``: float32 of shape ``[None, n]``, the packed
matrix of :func:`leadscore.features.packing_sql`. It has two outputs:

- ``label``: int64 ``[None]``, the predicted class (1 when P(converted=1) > 0.5);
- ``probabilities``: float32 ``[None, 2]``; **column 1 is P(converted=1)**, column 0 its
  complement.

skl2onnx converts the sklearn ``Pipeline`` (imputer, scaler, classifier) with raw scores
(the decision function); the calibration (sigmoid, or isotonic as piecewise-linear
interpolation) is appended as plain ONNX nodes computed in double precision. skl2onnx's own
``CalibratedClassifierCV`` converter is not used: it cannot read a ``FrozenEstimator`` and it
calibrates the pipeline's probabilities instead of its decision function.

The bytes are canonical: opset imports de-duplicated and sorted, fixed producer and graph
names, sorted metadata, so the same fitted model always serialises to the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from leadscore import __version__
from leadscore.features import PACKED_COLUMN

INPUT_NAME = PACKED_COLUMN
PROBABILITIES = "probabilities"
LABEL = "label"
POSITIVE_COLUMN = 1
POSITIVE_CLASS_DOC = f"{PROBABILITIES}[:, {POSITIVE_COLUMN}] = P(converted=1)"
TARGET_OPSET = 17
ML_OPSET = 3
SCORING_THREADS = 2
BATCH_ROWS = 200_000

# Parity gate: sklearn and onnxruntime must agree on the test window.
PARITY_MAX_ABS_DIFF = 0.02
PARITY_TOLERANCE = 1e-3
PARITY_MAX_SHARE_BEYOND = 1e-4


class ExportError(RuntimeError):
    """The model cannot be exported in the supported form."""


class ParityError(RuntimeError):
    """onnxruntime and sklearn disagree beyond the gate; the model must not be registered."""

    def __init__(self, message: str, report: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.report = dict(report)


@dataclass(frozen=True)
class CalibrationParts:
    """What the ONNX graph needs from a fitted ``CalibratedClassifierCV``."""

    pipeline: Pipeline
    method: str
    parameters: dict[str, Any]


def calibration_parts(calibrated: CalibratedClassifierCV) -> CalibrationParts:
    """The base pipeline and the single binary calibrator of a calibrated model."""
    if len(calibrated.calibrated_classifiers_) != 1:
        raise ExportError("expected one calibrator (a FrozenEstimator calibrated once)")
    inner = calibrated.calibrated_classifiers_[0]
    base = inner.estimator
    if isinstance(base, FrozenEstimator):
        base = base.estimator
    if not isinstance(base, Pipeline):
        raise ExportError(f"the calibrated estimator must be a Pipeline, got {type(base)}")
    if len(inner.calibrators) != 1:
        raise ExportError("only binary classifiers are supported")
    calibrator = inner.calibrators[0]
    if inner.method == "sigmoid":
        parameters = {"a": float(calibrator.a_), "b": float(calibrator.b_)}
    elif inner.method == "isotonic":
        parameters = {
            "x": np.asarray(calibrator.X_thresholds_, dtype=np.float64),
            "y": np.asarray(calibrator.y_thresholds_, dtype=np.float64),
        }
    else:
        raise ExportError(f"unsupported calibration method {inner.method!r}")
    return CalibrationParts(pipeline=base, method=inner.method, parameters=parameters)


def _const(name: str, values: Any, dtype: Any) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name=name)


def _calibration_nodes(
    parts: CalibrationParts, raw: str, out: str
) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """Nodes mapping the raw decision score column ``raw`` ([N, 1] double) to P(1) ``out``."""
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    if parts.method == "sigmoid":
        # sklearn: p = expit(-(a * f + b))
        inits += [_const("cal_a", parts.parameters["a"], np.float64)]
        inits += [_const("cal_b", parts.parameters["b"], np.float64)]
        nodes += [
            helper.make_node("Mul", [raw, "cal_a"], ["cal_af"], name="cal_mul"),
            helper.make_node("Add", ["cal_af", "cal_b"], ["cal_z"], name="cal_add"),
            helper.make_node("Neg", ["cal_z"], ["cal_negz"], name="cal_neg"),
            helper.make_node("Sigmoid", ["cal_negz"], [out], name="cal_sigmoid"),
        ]
        return nodes, inits
    # Isotonic: np.interp(clip(f, x[0], x[-1]), x, y), as IsotonicRegression.predict does.
    x, y = parts.parameters["x"], parts.parameters["y"]
    if len(x) < 2:
        inits += [_const("cal_zero", 0.0, np.float64), _const("cal_y0", y[0], np.float64)]
        nodes += [
            helper.make_node("Mul", [raw, "cal_zero"], ["cal_zeros"], name="cal_zero_mul"),
            helper.make_node("Add", ["cal_zeros", "cal_y0"], [out], name="cal_const"),
        ]
        return nodes, inits
    inits += [
        _const("cal_x", x, np.float64),
        _const("cal_y", y, np.float64),
        _const("cal_x_row", x.reshape(1, -1), np.float64),
        _const("cal_xmin", x[0], np.float64),
        _const("cal_xmax", x[-1], np.float64),
        _const("cal_one_i", 1, np.int64),
        _const("cal_zero_i", 0, np.int64),
        _const("cal_last_i", len(x) - 2, np.int64),
        _const("cal_axis", [1], np.int64),
    ]
    nodes += [
        helper.make_node("Clip", [raw, "cal_xmin", "cal_xmax"], ["cal_fc"], name="cal_clip"),
        helper.make_node("GreaterOrEqual", ["cal_fc", "cal_x_row"], ["cal_ge"], name="cal_ge"),
        helper.make_node("Cast", ["cal_ge"], ["cal_ge_i"], to=TensorProto.INT64, name="cal_c"),
        helper.make_node(
            "ReduceSum", ["cal_ge_i", "cal_axis"], ["cal_count"], keepdims=1, name="cal_sum"
        ),
        helper.make_node("Sub", ["cal_count", "cal_one_i"], ["cal_i_raw"], name="cal_i"),
        helper.make_node(
            "Clip", ["cal_i_raw", "cal_zero_i", "cal_last_i"], ["cal_i0"], name="cal_i_clip"
        ),
        helper.make_node("Add", ["cal_i0", "cal_one_i"], ["cal_i1"], name="cal_i_next"),
        helper.make_node("Gather", ["cal_x", "cal_i0"], ["cal_x0"], axis=0, name="cal_gx0"),
        helper.make_node("Gather", ["cal_x", "cal_i1"], ["cal_x1"], axis=0, name="cal_gx1"),
        helper.make_node("Gather", ["cal_y", "cal_i0"], ["cal_y0"], axis=0, name="cal_gy0"),
        helper.make_node("Gather", ["cal_y", "cal_i1"], ["cal_y1"], axis=0, name="cal_gy1"),
        helper.make_node("Sub", ["cal_fc", "cal_x0"], ["cal_dx"], name="cal_dx"),
        helper.make_node("Sub", ["cal_x1", "cal_x0"], ["cal_span"], name="cal_span"),
        helper.make_node("Sub", ["cal_y1", "cal_y0"], ["cal_rise"], name="cal_rise"),
        helper.make_node("Div", ["cal_dx", "cal_span"], ["cal_t"], name="cal_t"),
        helper.make_node("Mul", ["cal_t", "cal_rise"], ["cal_step"], name="cal_step"),
        helper.make_node("Add", ["cal_y0", "cal_step"], [out], name="cal_interp"),
    ]
    return nodes, inits


def build_onnx(
    calibrated: CalibratedClassifierCV,
    n_features: int,
    metadata: Mapping[str, str] | None = None,
) -> bytes:
    """Export a calibrated pipeline to canonical ONNX bytes (see the module docstring).

    Parameters
    ----------
    calibrated:
        ``CalibratedClassifierCV(FrozenEstimator(pipeline), method=...)`` fitted on the
        validation window.
    n_features:
        Width of the packed input.
    metadata:
        String metadata stored in the model (sorted by key).
    """
    parts = calibration_parts(calibrated)
    classifier = parts.pipeline.steps[-1][1]
    with warnings.catch_warnings():
        # skl2onnx 1.20's tree converter passes booleans as ints; harmless with onnx 1.23.
        warnings.filterwarnings("ignore", message=".*Expected an int, got a boolean")
        base = convert_sklearn(
            parts.pipeline,
            initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))],
            options={id(classifier): {"zipmap": False, "raw_scores": True}},
            target_opset={"": TARGET_OPSET, "ai.onnx.ml": ML_OPSET},
        )
    graph = base.graph
    renames = {PROBABILITIES: "raw_scores", LABEL: "raw_label"}
    for node in graph.node:
        node.output[:] = [renames.get(name, name) for name in node.output]
        node.input[:] = [renames.get(name, name) for name in node.input]
    nodes = list(graph.node)
    inits = list(graph.initializer)
    inits += [
        _const("raw_start", [POSITIVE_COLUMN], np.int64),
        _const("raw_end", [POSITIVE_COLUMN + 1], np.int64),
        _const("raw_axes", [1], np.int64),
        _const("one_f", 1.0, np.float32),
    ]
    nodes += [
        helper.make_node(
            "Slice", ["raw_scores", "raw_start", "raw_end", "raw_axes"], ["raw_f"], name="raw_f"
        ),
        helper.make_node("Cast", ["raw_f"], ["raw_fd"], to=TensorProto.DOUBLE, name="raw_fd"),
    ]
    cal_nodes, cal_inits = _calibration_nodes(parts, "raw_fd", "p1_d")
    nodes += cal_nodes
    inits += cal_inits
    nodes += [
        helper.make_node("Cast", ["p1_d"], ["p1"], to=TensorProto.FLOAT, name="p1_float"),
        helper.make_node("Sub", ["one_f", "p1"], ["p0"], name="p0"),
        helper.make_node("Concat", ["p0", "p1"], [PROBABILITIES], axis=1, name="probabilities"),
        helper.make_node(
            "ArgMax", [PROBABILITIES], [LABEL], axis=1, keepdims=0, name="label_argmax"
        ),
    ]
    new_graph = helper.make_graph(
        nodes,
        "leadscore_lead_conversion",
        inputs=[helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [None, n_features])],
        outputs=[
            helper.make_tensor_value_info(LABEL, TensorProto.INT64, [None]),
            helper.make_tensor_value_info(PROBABILITIES, TensorProto.FLOAT, [None, 2]),
        ],
        initializer=inits,
    )
    versions: dict[str, int] = {"": TARGET_OPSET}
    for opset in base.opset_import:
        versions[opset.domain] = max(versions.get(opset.domain, 0), opset.version)
    model = helper.make_model(
        new_graph,
        opset_imports=[
            helper.make_opsetid(domain, versions[domain]) for domain in sorted(versions)
        ],
        producer_name="leadscore",
        producer_version=__version__,
        ir_version=base.ir_version,
    )
    meta = {
        "leadscore.input": f"{INPUT_NAME}: float32 [None, {n_features}]",
        "leadscore.positive_class": POSITIVE_CLASS_DOC,
        "leadscore.calibration": parts.method,
        **(metadata or {}),
    }
    for key in sorted(meta):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, meta[key]
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString(deterministic=True)


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def inference_session(model_bytes: bytes, threads: int = SCORING_THREADS) -> ort.InferenceSession:
    """An onnxruntime CPU session with a fixed thread count (deterministic and polite)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def onnx_probabilities(
    model_bytes: bytes | ort.InferenceSession, matrix: np.ndarray, batch_rows: int = BATCH_ROWS
) -> np.ndarray:
    """P(converted=1) for a packed float32 matrix, scored in batches."""
    session = (
        model_bytes
        if isinstance(model_bytes, ort.InferenceSession)
        else inference_session(model_bytes)
    )
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    out = np.empty(len(matrix), dtype=np.float32)
    for start in range(0, len(matrix), batch_rows):
        batch = matrix[start : start + batch_rows]
        probabilities = session.run([PROBABILITIES], {INPUT_NAME: batch})[0]
        out[start : start + len(batch)] = probabilities[:, POSITIVE_COLUMN]
    return out


def decile_cutoffs(scores: np.ndarray, weights: np.ndarray | None = None) -> list[float]:
    """Nine descending score cut-offs splitting the population into weighted deciles.

    Decile 1 (the top) is ``score >= cutoffs[0]``, decile d is ``cutoffs[d-1] <= score <
    cutoffs[d-2]``, decile 10 is ``score < cutoffs[8]``. Each cut-off lies half-way between
    two distinct observed scores, so no observed score sits exactly on one.
    """
    scores = np.asarray(scores, dtype=np.float64)
    weights = np.ones(len(scores)) if weights is None else np.asarray(weights, dtype=np.float64)
    values, inverse = np.unique(scores, return_inverse=True)
    share_through = np.cumsum(np.bincount(inverse, weights=weights)) / weights.sum()
    cutoffs = []
    for upper_share in np.arange(1, 10) / 10:
        # Rows above the cut-off hold at most `upper_share` of the weight.
        index = int(np.searchsorted(share_through, 1.0 - upper_share - 1e-12, side="left"))
        index = min(index, len(values) - 1)
        above = values[index + 1] if index + 1 < len(values) else math.nextafter(values[index], 2)
        cutoffs.append(float((values[index] + above) / 2))
    return sorted(cutoffs, reverse=True)


def deciles(scores: np.ndarray, cutoffs: list[float]) -> np.ndarray:
    """Decile (1 = top) of each score for cut-offs from :func:`decile_cutoffs`."""
    ascending = np.asarray(sorted(cutoffs), dtype=np.float64)
    return 10 - np.searchsorted(ascending, np.asarray(scores, dtype=np.float64), side="right")


def parity_report(
    p_sklearn: np.ndarray, p_onnx: np.ndarray, cutoffs: list[float]
) -> dict[str, Any]:
    """Compare sklearn and onnxruntime probabilities row by row.

    The model passes when no ONNX score is NaN, max |dp| <= 0.02, at most 0.01% of rows have
    |dp| > 1e-3, and at most that many rows change decile.
    """
    p_sklearn = np.asarray(p_sklearn, dtype=np.float64)
    p_onnx = np.asarray(p_onnx, dtype=np.float64)
    rows = len(p_sklearn)
    difference = np.abs(p_sklearn - p_onnx)
    allowed = math.floor(PARITY_MAX_SHARE_BEYOND * rows)
    nan_rows = int(np.isnan(p_onnx).sum())
    beyond = int((difference > PARITY_TOLERANCE).sum())
    tier_changes = int((deciles(p_sklearn, cutoffs) != deciles(p_onnx, cutoffs)).sum())
    max_diff = float(np.nanmax(difference)) if rows and nan_rows < rows else math.nan
    passed = (
        rows > 0
        and nan_rows == 0
        and max_diff <= PARITY_MAX_ABS_DIFF
        and beyond <= allowed
        and tier_changes <= allowed
    )
    return {
        "rows": rows,
        "max_abs_diff": max_diff,
        "mean_abs_diff": float(np.nanmean(difference)) if rows else math.nan,
        "rows_beyond_tolerance": beyond,
        "tolerance": PARITY_TOLERANCE,
        "rows_allowed_beyond": allowed,
        "decile_changes": tier_changes,
        "nan_scores": nan_rows,
        "passed": bool(passed),
    }


def check_parity(report: Mapping[str, Any]) -> None:
    """Raise :class:`ParityError` unless the report passed."""
    if not report["passed"]:
        raise ParityError(
            "ONNX parity check failed: "
            f"max |dp| {report['max_abs_diff']:.3g} (limit {PARITY_MAX_ABS_DIFF}), "
            f"{report['rows_beyond_tolerance']} of {report['rows']} rows beyond "
            f"{report['tolerance']} (allowed {report['rows_allowed_beyond']}), "
            f"{report['decile_changes']} decile changes, {report['nan_scores']} NaN scores; "
            "the model was not registered",
            report,
        )


def model_metadata(model_bytes: bytes) -> dict[str, str]:
    """The metadata_props of an ONNX model."""
    model = onnx.load_from_string(model_bytes)
    return {entry.key: entry.value for entry in model.metadata_props}


def to_json_metadata(value: Any) -> str:
    """Compact, sorted JSON for ONNX metadata values."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
