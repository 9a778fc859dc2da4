"""The review queue's admin pages answer malformed URLs with a page, not a 500."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from tests.accounts.factories import UserFactory
from tests.classification.queue_data import prediction

pytestmark = pytest.mark.django_db

WORK_URL = "/admin/classification/reviewitem/work/"


@pytest.fixture
def reviewer_client():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Reviewers"))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("position", ["9" * 23, str(2**63), "5", "-3", "²", "x"])
def test_a_position_past_the_queue_starts_over_from_the_top(reviewer_client, position):
    first = prediction()
    prediction()
    response = reviewer_client.get(WORK_URL, {"position": position}, follow=True)
    assert response.status_code == 200
    assert response.context["item"] == first


def test_a_huge_position_in_an_empty_queue_shows_the_empty_queue(reviewer_client):
    response = reviewer_client.get(WORK_URL, {"position": "9" * 23})
    assert response.status_code == 200
    assert response.context["item"] is None


@pytest.mark.parametrize("param", ["merchant", "category", "model_version"])
@pytest.mark.parametrize("value", ["9" * 23, "²", "\x00"])
def test_odd_queue_filters_do_not_fail(reviewer_client, param, value):
    prediction()
    response = reviewer_client.get(WORK_URL, {param: value}, follow=True)
    assert response.status_code == 200


@pytest.mark.parametrize("object_id", ["abc", "²", "1.5", "-1"])
def test_an_item_id_that_is_no_number_is_a_404(reviewer_client, object_id):
    prediction()
    response = reviewer_client.get(
        f"/admin/classification/reviewitem/{object_id}/change/"
    )
    assert response.status_code == 404


@pytest.mark.parametrize("object_id", ["9" * 23, "²", "abc"])
def test_a_decision_on_an_id_that_is_no_item_is_reported(reviewer_client, object_id):
    response = reviewer_client.post(
        f"/admin/classification/reviewitem/{object_id}/review/",
        {"decision": "skipped", "next": WORK_URL},
        follow=True,
    )
    assert response.status_code == 200
