"""Every figure of the dashboard against a hand count of the history in conftest."""

from datetime import UTC, date, datetime

import pytest

from catalog.selectors import merchant_summary
from dashboard.selectors import CHARTS, Period, dashboard_chart, dashboard_data
from tests.dashboard.conftest import NOW, PERIOD, day
from tests.dashboard.factories import ImageFactory, PredictionFactory, ReviewFactory

DAYS = [f"2026-03-{d:02d}" for d in range(9, 16)]


@pytest.fixture
def board(known):
    return dashboard_data(period=PERIOD, now=NOW)


def test_period_covers_whole_local_days_both_ends_included():
    period = Period(start=date(2026, 3, 9), end=date(2026, 3, 15))
    assert len(period) == 7
    assert period.start_at == datetime(2026, 3, 9, tzinfo=UTC)
    assert period.end_at == datetime(2026, 3, 16, tzinfo=UTC)
    assert Period.last(7, today=date(2026, 3, 15)) == period


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2026, 3, 10), date(2026, 3, 9)), (date(2024, 1, 1), date(2026, 1, 1))],
)
def test_period_refuses_reversed_or_overlong_ranges(start, end):
    with pytest.raises(ValueError):
        Period(start=start, end=end)


def test_headline_numbers(board):
    assert board["numbers"] == {
        "images_today": 1,  # I4
        "backlog": 2,  # P4 and Q2
        "auto_accept_rate": round(2 / 6, 4),  # P0b, P2 of six classifications
        "live_precision": 0.5,  # of the period's P1 (accepted) and P3 (corrected)
        "audit_precision": None,  # no audit sample in this history
        "audit_interval": None,
        "audited": 0,
        "p95_latency_ms": 175.0,  # 40 50 60 80 100 200: 100 + .75 * 100
    }
    assert board["period"] == {"start": "2026-03-09", "end": "2026-03-15", "days": 7}
    assert board["merchant"] is None
    assert set(board["charts"]) == set(CHARTS)
    assert board["empty"] is False


def test_a_quiet_period_is_empty_even_with_an_old_backlog(known):
    quiet = Period(start=date(2025, 1, 1), end=date(2025, 1, 31))
    board = dashboard_data(period=quiet, now=NOW)
    assert board["empty"] is True
    assert board["charts"]["backlog_age"]["counts"] == [1, 1, 0, 0]


def test_uploads_and_classifications_per_day_include_midnight_start(board):
    activity = board["charts"]["activity"]
    assert activity["labels"] == DAYS
    # K1 at 00:00 on the 9th counts, K0 one second earlier does not.
    assert activity["uploads"] == [2, 1, 0, 3, 0, 2, 1]
    assert activity["classified"] == [1, 0, 0, 2, 1, 1, 1]
    assert activity["empty"] is False


def test_category_distribution_predicted_and_confirmed(board):
    categories = board["charts"]["categories"]
    assert categories["labels"] == ["Shoes", "Bags", "Hats"]
    assert categories["slugs"] == ["test-shoes", "test-bags", "test-hats"]
    assert categories["predicted"] == [3, 2, 1]  # P0b P1 P3 / P2 Q2 / P4
    assert categories["confirmed"] == [1, 0, 1]  # P1 / - / P3 (P5 is older)


def test_confidence_histogram_by_outcome_with_bin_edges(board):
    confidence = board["charts"]["confidence"]
    assert confidence["labels"][0] == "0.0–0.1"
    assert confidence["labels"][9] == "0.9–1.0"
    assert confidence["auto_accepted"] == [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]
    # 0.30 falls in the 0.3 bin (lower edges count); 0.52 and 0.55 share 0.5.
    assert confidence["sent_to_review"] == [0, 0, 0, 1, 1, 2, 0, 0, 0, 0]


def test_backlog_per_day_counts_joins_first_reviews_and_replacements(board):
    # Before the 9th: P0 and P5 wait. 9th +P1; 10th a skip changes nothing;
    # 11th P1 accepted; 12th +P3; 13th P0 replaced and P5 reviewed;
    # 14th +Q2 and P3 corrected; 15th +P4.
    assert board["charts"]["backlog"]["backlog"] == [3, 3, 2, 3, 1, 1, 2]
    assert board["charts"]["backlog"]["backlog"][-1] == board["numbers"]["backlog"]


def test_backlog_of_a_past_period_counts_back_from_now(known):
    earlier = Period(start=date(2026, 3, 9), end=date(2026, 3, 12))
    backlog = dashboard_chart(name="backlog", period=earlier, now=NOW)
    assert backlog["backlog"] == [3, 3, 2, 3]


