"""A reviewer works through the review queue in headless Chromium, by keyboard."""

import time

import pytest
from django.contrib.auth.models import Group

from classification.models import Prediction, Review
from tests.accounts.factories import UserFactory
from tests.classification.queue_data import prediction
from tests.e2e.sessions import signed_in_context

LIST_URL = "/admin/classification/reviewitem/"
WORK_URL = f"{LIST_URL}work/"

pytestmark = [
    pytest.mark.browser,
    # The live server reads committed rows; the Reviewers group and the taxonomy
    # come from data migrations, so they are restored for each test.
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def browser(chromium, live_server):
    """The shared Chromium; asking for live_server first closes it before the server."""
    return chromium


def signed_in_page(browser, live_server, user):
    return signed_in_context(browser, live_server, user).new_page()


def five_items() -> list[Prediction]:
    """Five queue items, most uncertain first, each with a real photo file."""
    margins = [0.01, 0.05, 0.10, 0.20, 0.30]
    return [
        prediction(
            top=[
                ("apparel", 0.30 + m),
                ("footwear", 0.30),
                ("bags-luggage", (0.4 - m) / 2),
                ("eyewear", (0.4 - m) / 3),
                ("watches-jewelry", (0.4 - m) / 6),
            ],
            with_file=True,
        )
        for m in margins
    ]


def current_item(page) -> str | None:
    element = page.query_selector("#rq-item")
    return element.get_attribute("data-item") if element else None


def press_and_wait(page, key: str, before: str | None) -> str | None:
    """Press ``key`` and wait until the page shows another item (or none)."""
    page.keyboard.press(key)
    page.wait_for_function(
        """(before) => {
            const item = document.querySelector('#rq-item');
            const empty = document.querySelector('#rq-empty');
            return document.readyState === 'complete'
                && ((item && item.dataset.item !== before) || empty);
        }""",
        arg=before,
        timeout=15_000,
    )
    return current_item(page)


def test_a_reviewer_clears_a_queue_of_five_with_the_keyboard(
    browser, live_server, tmp_path
):
    user = UserFactory(is_staff=True, username="ada")
    user.groups.add(Group.objects.get(name="Reviewers"))
    items = five_items()
    ids = [str(item.pk) for item in items]

    page = signed_in_page(browser, live_server, user)
    page.goto(f"{live_server.url}{LIST_URL}")
    assert page.locator("#result_list tbody tr").count() == 5
    page.screenshot(path=str(tmp_path / "review-queue-list.png"), full_page=True)
    page.click("#work-the-queue")
    page.wait_for_selector("#rq-item")
    assert current_item(page) == ids[0]
    assert page.locator("#rq-choice-1 .rq-name").inner_text() == "Apparel"
    assert page.locator("img[alt^='Photo of']").evaluate("i => i.naturalWidth") > 0
    page.screenshot(path=str(tmp_path / "review-queue.png"), full_page=True)

    # Walking without deciding: next, then back.
    assert press_and_wait(page, "n", ids[0]) == ids[1]
    assert press_and_wait(page, "j", ids[1]) == ids[2]
    assert press_and_wait(page, "k", ids[2]) == ids[1]
    page.goto(f"{live_server.url}{WORK_URL}")

    # The timed run: accept, pick the 2nd, skip, pick the 3rd, accept (with "1").
    plan = ["a", "2", "s", "3", "1"]
    seen = [current_item(page)]
    started = time.perf_counter()
    for key in plan:
        seen.append(press_and_wait(page, key, seen[-1]))
    elapsed = time.perf_counter() - started
    page.screenshot(path=str(tmp_path / "review-queue-done.png"), full_page=True)
    assert seen == [*ids, None]
    assert page.locator("#rq-empty").is_visible()
    assert "Nothing waiting for you" in page.locator("#rq-empty").inner_text()
    messages = page.locator("ul.messagelist li").all_inner_texts()
    assert any(m.startswith("Accepted:") for m in messages)

    per_minute = len(plan) / elapsed * 60
    print(
        f"\nreview queue by keyboard: {len(plan)} items in {elapsed:.2f} s "
        f"= {per_minute:.0f} items/minute (page round trips only)"
    )

    decisions = {
        r.prediction_id: (
            r.decision,
            r.final_category.slug if r.final_category else None,
        )
        for r in Review.objects.select_related("final_category")
    }
    assert decisions == {
        items[0].pk: ("accepted", "apparel"),
        items[1].pk: ("corrected", "footwear"),
        items[2].pk: ("skipped", None),
        items[3].pk: ("corrected", "bags-luggage"),
        items[4].pk: ("accepted", "apparel"),
    }
    assert all(r.reviewer == user for r in Review.objects.all())
    statuses = dict(Prediction.objects.values_list("pk", "status"))
    assert statuses[items[2].pk] == "needs_review"  # skipped: still waiting
    assert statuses[items[0].pk] == "accepted"


def test_the_second_reviewer_sees_who_decided_first(browser, live_server):
    first = UserFactory(is_staff=True, username="ada")
    second = UserFactory(is_staff=True, username="grace")
    group = Group.objects.get(name="Reviewers")
    for user in (first, second):
        user.groups.add(group)
    (item,) = five_items()[:1]

    ada = signed_in_page(browser, live_server, first)
    grace = signed_in_page(browser, live_server, second)
    for page in (ada, grace):
        page.goto(f"{live_server.url}{WORK_URL}")
        assert current_item(page) == str(item.pk)
    press_and_wait(ada, "a", str(item.pk))
    press_and_wait(grace, "3", str(item.pk))
    warning = grace.locator("ul.messagelist li.warning").inner_text()
    assert warning.startswith("Already accepted by ada")
    assert Review.objects.get().reviewer == first
