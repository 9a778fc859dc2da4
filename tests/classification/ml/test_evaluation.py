"""Metrics, calibration and review thresholds on hand-made predictions."""

import numpy as np
import pytest

from classification.ml.evaluation import (
    classification_metrics,
    expected_calibration_error,
    fit_temperature,
    softmax,
    thresholds_for_precision,
)


def test_metrics_count_per_class_and_in_the_confusion_matrix():
    probs = np.array(
        [
            [0.9, 0.1, 0.0],  # a, right
            [0.6, 0.4, 0.0],  # a, right
            [0.3, 0.7, 0.0],  # a predicted b (b second... a second: top-2 right)
            [0.1, 0.8, 0.1],  # b, right
            [0.0, 0.2, 0.8],  # c, right
            [0.5, 0.0, 0.5],  # c predicted a (tie goes to the first)
        ]
    )
    y = np.array([0, 0, 0, 1, 2, 2])
    metrics = classification_metrics(probs, y, ["a", "b", "c"])
    assert metrics["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert metrics["top2_accuracy"] == 1.0
    assert metrics["confusion_matrix"] == [[2, 1, 0], [0, 1, 0], [1, 0, 1]]
    assert metrics["per_class"]["a"] == {
        "precision": pytest.approx(2 / 3, abs=1e-4),
        "recall": pytest.approx(2 / 3, abs=1e-4),
        "f1": pytest.approx(2 / 3, abs=1e-4),
        "support": 3,
    }
    assert metrics["per_class"]["b"]["precision"] == 0.5
    assert metrics["per_class"]["c"]["recall"] == 0.5
    expected_f1 = np.mean([2 / 3, 2 * 0.5 * 1 / 1.5, 2 * 1 * 0.5 / 1.5])
    assert metrics["macro_f1"] == pytest.approx(expected_f1, abs=1e-4)


def test_metrics_refuse_probabilities_of_the_wrong_shape():
    with pytest.raises(ValueError, match="must be"):
        classification_metrics(np.ones((2, 3)) / 3, np.array([0, 1]), ["a", "b"])


def test_ece_is_the_gap_between_confidence_and_accuracy():
    right = np.array([[0.9, 0.1]] * 10)
    assert expected_calibration_error(right, np.zeros(10, dtype=int)) == pytest.approx(
        0.1
    )
    sure = np.array([[1.0, 0.0]] * 4)
    assert expected_calibration_error(sure, np.zeros(4, dtype=int)) == 0.0


def test_temperature_scaling_softens_overconfident_logits():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 600)
    logits = rng.normal(0, 1, (600, 3))
    logits[np.arange(600), y] += 1.0  # right about 60 % of the time
    overconfident = logits * 8
    temperature = fit_temperature(overconfident, y)
    assert temperature > 3
    before = expected_calibration_error(softmax(overconfident), y)
    after = expected_calibration_error(softmax(overconfident, temperature), y)
    assert after < before / 2
    assert fit_temperature(np.zeros((0, 3)), np.zeros(0, dtype=int)) == 1.0


def test_thresholds_reach_the_target_precision_and_report_the_review_share():
    # Class a: 20 right at 0.95..0.76, then 5 wrong and 5 right at lower scores.
    conf_a = np.r_[np.linspace(0.95, 0.76, 20), np.linspace(0.7, 0.55, 10)]
    truth_a = np.r_[np.zeros(20), np.tile([1, 0], 5)].astype(int)
    # Class b: predicted only 3 times: too few to choose a threshold.
    conf_b = np.array([0.9, 0.8, 0.7])
    probs = np.zeros((33, 2))
    probs[:30, 0], probs[:30, 1] = conf_a, 1 - conf_a
    probs[30:, 1], probs[30:, 0] = conf_b, 1 - conf_b
    y = np.r_[truth_a, [1, 1, 1]]
    result = thresholds_for_precision(probs, y, ["a", "b"], target_precision=0.97)
    a = result["per_class"]["a"]
    assert a["reached"] and a["precision"] == 1.0
    # The lowest threshold still at 97 %: the 20 sure ones, plus none of the mixed.
    assert a["threshold"] == pytest.approx(0.76, abs=1e-6)
    assert a["auto_accepted"] == 20 and a["predicted"] == 30
    b = result["per_class"]["b"]
    assert b["threshold"] is None and not b["reached"]
    assert result["review_share"] == pytest.approx(13 / 33, abs=1e-4)
    assert result["auto_accept_precision"] == 1.0


def test_a_class_that_never_reaches_the_target_sends_everything_to_review():
    probs = np.array([[0.9, 0.1]] * 12)
    y = np.array([1, 0] * 6)
    result = thresholds_for_precision(probs, y, ["a", "b"], min_predictions=5)
    assert result["per_class"]["a"]["threshold"] == 1.0
    assert result["per_class"]["a"]["reached"] is False
    assert result["review_share"] == 1.0


def test_each_class_carries_its_precision_coverage_curve():
    conf_a = np.r_[np.linspace(0.95, 0.76, 20), np.linspace(0.7, 0.55, 10)]
    truth_a = np.r_[np.zeros(20), np.tile([1, 0], 5)].astype(int)
    probs = np.zeros((30, 2))
    probs[:, 0], probs[:, 1] = conf_a, 1 - conf_a
    curve = thresholds_for_precision(probs, truth_a, ["a", "b"])["per_class"]["a"][
        "curve"
    ]
    assert 2 <= len(curve) <= 25
    assert curve[0] == {
        "threshold": 0.95,
        "coverage": round(1 / 30, 4),
        "precision": 1.0,
    }
    assert curve[-1]["coverage"] == 1.0
    assert curve[-1]["precision"] == pytest.approx(25 / 30, abs=1e-4)
    coverages = [point["coverage"] for point in curve]
    assert coverages == sorted(coverages)