def test_backlog_age_now(board):
    age = board["charts"]["backlog_age"]
    assert age["labels"] == ["Under 1 day", "1 to 3 days", "3 to 7 days", "Over 7 days"]
    assert age["counts"] == [1, 1, 0, 0]  # P4 one hour, Q2 27 hours
    assert age["oldest_hours"] == 27.0


def test_review_outcomes_and_live_precision_per_model_version(board):
    # v1's P5 was written before the period, so only v2's P1 and P3 count.
    assert board["charts"]["outcomes"] == {
        "labels": ["v2"],
        "accepted": [1],
        "corrected": [1],
        "precision": [0.5],
        "empty": False,
    }


def test_outcomes_follow_the_predictions_written_in_the_period(known):
    longer = Period(start=date(2026, 2, 20), end=PERIOD.end)
    outcomes = dashboard_chart(name="outcomes", period=longer, now=NOW)
    assert outcomes["labels"] == ["v1", "v2"]  # by version age
    assert outcomes["accepted"] == [0, 1]
    assert outcomes["corrected"] == [1, 1]
    assert outcomes["precision"] == [0.0, 0.5]


def test_confusion_matrix_of_the_active_version_only(board):
    confusion = board["charts"]["confusion"]
    assert confusion["model_version"] == "v2"
    assert confusion["labels"] == ["Hats", "Shoes"]
    # P1: shoes predicted, shoes confirmed. P3: shoes predicted, hats decided.
    # P5 is v1's and is left out.
    assert confusion["cells"] == [
        {"actual": 0, "predicted": 1, "count": 1},
        {"actual": 1, "predicted": 1, "count": 1},
    ]
    assert confusion["total"] == 2


def test_latency_percentiles_per_day(board):
    latency = board["charts"]["latency"]
    assert latency["p50"] == [50.0, None, None, 50.0, 100.0, 200.0, 80.0]
    # The 12th holds 40 and 60 ms: p95 = 40 + .95 * 20.
    assert latency["p95"] == [50.0, None, None, 59.0, 100.0, 200.0, 80.0]


def test_failures_per_day_by_reason(board):
    failures = board["charts"]["failures"]
    assert failures["datasets"] == [
        {"label": "(no reason recorded)", "data": [0, 1, 0, 0, 0, 0, 0]},
        {
            "label": "The stored image file is missing.",
            "data": [0, 0, 0, 1, 0, 0, 0],
        },
    ]
    assert failures["total"] == 2


def test_rarer_failure_reasons_are_grouped_as_other(known):
    for i, reason in enumerate(["a", "a", "b", "b", "c", "c", "d", "d", "e", "f"]):
        PredictionFactory(
            image=ImageFactory(product__merchant=known.beta),
            model_version=known.v2,
            status="failed",
            confidence=None,
            error=f"reason {reason}",
            created_at=day(i % 2),
        )
    failures = dashboard_chart(name="failures", period=PERIOD, now=NOW)
    labels = [d["label"] for d in failures["datasets"]]
    # Top five by count (ties by text), then the rest; 12 failures in all.
    assert labels == [
        "reason a",
        "reason b",
        "reason c",
        "reason d",
        "(no reason recorded)",
        "Other reasons",
    ]
    other = failures["datasets"][-1]["data"]
    assert sum(other) == 3  # e, f and the missing file
    assert failures["total"] == 12


def test_a_failure_a_reviewer_categorised_stays_a_failure(known):
    failed = PredictionFactory(
        image=ImageFactory(product__merchant=known.beta),
        model_version=known.v2,
        status="corrected",
        confidence=None,
        latency_ms=None,
        error="The file is not an image we can read.",
        created_at=day(2),
    )
    ReviewFactory(
        prediction=failed,
        decision="corrected",
        final_category=known.bags,
        created_at=day(1),
    )
    board = dashboard_data(period=PERIOD, merchant=known.beta, now=NOW)
    charts = board["charts"]
    assert charts["activity"]["classified"] == [0, 0, 0, 0, 0, 1, 0]  # Q2 only
    assert charts["failures"]["total"] == 3
    assert charts["backlog"]["backlog"] == [0, 0, 0, 0, 0, 1, 1]
    # The reviewer's category counts as confirmed, but not against the model.
    assert charts["categories"]["confirmed"] == [1]
    assert charts["outcomes"]["empty"] is True
    assert charts["confusion"]["empty"] is True
    assert board["numbers"]["live_precision"] is None


