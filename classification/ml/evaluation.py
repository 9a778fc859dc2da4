"""Measure a classifier on labelled data, calibrate it, choose review thresholds.

Everything takes plain arrays (probabilities or logits, true class indices) and
returns plain, JSON-able dicts: a model version stores them as its metrics.
``validation_scores`` is what every training loop records after an epoch;
``summarise`` is how every trainer measures the model it ends with.
"""

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

DEFAULT_TARGET_PRECISION = 0.97
# A threshold chosen from fewer validation predictions of its class is noise.
MIN_PREDICTIONS_FOR_THRESHOLD = 10
ECE_BINS = 15


def _safe_div(num: float, den: float) -> float:
    return float(num / den) if den else 0.0


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    """Rows are the true classes, columns the predicted ones."""
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def expected_calibration_error(
    probs: np.ndarray, y_true: np.ndarray, *, bins: int = ECE_BINS
) -> float:
    """Return the ECE of the top-1 confidence over equal-width bins."""
    if len(y_true) == 0:
        return 0.0
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y_true
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Bin i holds confidences in (edges[i], edges[i+1]]; 0 goes to the first.
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def classification_metrics(
    probs: np.ndarray, y_true: np.ndarray, classes: Sequence[str]
) -> dict:
    """Return accuracy, macro-F1, top-2 accuracy, ECE, per-class P/R/F1/support and
    the confusion matrix (rows true, columns predicted, in ``classes`` order).

    ``probs`` is (N, C) with rows summing to 1; ``y_true`` holds class indices.
    """
    probs = np.asarray(probs, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.int64)
    n_classes = len(classes)
    if probs.ndim != 2 or probs.shape[1] != n_classes:
        raise ValueError(f"probs must be (N, {n_classes}), not {probs.shape}")
    if probs.shape[0] != y_true.shape[0]:
        raise ValueError("probs and y_true differ in length")
    y_pred = probs.argmax(axis=1) if len(y_true) else np.zeros(0, dtype=np.int64)
    matrix = confusion_matrix(y_true, y_pred, n_classes)
    per_class = {}
    f1s = []
    for i, name in enumerate(classes):
        tp = int(matrix[i, i])
        predicted, support = int(matrix[:, i].sum()), int(matrix[i].sum())
        precision, recall = _safe_div(tp, predicted), _safe_div(tp, support)
        f1 = _safe_div(2 * precision * recall, precision + recall)
        per_class[name] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": support,
        }
        if support:
            f1s.append(f1)
    if n_classes >= 2 and len(y_true):
        top2 = np.argsort(-probs, axis=1)[:, :2]
        top2_accuracy = float((top2 == y_true[:, None]).any(axis=1).mean())
    else:
        top2_accuracy = 1.0 if len(y_true) else 0.0
    return {
        "count": len(y_true),
        "accuracy": round(_safe_div(int(np.trace(matrix)), len(y_true)), 4),
        "macro_f1": round(float(np.mean(f1s)) if f1s else 0.0, 4),
        "top2_accuracy": round(top2_accuracy, 4),
        "ece": round(expected_calibration_error(probs, y_true), 4),
        "classes": list(classes),
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
    }


def fit_temperature(logits: np.ndarray, y_true: np.ndarray) -> float:
    """Return the temperature that minimises the negative log-likelihood.

    Temperature scaling divides the logits by one scalar fitted on validation data:
    it changes how sure the model says it is, never which class it picks.
    """
    if len(y_true) == 0:
        return 1.0
    logits_t = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    target = torch.as_tensor(np.asarray(y_true), dtype=torch.int64)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)

    def closure():
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits_t / log_t.exp(), target)
        loss.backward()
        return loss

    optimiser.step(closure)
    # Bounded so a tiny or degenerate validation set cannot yield absurd values.
    return float(np.clip(log_t.exp().item(), 0.05, 20.0))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


CURVE_POINTS = 25


def _precision_coverage_curve(
    conf: np.ndarray, precision_at: np.ndarray, last_of_tie: np.ndarray
) -> list[dict]:
    """Up to CURVE_POINTS points of (threshold, coverage, precision), highest
    threshold first: at each cut between distinct confidences, the share of the
    class's predictions at or above it and how many of those are right."""
    n = len(conf)
    if n == 0:
        return []
    cuts = np.flatnonzero(last_of_tie)
    if len(cuts) > CURVE_POINTS:
        cuts = cuts[np.linspace(0, len(cuts) - 1, CURVE_POINTS).round().astype(int)]
    return [
        {
            "threshold": round(float(conf[k]), 4),
            "coverage": round((k + 1) / n, 4),
            "precision": round(float(precision_at[k]), 4),
        }
        for k in cuts
    ]


