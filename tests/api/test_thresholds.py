"""Threshold proposals, their explicit apply and the record over the API."""

from catalog.models import Category, ThresholdChange
from tests.api.conftest import assert_error
from tests.classification.test_thresholds import evidence  # noqa: F401


def test_the_proposal_changes_nothing_and_apply_records_who_and_why(
    staff_api,
    evidence,  # noqa: F811
):
    response = staff_api.get("/api/v1/thresholds/proposal/?target_precision=0.95")
    assert response.status_code == 200, response.content
    rows = {row["category"]: row for row in response.json()["categories"]}
    assert rows["apparel"]["proposed_threshold"] == 0.58
    assert rows["footwear"]["note"].startswith("not enough evidence")
    assert not ThresholdChange.objects.exists()

    response = staff_api.post(
        "/api/v1/thresholds/apply/",
        {"target_precision": 0.95, "reason": "monthly"},
        format="json",
    )
    assert response.status_code == 200, response.content
    (change,) = response.json()
    assert (change["category"], change["old_threshold"], change["new_threshold"]) == (
        "apparel",
        0.6,
        0.58,
    )
    assert change["changed_by"] and "monthly" in change["reason"]
    assert Category.objects.get(slug="apparel").auto_accept_threshold == 0.58
    listed = staff_api.get("/api/v1/thresholds/").json()
    assert [c["id"] for c in listed["results"]] == [change["id"]]


def test_bad_threshold_input_is_refused(
    staff_api,
    evidence,  # noqa: F811
):
    assert_error(
        staff_api.get("/api/v1/thresholds/proposal/?target_precision=high"),
        400,
        "invalid",
    )
    assert_error(
        staff_api.get("/api/v1/thresholds/proposal/?target_precision=1"), 400, "invalid"
    )
    assert_error(
        staff_api.post(
            "/api/v1/thresholds/apply/",
            {"target_precision": 0.95, "categories": ["nonsense"]},
            format="json",
        ),
        400,
        "invalid",
    )
    assert_error(
        staff_api.post("/api/v1/thresholds/apply/", {}, format="json"), 400, "invalid"
    )
    assert not ThresholdChange.objects.exists()