def test_an_overruled_automatic_acceptance_counts_as_sent_to_review(known):
    overruled = PredictionFactory(
        image=ImageFactory(product__merchant=known.beta),
        model_version=known.v2,
        status="corrected",
        confidence=0.91,
        latency_ms=30,
        category=known.bags,
        created_at=day(2),
    )
    ReviewFactory(
        prediction=overruled,
        decision="corrected",
        final_category=known.hats,
        created_at=day(2, hour=13),
    )
    board = dashboard_data(period=PERIOD, merchant=known.beta, now=NOW)
    assert board["numbers"]["auto_accept_rate"] == 0.0
    assert board["charts"]["confidence"]["sent_to_review"][9] == 1
    # It joined and left the backlog on the 13th: the day ends with Q2 alone.
    assert board["charts"]["backlog"]["backlog"] == [0, 0, 0, 0, 0, 1, 1]
    assert board["charts"]["outcomes"]["corrected"] == [1]


def test_top_merchants_by_uploads_with_outcomes(board):
    merchants = board["charts"]["merchants"]
    assert merchants["labels"] == ["Alpha", "Beta"]
    assert merchants["totals"] == [5, 4]
    assert {d["key"]: d["data"] for d in merchants["datasets"]} == {
        "sorted": [1, 0],
        "review": [3, 1],
        "failed": [0, 2],
        "in_progress": [1, 1],
    }


def test_merchant_filter_scopes_every_figure(known):
    board = dashboard_data(period=PERIOD, merchant=known.beta, now=NOW)
    charts = board["charts"]
    assert board["merchant"] == {"id": known.beta.pk, "name": "Beta"}
    assert board["numbers"] == {
        "images_today": 0,
        "backlog": 1,
        "auto_accept_rate": 0.0,
        "live_precision": None,
        "audit_precision": None,
        "audit_interval": None,
        "audited": 0,
        "p95_latency_ms": 200.0,
    }
    assert charts["activity"]["uploads"] == [0, 1, 0, 1, 0, 2, 0]
    assert charts["activity"]["classified"] == [0, 0, 0, 0, 0, 1, 0]
    assert charts["backlog"]["backlog"] == [0, 0, 0, 0, 0, 1, 1]
    assert charts["categories"]["labels"] == ["Bags"]
    assert charts["outcomes"]["empty"] is True
    assert charts["confusion"]["empty"] is True
    assert charts["merchants"]["labels"] == ["Beta"]
    assert charts["failures"]["total"] == 2

    alpha = dashboard_data(period=PERIOD, merchant=known.alpha, now=NOW)
    assert alpha["charts"]["backlog"]["backlog"] == [3, 3, 2, 3, 1, 0, 1]
    assert alpha["charts"]["failures"]["empty"] is True
    assert alpha["numbers"]["live_precision"] == 0.5


def test_days_follow_the_configured_time_zone(known, settings):
    settings.TIME_ZONE = "America/New_York"
    # 02:00 UTC on the 10th is still the 9th in New York.
    ImageFactory(
        product__merchant=known.beta,
        created_at=datetime(2026, 3, 10, 2, 0, tzinfo=UTC),
    )
    activity = dashboard_chart(
        name="activity", period=PERIOD, merchant=known.beta, now=NOW
    )
    # New York days: J4 (10th 08:00), J1 (12th), J2 and J3 (14th) and the new one.
    assert activity["uploads"] == [1, 1, 0, 1, 0, 2, 0]


def test_a_new_install_has_empty_charts_and_no_rates(db):
    board = dashboard_data(period=PERIOD, now=NOW)
    assert board["numbers"] == {
        "images_today": 0,
        "backlog": 0,
        "auto_accept_rate": None,
        "live_precision": None,
        "audit_precision": None,
        "audit_interval": None,
        "audited": 0,
        "p95_latency_ms": None,
    }
    assert all(chart["empty"] for chart in board["charts"].values())
    assert board["empty"] is True
    assert board["charts"]["backlog"]["backlog"] == [0] * 7
    assert board["charts"]["latency"]["p95"] == [None] * 7
    assert board["charts"]["confusion"]["model_version"] is None


def test_dashboard_data_makes_a_fixed_number_of_queries(  # 3 for the changes
    known, django_assert_max_num_queries
):
    # 19 for the charts and figures, 3 for the changes, 2 for the pipeline now.
    with django_assert_max_num_queries(24):
        dashboard_data(period=PERIOD, now=NOW)
    with django_assert_max_num_queries(24):
        dashboard_data(period=Period.last(90, today=PERIOD.end), now=NOW)