def thresholds_for_precision(
    probs: np.ndarray,
    y_true: np.ndarray,
    classes: Sequence[str],
    *,
    target_precision: float = DEFAULT_TARGET_PRECISION,
    min_predictions: int = MIN_PREDICTIONS_FOR_THRESHOLD,
) -> dict:
    """Choose, per class, the lowest confidence whose auto-accepted set is precise.

    For each class c, the validation images predicted as c are ranked by
    confidence; the threshold is the lowest confidence t such that those at or
    above t are right at least ``target_precision`` of the time. A class that never
    reaches it gets 1.0 (everything goes to review) and ``reached: false``; a
    class predicted fewer than ``min_predictions`` times gets no threshold
    (``None``: keep whatever is configured) and counts as reviewed here.

    Return ``{"target_precision", "review_share", "auto_accept_precision",
    "per_class": {slug: {threshold, precision, auto_accepted, predicted,
    reached, curve}}}``, where ``review_share`` is the share of validation images
    whose top prediction falls below its class's threshold and ``curve`` the
    class's precision/coverage points (``_precision_coverage_curve``).
    """
    probs = np.asarray(probs, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.int64)
    confidence = probs.max(axis=1) if len(y_true) else np.zeros(0)
    y_pred = probs.argmax(axis=1) if len(y_true) else np.zeros(0, dtype=np.int64)
    per_class = {}
    accepted = np.zeros(len(y_true), dtype=bool)
    for i, name in enumerate(classes):
        mask = y_pred == i
        conf = confidence[mask]
        right = (y_true[mask] == i).astype(np.float64)
        order = np.argsort(-conf, kind="stable")
        conf, right = conf[order], right[order]
        precision_at = np.cumsum(right) / np.arange(1, len(right) + 1)
        # Only cut between distinct confidences: ties are accepted together.
        last_of_tie = np.r_[conf[1:] != conf[:-1], True].astype(bool)
        ok = np.flatnonzero((precision_at >= target_precision) & last_of_tie)
        if len(right) < min_predictions:
            entry = {
                "threshold": None,
                "precision": None,
                "auto_accepted": 0,
                "reached": False,
                "reason": f"fewer than {min_predictions} validation predictions",
            }
        elif len(ok):
            k = ok[-1]
            threshold = float(conf[k])
            entry = {
                # Rounded down, so the images it was chosen on still pass.
                "threshold": math.floor(threshold * 1e6) / 1e6,
                "precision": round(float(precision_at[k]), 4),
                "auto_accepted": int(k + 1),
                "reached": True,
            }
            accepted |= mask & (confidence >= threshold)
        else:
            entry = {
                "threshold": 1.0,
                "precision": None,
                "auto_accepted": 0,
                "reached": False,
            }
        entry["predicted"] = int(mask.sum())
        entry["curve"] = _precision_coverage_curve(conf, precision_at, last_of_tie)
        per_class[name] = entry
    n = len(y_true)
    auto_right = int((accepted & (y_pred == y_true)).sum())
    return {
        "target_precision": target_precision,
        "review_share": round(_safe_div(n - int(accepted.sum()), n), 4),
        "auto_accept_precision": round(_safe_div(auto_right, int(accepted.sum())), 4)
        if accepted.any()
        else None,
        "per_class": per_class,
    }


def validation_scores(logits: Tensor, labels: Tensor) -> tuple[float, dict]:
    """Return the cross-entropy of ``logits``, and its history entry.

    The entry holds ``val_loss`` and ``val_accuracy``, rounded; the loss comes
    back unrounded too, for early stopping.
    """
    labels = torch.as_tensor(labels, dtype=torch.int64)
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(logits, labels).item()
        accuracy = (logits.argmax(1) == labels).float().mean().item()
    return loss, {"val_loss": round(loss, 5), "val_accuracy": round(accuracy, 4)}


def summarise(
    *,
    classes: Sequence[str],
    val_logits: np.ndarray | None,
    y_val: np.ndarray | None,
    test_logits: np.ndarray | None,
    y_test: np.ndarray | None,
    target_precision: float = DEFAULT_TARGET_PRECISION,
) -> tuple[float, dict[str, Any]]:
    """Calibrate on validation and measure; return (temperature, metrics).

    The temperature is fitted on validation logits; the per-class thresholds are
    chosen on calibrated validation probabilities; ``test`` metrics (when there is
    a test split) are measured with the calibrated probabilities, and the top
    level ``accuracy`` is the test accuracy (else the validation one).
    """
    has_val = val_logits is not None and len(val_logits) > 0
    has_test = test_logits is not None and len(test_logits) > 0
    temperature = fit_temperature(val_logits, y_val) if has_val else 1.0
    metrics: dict[str, Any] = {"temperature": round(temperature, 4)}
    if has_val:
        raw = classification_metrics(softmax(val_logits), y_val, classes)
        val = classification_metrics(softmax(val_logits, temperature), y_val, classes)
        metrics["val"] = val
        metrics["calibration"] = {
            "temperature": round(temperature, 4),
            "ece_before": raw["ece"],
            "ece_after": val["ece"],
        }
        metrics["thresholds"] = thresholds_for_precision(
            softmax(val_logits, temperature),
            y_val,
            classes,
            target_precision=target_precision,
        )
    if has_test:
        metrics["test"] = classification_metrics(
            softmax(test_logits, temperature), y_test, classes
        )
    headline = metrics.get("test") or metrics.get("val")
    if headline:
        for key in ("accuracy", "macro_f1", "top2_accuracy", "ece", "count"):
            metrics[key] = headline[key]
        metrics["measured_on"] = "test" if has_test else "val"
    return temperature, metrics
