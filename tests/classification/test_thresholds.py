"""Auto-accept thresholds proposed from reviewed and audited predictions."""

import json

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Category, ThresholdChange
from catalog.services import category_update
from classification.evidence import threshold_proposals
from classification.models import ModelVersion, Prediction
from classification.services.thresholds import thresholds_apply_proposed
from tests.classification import queue_data


def _evidence(version, slug, confidence, *, right, wrong=0, audit=False):
    for status, count in (("accepted", right), ("corrected", wrong)):
        for _ in range(count):
            row = queue_data.prediction(
                top=[(slug, confidence)], status=status, version=version
            )
            if audit:
                Prediction.objects.filter(pk=row.pk).update(audit=True)


@pytest.fixture
def evidence(db, settings):
    """Apparel: 10 audits at 0.9, all right; 40 reviewed at 0.58, all right;
    40 at 0.50, 15 right. Footwear: 5 decisions only."""
    settings.VITRINE_THRESHOLD_MIN_EVIDENCE = 30
    settings.VITRINE_AUDIT_RATE = 0.03
    settings.VITRINE_AUDIT_RATE_PER_CATEGORY = {}
    version = queue_data.model_version()
    ModelVersion.objects.filter(pk=version.pk).update(status="active")
    _evidence(version, "apparel", 0.9, right=10, audit=True)
    _evidence(version, "apparel", 0.58, right=40)
    _evidence(version, "apparel", 0.50, right=15, wrong=25)
    _evidence(version, "footwear", 0.7, right=4, wrong=1)
    return version


def _row(proposal, slug):
    return next(r for r in proposal["categories"] if r["category"] == slug)


def test_the_proposal_is_the_lowest_threshold_reaching_the_target(evidence):
    proposal = threshold_proposals(target_precision=0.95)
    apparel = _row(proposal, "apparel")
    assert apparel["enough_evidence"] and apparel["reached"]
    # With the 0.50 band: (333 + 40 + 15) / 413 = 0.94 < 0.95, so 0.58.
    assert apparel["proposed_threshold"] == 0.58
    assert apparel["precision"] == 1.0
    assert 0.5 < apparel["low"] < 1.0 and apparel["high"] == 1.0
    assert (apparel["decisions"], apparel["audits"], apparel["evidence"]) == (
        50,
        10,
        90,
    )
    assert apparel["auto_accept_share"] == pytest.approx(50 / 90)
    assert apparel["current_threshold"] == 0.6
    # A lower target takes the 0.50 band in.
    assert (
        _row(threshold_proposals(target_precision=0.9), "apparel")["proposed_threshold"]
        == 0.5
    )


def test_too_few_decisions_say_not_enough_evidence(evidence):
    footwear = _row(threshold_proposals(target_precision=0.95), "footwear")
    assert footwear["enough_evidence"] is False
    assert footwear["proposed_threshold"] is None
    assert footwear["note"].startswith("not enough evidence: 5 decisions")


def test_an_unreachable_target_sends_everything_to_review(evidence):
    Prediction.objects.filter(category__slug="apparel", audit=True).update(
        status="corrected"
    )
    apparel = _row(threshold_proposals(target_precision=0.95), "apparel")
    assert (apparel["proposed_threshold"], apparel["reached"]) == (1.0, False)
    assert apparel["auto_accept_share"] == 0.0


def test_applying_changes_only_what_has_evidence_and_records_it(evidence, reviewer):
    changes = thresholds_apply_proposed(
        target_precision=0.95, user=reviewer, reason="quarterly review"
    )
    assert [(c.category.slug, c.old_threshold, c.new_threshold) for c in changes] == [
        ("apparel", 0.6, 0.58)
    ]
    change = ThresholdChange.objects.get()
    assert change.changed_by == reviewer
    assert "quarterly review" in change.reason and "95.0%" in change.reason
    assert Category.objects.get(slug="apparel").auto_accept_threshold == 0.58
    assert Category.objects.get(slug="footwear").auto_accept_threshold == 0.6


def test_proposing_changes_nothing(evidence):
    threshold_proposals(target_precision=0.95)
    assert not ThresholdChange.objects.exists()
    assert Category.objects.get(slug="apparel").auto_accept_threshold == 0.6


def test_a_threshold_edited_by_hand_is_recorded(db, reviewer):
    apparel = Category.objects.get(slug="apparel")
    category_update(category=apparel, user=reviewer, auto_accept_threshold=0.75)
    change = ThresholdChange.objects.get()
    assert (change.old_threshold, change.new_threshold, change.changed_by) == (
        0.6,
        0.75,
        reviewer,
    )


def test_the_command_shows_the_forecast_and_applies_only_when_asked(evidence, capsys):
    call_command("propose_thresholds", "--target-precision", "0.95")
    out = capsys.readouterr().out
    assert "apparel" in out and "0.580" in out and "not enough evidence" in out
    assert not ThresholdChange.objects.exists()
    call_command(
        "propose_thresholds", "--target-precision", "0.95", "--apply", "--json"
    )
    body = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert body["applied"] == [{"category": "apparel", "old": 0.6, "new": 0.58}]
    assert Category.objects.get(slug="apparel").auto_accept_threshold == 0.58


def test_the_command_refuses_a_bad_target(evidence):
    with pytest.raises(CommandError, match="target_precision"):
        call_command("propose_thresholds", "--target-precision", "1.5")


def test_the_admin_shows_the_forecast_and_applies_on_confirm(admin_client, evidence):
    from django.urls import reverse

    url = reverse("admin:classification_modelversion_thresholds")
    page = admin_client.get(url, {"target_precision": "0.95"}).content.decode()
    assert 'id="threshold-proposal"' in page
    assert "0.580" in page and "not enough evidence" in page
    assert "Apply the 1 proposed thresholds" in page
    assert not ThresholdChange.objects.exists()
    response = admin_client.post(
        url, {"target_precision": "0.95", "reason": "checked", "apply": "1"}
    )
    assert response.status_code == 302
    change = ThresholdChange.objects.get()
    assert change.new_threshold == 0.58 and "checked" in change.reason
    listed = admin_client.get(
        reverse("admin:catalog_thresholdchange_changelist")
    ).content.decode()
    assert "Apparel" in listed and "checked" in listed


def test_the_admin_refuses_a_bad_target(admin_client, evidence):
    from django.urls import reverse

    url = reverse("admin:classification_modelversion_thresholds")
    page = admin_client.get(url, {"target_precision": "2"}).content.decode()
    assert "errorlist" in page
    assert 'id="threshold-proposal"' not in page


def test_the_admin_action_needs_no_selection(admin_client, evidence):
    from django.urls import reverse

    response = admin_client.post(
        reverse("admin:classification_modelversion_changelist"),
        {"action": "propose_thresholds"},
    )
    assert response.status_code == 302
    assert response.url == reverse("admin:classification_modelversion_thresholds")