def test_unknown_chart_is_a_key_error(db):
    with pytest.raises(KeyError):
        dashboard_chart(name="numbers", period=PERIOD)


def test_merchant_summary_counts_only_that_merchants_images(known):
    alpha = merchant_summary(merchant=known.alpha, days=7, today=PERIOD.end)
    assert alpha["uploaded"] == 5  # K1 I1 I2 I3 I4
    assert alpha["sorted"] == 1  # I2
    assert alpha["auto_rate"] == 0.25  # I2 of I1 I2 I3 I4
    assert alpha["waiting"] == 1  # I4
    assert alpha["failed"] == 0
    series = {d["key"]: d["data"] for d in alpha["chart"]["datasets"]}
    assert series == {
        "sorted": [0, 0, 0, 1, 0, 0, 0],
        "review": [1, 0, 0, 1, 0, 0, 1],
        "failed": [0] * 7,
        "in_progress": [1, 0, 0, 0, 0, 0, 0],
    }
    assert alpha["chart"]["labels"] == DAYS

    beta = merchant_summary(merchant=known.beta, days=7, today=PERIOD.end)
    assert (beta["uploaded"], beta["sorted"], beta["waiting"], beta["failed"]) == (
        4,
        0,
        1,
        2,
    )
    assert beta["auto_rate"] == 0.0


def test_merchant_summary_of_a_new_merchant_is_empty(merchant):
    summary = merchant_summary(merchant=merchant)
    assert summary["uploaded"] == 0
    assert summary["auto_rate"] is None
    assert summary["chart"]["empty"] is True
    assert len(summary["chart"]["labels"]) == 30


def test_merchant_summary_is_one_query(known, django_assert_num_queries):
    with django_assert_num_queries(1):
        merchant_summary(merchant=known.alpha)


def test_audit_samples_measure_automatic_decisions_and_not_live_precision(known):
    version = known.predictions["P1"].model_version
    for status in ("accepted", "accepted", "accepted", "corrected"):
        PredictionFactory(
            model_version=version, status=status, audit=True, created_at=day(2)
        )
    numbers = dashboard_data(period=PERIOD, now=NOW)["numbers"]
    assert numbers["live_precision"] == 0.5  # P1 and P3 only, as before
    assert numbers["audit_precision"] == 0.75
    assert numbers["audited"] == 4
    low, high = numbers["audit_interval"]
    assert 0.25 < low < 0.75 < high < 1.0
    # Audited predictions were decided by the model: 2 + 4 of 10 classifications.
    assert numbers["auto_accept_rate"] == 0.6


def test_key_figures_show_the_change_against_the_period_before(board):
    # The 7 days before: 03-02 to 03-08, where only P0 was written (v1, sent to
    # review, 90 ms, never reviewed); yesterday (03-14) J2 and J3 came in.
    first_day_backlog = board["charts"]["backlog"]["backlog"][0]
    texts = {key: change.pop("text") for key, change in board["changes"].items()}
    assert texts == {
        "images_today": "−1 vs yesterday",
        "backlog": f"{2 - first_day_backlog:+} vs the end of 9 Mar".replace("-", "−")
        if first_day_backlog != 2
        else "the same as the end of 9 Mar",
        "auto_accept_rate": "+33.3 pts vs the 7 days before",
        "live_precision": "no data in the 7 days before",
        "p95_latency_ms": "+85 ms vs the 7 days before",
    }
    assert board["changes"] == {
        "images_today": {"previous": 2, "delta": -1, "against": "yesterday"},
        "backlog": {
            "previous": first_day_backlog,
            "delta": 2 - first_day_backlog,
            "against": "the end of 9 Mar",
        },
        "auto_accept_rate": {
            "previous": 0.0,
            "delta": 33.3,  # percentage points: 2 of 6 against 0 of 1
            "against": "the 7 days before",
        },
        "live_precision": {
            "previous": None,  # nothing reviewed: nothing to compare with
            "delta": None,
            "against": "the 7 days before",
        },
        "p95_latency_ms": {
            "previous": 90.0,
            "delta": 85.0,
            "against": "the 7 days before",
        },
    }


def test_the_period_before_is_as_long_and_ends_the_day_before():
    assert PERIOD.previous() == Period(start=date(2026, 3, 2), end=date(2026, 3, 8))
