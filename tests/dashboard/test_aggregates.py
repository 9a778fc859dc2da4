"""PercentileCont gives PostgreSQL's percentile_cont on both databases."""

import pytest
from django.db.models import Q

from classification.models import Prediction
from dashboard.aggregates import PercentileCont
from tests.dashboard.factories import PredictionFactory


@pytest.fixture
def latencies(db):
    for latency in (40.0, 10.0, None, 30.0, 20.0):
        PredictionFactory(latency_ms=latency)
    return Prediction.objects.all()


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [(0.0, 10.0), (0.5, 25.0), (0.9, 37.0), (1.0, 40.0)],
)
def test_interpolates_between_the_nearest_values_and_skips_nulls(
    latencies, fraction, expected
):
    result = latencies.aggregate(p=PercentileCont("latency_ms", fraction=fraction))
    assert result["p"] == pytest.approx(expected)


def test_filter_and_empty_groups(latencies):
    result = latencies.aggregate(
        low=PercentileCont("latency_ms", fraction=0.5, filter=Q(latency_ms__lt=25)),
        none=PercentileCont("latency_ms", fraction=0.5, filter=Q(latency_ms__lt=0)),
    )
    assert result == {"low": 15.0, "none": None}


def test_two_fractions_in_one_group_by(latencies):
    rows = latencies.values("status").annotate(
        p50=PercentileCont("latency_ms", fraction=0.5),
        p95=PercentileCont("latency_ms", fraction=0.95),
    )
    assert [(r["p50"], r["p95"]) for r in rows] == [(25.0, pytest.approx(38.5))]


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_fractions_outside_zero_to_one_are_refused(fraction):
    with pytest.raises(ValueError):
        PercentileCont("latency_ms", fraction=fraction)
