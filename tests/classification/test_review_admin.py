import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from catalog.models import Category, Product, ProductImage
from classification.models import NearDuplicate, Prediction, Review
from classification.services.reviews import prediction_review
from tests.accounts.factories import MerchantFactory, UserFactory
from tests.catalog.factories import ProductFactory
from tests.classification.queue_data import (
    TOP5,
    category,
    image,
    model_version,
    prediction,
    with_merchant_category,
)

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/classification/reviewitem/"
WORK_URL = "/admin/classification/reviewitem/work/"


def review_url(item) -> str:
    return f"/admin/classification/reviewitem/{item.pk}/review/"


def make_reviewer(username=None):
    user = UserFactory(is_staff=True, **({"username": username} if username else {}))
    user.groups.add(Group.objects.get(name="Reviewers"))
    return user


@pytest.fixture
def reviewer():
    return make_reviewer("ada")


@pytest.fixture
def reviewer_client(reviewer):
    client = Client()
    client.force_login(reviewer)
    return client


def reload(row):
    row.refresh_from_db()
    return row


UNDO_FORM = re.compile(r' <form method="post" action="[^"]*/undo/".*?</form>$')


def messages_of(response) -> list[str]:
    """The messages' text, without the undo form a decision's message ends with."""
    return [UNDO_FORM.sub("", str(m)) for m in get_messages(response.wsgi_request)]


# --- who may do what -----------------------------------------------------------


def test_reviewers_group_holds_exactly_the_queue_permissions():
    group = Group.objects.get(name="Reviewers")
    assert sorted(group.permissions.values_list("codename", flat=True)) == [
        "change_reviewitem",
        "view_reviewitem",
    ]
    assert {p.content_type.model for p in group.permissions.all()} == {"reviewitem"}


def test_a_reviewer_sees_only_the_review_queue_in_the_admin(reviewer_client):
    response = reviewer_client.get("/admin/")
    assert response.status_code == 200
    models = [
        (app["app_label"], model["object_name"])
        for app in response.context["app_list"]
        for model in app["models"]
    ]
    assert models == [("classification", "ReviewItem")]


@pytest.mark.parametrize(
    "url",
    [
        "/admin/catalog/product/",
        "/admin/catalog/productimage/",
        "/admin/catalog/category/",
        "/admin/classification/prediction/",
        "/admin/classification/review/",
        "/admin/classification/modelversion/",
        "/admin/accounts/user/",
        "/admin/auth/group/",
    ],
)
def test_a_reviewer_is_refused_everything_else(reviewer_client, url):
    assert reviewer_client.get(url).status_code == 403


@pytest.mark.parametrize("url", ["/admin/", LIST_URL, WORK_URL])
def test_a_merchant_never_sees_the_admin(merchant_client, url):
    response = merchant_client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_merchant_cannot_post_a_review(merchant_client):
    item = prediction(top=TOP5)
    response = merchant_client.post(review_url(item), {"decision": "accepted"})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert not Review.objects.exists()


def test_staff_outside_the_reviewers_group_cannot_work_the_queue(client):
    client.force_login(UserFactory(is_staff=True))
    item = prediction(top=TOP5)
    assert client.get(LIST_URL).status_code == 403
    assert client.get(WORK_URL).status_code == 403
    assert client.post(review_url(item), {"decision": "accepted"}).status_code == 403
    assert not Review.objects.exists()


def test_a_permission_stored_on_a_user_gives_nothing_beyond_their_roles(client):
    # The roles table decides: a permission ticked on a user in the database
    # does not open the queue to staff outside the Reviewers group.
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_reviewitem"))
    client.force_login(user)
    item = prediction(top=TOP5)
    assert client.get(WORK_URL).status_code == 403
    assert client.post(review_url(item), {"decision": "accepted"}).status_code == 403
    assert not Review.objects.exists()


def test_superusers_work_the_queue_too(client, staff_user):
    client.force_login(staff_user)
    item = prediction(top=TOP5)
    response = client.post(review_url(item), {"decision": "accepted", "next": WORK_URL})
    assert response.status_code == 302
    assert Review.objects.get().reviewer == staff_user


# --- the list -----------------------------------------------------------------


def test_list_shows_the_queue_most_uncertain_first_with_its_details(
    reviewer_client,
):
    product = with_merchant_category(
        ProductFactory(name="Blue sandal", sku="BS-1"), "footwear"
    )
    sure = prediction(top=[("apparel", 0.55), ("footwear", 0.1)])
    torn = prediction(top=TOP5, product=product)
    other = image(merchant=product.merchant)
    NearDuplicate.objects.create(
        image=torn.image, duplicate_of=other, method="phash", score=1
    )
    response = reviewer_client.get(LIST_URL)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [torn, sure]
    html = response.content.decode()
    assert "Blue sandal" in html and "BS-1" in html
    assert product.merchant.name in html
    assert "Bags &amp; Luggage <span class='quiet'>12%</span>" in html
    assert "Footwear <span class='quiet'>(merchant)</span>" in html
    assert "Disagrees with the merchant" in html
    assert torn.model_version.name in html
    assert reverse("catalog:image-file", args=[other.pk]) in html
    assert other.product.name in html
    assert 'id="work-the-queue"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"shop", "eyewear", "failed", "old"}),
        ("reason=failed", {"failed"}),
        ("reason=low_confidence", {"shop", "eyewear", "old"}),
        ("age=7d", {"old"}),
        ("age=1d", {"old", "failed"}),
    ],
)
def test_list_filters(reviewer_client, query, expected):
    items = queue_for_filters()
    response = reviewer_client.get(f"{LIST_URL}?{query}")
    assert response.status_code == 200
    names = {k for k, v in items.items() if v in response.context["cl"].result_list}
    assert names == expected


def test_list_filters_by_merchant_category_and_model_version(reviewer_client):
    items = queue_for_filters()
    shop = items["shop"].image.merchant
    version = items["eyewear"].model_version
    eyewear = category("eyewear")
    for query, key in [
        (f"merchant={shop.pk}", "shop"),
        (f"category={eyewear.pk}", "eyewear"),
        (f"model_version={version.pk}", "eyewear"),
    ]:
        response = reviewer_client.get(f"{LIST_URL}?{query}")
        assert list(response.context["cl"].result_list) == [items[key]], query


@pytest.mark.parametrize("query", ["merchant=abc", "age=5y", "reason=boredom"])
def test_list_and_work_page_refuse_a_nonsense_filter(reviewer_client, query):
    queue_for_filters()
    response = reviewer_client.get(f"{LIST_URL}?{query}")
    assert response.status_code == 302
    assert "e=1" in response["Location"]
    response = reviewer_client.get(f"{WORK_URL}?{query}")
    assert (response.status_code, response["Location"]) == (302, WORK_URL)
    assert messages_of(response) == ["Unknown queue filter."]


def queue_for_filters() -> dict[str, Prediction]:
    return {
        "shop": prediction(top=TOP5, merchant=MerchantFactory()),
        "eyewear": prediction(
            top=[("eyewear", 0.5), ("apparel", 0.3)], version=model_version()
        ),
        "failed": prediction(top=None, age=timedelta(days=2)),
        "old": prediction(top=TOP5, age=timedelta(days=9)),
    }


def make_queue(size: int, merchants: int = 10) -> list[Prediction]:
    """``size`` queue items over ``merchants`` merchants, written in bulk."""
    version = model_version()
    shops = [MerchantFactory() for _ in range(merchants)]
    slugs = [slug for slug, _ in TOP5]
    categories = {c.slug: c for c in Category.objects.filter(slug__in=slugs)}
    products = Product.objects.bulk_create(
        [
            Product(
                merchant=shops[n % merchants],
                sku=f"Q-{n}",
                name=f"Queued {n}",
                category=categories["footwear"] if n % 7 == 0 else None,
                category_source="merchant" if n % 7 == 0 else "",
            )
            for n in range(size)
        ]
    )
    images = ProductImage.objects.bulk_create(
        [
            ProductImage(
                product=p,
                merchant_id=p.merchant_id,
                file=f"images/q{n}.png",
                thumbnail=f"thumbnails/q{n}.png",
                sha256=f"q{n:063d}",
                width=96,
                height=96,
                format="PNG",
                byte_size=1,
                status="needs_review",
            )
            for n, p in enumerate(products)
        ]
    )
    for n in range(1, size, 10):
        NearDuplicate.objects.create(
            image=images[n], duplicate_of=images[n - 1], method="phash", score=2
        )
    predictions = Prediction.objects.bulk_create(
        [
            Prediction(
                image=img,
                model_version=version,
                category=categories[slugs[n % 5]],
                confidence=0.4,
                margin=(n % 97) / 100,
                top_k=[{"category": s, "probability": 0.2} for s in slugs],
                status="needs_review",
            )
            if n % 50
            else Prediction(
                image=img, model_version=version, status="failed", error="Unreadable."
            )
            for n, img in enumerate(images)
        ]
    )
    return predictions


LIST_QUERY_BUDGET = 15


def test_list_of_a_1000_item_queue_takes_a_fixed_number_of_queries(
    reviewer_client, django_assert_max_num_queries
):
    make_queue(20)
    reviewer_client.get(LIST_URL)  # session and permissions warm up alike
    with django_assert_max_num_queries(LIST_QUERY_BUDGET) as small:
        assert reviewer_client.get(LIST_URL).status_code == 200
    make_queue(980)
    with django_assert_max_num_queries(LIST_QUERY_BUDGET) as large:
        response = reviewer_client.get(LIST_URL)
    assert response.context["cl"].result_count == 1000
    assert len(response.context["cl"].result_list) == 50
    assert len(large.captured_queries) == len(small.captured_queries)
    print(f"\nreview queue list, 1,000 items: {len(large)} queries")


def test_work_page_of_a_1000_item_queue_takes_a_fixed_number_of_queries(
    reviewer_client, django_assert_max_num_queries
):
    make_queue(1000)
    with django_assert_max_num_queries(LIST_QUERY_BUDGET) as captured:
        response = reviewer_client.get(WORK_URL)
    assert response.context["waiting"] == 1000
    print(f"\nreview queue work page, 1,000 items: {len(captured)} queries")


# --- the work page -------------------------------------------------------------


def test_work_page_shows_the_most_uncertain_item_ready_to_decide(reviewer_client):
    product = with_merchant_category(ProductFactory(name="Red boot"), "footwear")
    prediction(top=[("apparel", 0.6), ("footwear", 0.1)])
    item = prediction(top=TOP5, product=product)
    following = prediction(top=[("apparel", 0.5), ("footwear", 0.1)])
    response = reviewer_client.get(WORK_URL)
    assert response.status_code == 200
    assert response.context["item"] == item
    html = response.content.decode()
    assert "Red boot" in html
    assert reverse("catalog:image-file", args=[item.image_id]) in html
    assert 'id="rq-merchant-category">Footwear' in html
    assert item.model_version.name in html
    buttons = re.findall(
        r'data-shortcut="(\d)".*?class="rq-name">([^<]+)<.*?class="rq-p">(\d+)%',
        html,
        re.S,
    )
    assert buttons == [
        ("1", "Apparel", "41"),
        ("2", "Footwear", "33"),
        ("3", "Bags &amp; Luggage", "12"),
        ("4", "Eyewear", "8"),
        ("5", "Watches &amp; Jewelry", "6"),
    ]
    for key in ("a", "s", "c", "n"):
        assert f'data-shortcut="{key}"' in html
    # The next item's photo loads while this one is decided.
    next_photo = reverse("catalog:image-file", args=[following.image_id])
    assert f'<link rel="prefetch" href="{next_photo}"' in html
    # No inline scripts: every script is a file.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "js/review_queue.js" in html


def test_work_page_says_when_nothing_is_left(reviewer_client):
    response = reviewer_client.get(WORK_URL)
    assert response.context["item"] is None
    assert b"Nothing waiting for you" in response.content


def test_work_page_shows_the_failure_and_no_accept_for_a_failed_item(
    reviewer_client,
):
    prediction(top=None)
    html = reviewer_client.get(WORK_URL).content.decode()
    assert "could not be decoded" in html
    assert 'data-shortcut="a"' not in html
    assert 'data-shortcut="1"' not in html
    assert 'id="rq-category"' in html


def test_work_page_links_a_near_duplicate(reviewer_client):
    item = prediction(top=TOP5)
    original = image(
        product=ProductFactory(merchant=item.image.merchant, name="First listing")
    )
    NearDuplicate.objects.create(
        image=item.image, duplicate_of=original, method="embedding", score=0.97
    )
    html = reviewer_client.get(WORK_URL).content.decode()
    assert 'id="rq-duplicates"' in html
    assert reverse("catalog:image-file", args=[original.pk]) in html
    assert "First listing" in html


def test_accepting_records_the_decision_and_serves_the_next_item(
    reviewer_client, reviewer
):
    item = prediction(top=TOP5)
    following = prediction(top=[("eyewear", 0.5), ("apparel", 0.1)])
    page = reviewer_client.get(WORK_URL)
    after = page.context["after_decision"]
    response = reviewer_client.post(
        review_url(item), {"decision": "accepted", "next": after}
    )
    assert response.status_code == 302
    assert response["Location"] == after
    review = Review.objects.get()
    assert (review.prediction, review.reviewer, review.decision) == (
        item,
        reviewer,
        "accepted",
    )
    assert review.final_category == category("apparel")
    item.image.product.refresh_from_db()
    assert item.image.product.category_source == "reviewer"
    assert messages_of(response) == [
        f"Accepted: the photo is “Apparel”; {item.image.product.name} is now in "
        "“Apparel”."
    ]
    assert reviewer_client.get(after).context["item"] == following


@pytest.mark.parametrize(
    ("decision", "slug", "stored"),
    [
        ("corrected", "footwear", "corrected"),
        ("accepted", "apparel", "accepted"),  # the "1" button
        ("corrected", "apparel", "accepted"),  # the top category picked as other
        ("corrected", "pet-supplies", "corrected"),  # any category, from the list
    ],
)
def test_picking_a_category_records_it(reviewer_client, decision, slug, stored):
    item = prediction(top=TOP5)
    reviewer_client.post(
        review_url(item), {"decision": decision, "category": slug, "next": WORK_URL}
    )
    review = Review.objects.get()
    assert (review.decision, review.final_category.slug) == (stored, slug)
    item.refresh_from_db()
    assert item.status == stored


def test_skipping_serves_the_next_item_and_keeps_it_for_the_others(
    reviewer_client,
):
    item = prediction(top=[("apparel", 0.4), ("footwear", 0.39)])
    following = prediction(top=[("apparel", 0.5), ("footwear", 0.1)])
    reviewer_client.post(review_url(item), {"decision": "skipped", "next": WORK_URL})
    assert reviewer_client.get(WORK_URL).context["item"] == following
    other = Client()
    other.force_login(make_reviewer())
    assert other.get(WORK_URL).context["item"] == item
    assert item in reviewer_client.get(LIST_URL).context["cl"].result_list


def test_the_second_reviewer_is_told_who_decided_first(reviewer_client, reviewer):
    item = prediction(top=TOP5)
    other = Client()
    other.force_login(make_reviewer("grace"))
    # Both opened the item; ada decides first.
    assert other.get(WORK_URL).context["item"] == item
    reviewer_client.post(review_url(item), {"decision": "accepted", "next": WORK_URL})
    response = other.post(
        review_url(item),
        {"decision": "corrected", "category": "eyewear", "next": WORK_URL},
        follow=True,
    )
    assert response.status_code == 200
    (message,) = list(response.context["messages"])
    assert message.level_tag == "warning"
    assert str(message).startswith("Already accepted by ada")
    assert "your decision was not saved" in str(message)
    assert Review.objects.count() == 1
    item.image.product.refresh_from_db()
    assert item.image.product.category == category("apparel")


def test_bad_input_is_reported_and_records_nothing(reviewer_client):
    item = prediction(top=TOP5)
    for data, text in [
        ({"decision": "corrected", "category": "no-such"}, "Unknown category"),
        ({"decision": "corrected"}, "Choose the right category"),
        ({"decision": "maybe"}, "Unknown decision"),
    ]:
        response = reviewer_client.post(review_url(item), {**data, "next": WORK_URL})
        assert response.status_code == 302
        assert text in messages_of(response)[-1]
    assert not Review.objects.exists()
    response = reviewer_client.post(
        "/admin/classification/reviewitem/abc/review/", {"decision": "skipped"}
    )
    assert response.status_code == 302
    assert reviewer_client.get(review_url(item)).status_code == 405


def test_a_foreign_next_address_is_not_followed(reviewer_client):
    item = prediction(top=TOP5)
    response = reviewer_client.post(
        review_url(item), {"decision": "skipped", "next": "https://evil.example/"}
    )
    assert response["Location"] == WORK_URL


def test_previous_and_next_walk_the_queue_without_deciding(reviewer_client):
    items = [
        prediction(top=[("apparel", 0.3 + m), ("footwear", 0.3)])
        for m in (0.01, 0.02, 0.03)
    ]
    page = reviewer_client.get(f"{WORK_URL}?position=1")
    assert page.context["item"] == items[1]
    assert page.context["previous_url"] == WORK_URL
    assert page.context["next_url"] == f"{WORK_URL}?position=2"
    # Past the end starts again at the top.
    assert reviewer_client.get(f"{WORK_URL}?position=9").context["item"] == items[0]
    assert not Review.objects.exists()


def test_work_page_keeps_the_lists_filters(reviewer_client):
    shop = MerchantFactory()
    prediction(top=[("apparel", 0.4), ("footwear", 0.39)])
    mine = prediction(top=TOP5, merchant=shop)
    listing = reviewer_client.get(f"{LIST_URL}?merchant={shop.pk}")
    assert listing.context["work_url"] == f"{WORK_URL}?merchant={shop.pk}"
    page = reviewer_client.get(listing.context["work_url"])
    assert page.context["item"] == mine
    assert page.context["after_decision"] == f"{WORK_URL}?merchant={shop.pk}"
    assert page.context["waiting"] == 1
    bad = reviewer_client.get(f"{WORK_URL}?reason=boredom")
    assert bad.status_code == 302


def test_opening_an_item_from_the_list_shows_it(reviewer_client):
    prediction(top=[("apparel", 0.4), ("footwear", 0.39)])
    item = prediction(top=TOP5)
    url = reverse("admin:classification_reviewitem_change", args=[item.pk])
    page = reviewer_client.get(f"{url}?_changelist_filters=reason%3Dlow_confidence")
    assert page.status_code == 200
    assert page.context["item"] == item
    assert page.context["after_decision"] == f"{WORK_URL}?reason=low_confidence"


def test_opening_a_decided_item_says_it_left_the_queue(reviewer_client, reviewer):
    item = prediction(top=TOP5)
    prediction_review(prediction_id=item.pk, reviewer=reviewer, decision="accepted")
    url = reverse("admin:classification_reviewitem_change", args=[item.pk])
    response = reviewer_client.get(url)
    assert response.status_code == 302
    assert "has left the queue" in messages_of(response)[0]


# --- bulk actions ----------------------------------------------------------------


def bulk(client, action, items, *, confirmed="yes", **extra):
    """Post a bulk action as its confirmation page does (``confirmed="yes"``),
    or as the list does (``confirmed=""``: the page that asks)."""
    return client.post(
        LIST_URL,
        {
            "action": action,
            "_selected_action": [str(i.pk) for i in items],
            "index": "0",
            "confirmed": confirmed,
            **extra,
        },
    )


def test_a_bulk_action_shows_what_it_will_change_and_asks_first(reviewer_client):
    shop = with_merchant_category(ProductFactory(name="Boots"), "footwear")
    items = [
        prediction(top=TOP5, product=shop),
        prediction(top=[("eyewear", 0.95)], status="auto_accepted"),
        prediction(top=TOP5),
    ]
    response = bulk(
        reviewer_client,
        "set_category_selected",
        items,
        confirmed="",
        category=str(category("eyewear").pk),
        set_product_category="on",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "3 photos will be decided" in page
    assert "2 of them are below their category's threshold." in page
    assert "3 products will change category:" in page
    assert "<td>Boots</td><td>Footwear</td><td>Eyewear</td>" in page
    assert not Review.all_objects.exists()
    # Confirmed, as the page's button posts it:
    done = bulk(
        reviewer_client,
        "set_category_selected",
        items,
        category=str(category("eyewear").pk),
        set_product_category="on",
    )
    assert done.status_code == 302
    assert Review.objects.count() == 3
    assert Product.objects.get(pk=shop.pk).category == category("eyewear")


def test_bulk_accept_of_100_items(reviewer_client, reviewer):
    items = make_queue(100, merchants=1)
    failed = [i for i in items if i.status == "failed"]
    response = bulk(reviewer_client, "accept_selected", items)
    assert response.status_code == 302
    assert messages_of(response) == [
        "Accepted 98 items.",
        "2 items left as they were: decided by someone else, classified again, "
        "or without a category to accept.",
    ]
    assert Review.objects.filter(reviewer=reviewer, decision="accepted").count() == 98
    assert Prediction.objects.filter(status="accepted").count() == 98
    assert {
        p.status for p in Prediction.objects.filter(pk__in=[f.pk for f in failed])
    } == {"failed"}


def test_bulk_actions_take_a_fixed_number_of_queries(
    reviewer_client, django_assert_max_num_queries
):
    reviewer_client.get(LIST_URL)
    counts = []
    for size in (10, 100):
        items = make_queue(size, merchants=1)
        # The page (session, user, roles) and the bulk service (see
        # BULK_QUERY_BUDGET in test_reviews): 34 for 10 items or 100.
        with django_assert_max_num_queries(36) as captured:
            bulk(reviewer_client, "accept_selected", items)
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_bulk_set_category(reviewer_client):
    items = [prediction(top=TOP5) for _ in range(3)]
    eyewear = category("eyewear")
    response = bulk(
        reviewer_client, "set_category_selected", items, category=str(eyewear.pk)
    )
    assert messages_of(response) == ["Set to “Eyewear”: 3 items."]
    assert set(Review.objects.values_list("decision", "final_category")) == {
        ("corrected", eyewear.pk)
    }
    assert Product.objects.filter(category=eyewear).count() == 3


def test_bulk_set_category_needs_a_category(reviewer_client):
    items = [prediction(top=TOP5) for _ in range(2)]
    response = bulk(reviewer_client, "set_category_selected", items)
    assert messages_of(response) == [
        "Choose a category in the list next to the action first."
    ]
    assert not Review.objects.exists()


def test_bulk_reports_items_decided_meanwhile(reviewer_client):
    items = [prediction(top=TOP5) for _ in range(3)]
    prediction_review(
        prediction_id=items[0].pk, reviewer=make_reviewer("grace"), decision="accepted"
    )
    response = bulk(reviewer_client, "accept_selected", items)
    assert messages_of(response)[0] == "Accepted 2 items."
    assert messages_of(response)[1].startswith("1 item left as they were")


def test_the_list_offers_no_delete(reviewer_client):
    prediction(top=TOP5)
    actions = reviewer_client.get(LIST_URL).context["action_form"].fields["action"]
    assert [name for name, _ in actions.choices if name] == [
        "accept_selected",
        "set_category_selected",
        "unusable_selected",
    ]


def test_the_work_page_undoes_the_last_decision_and_marks_unusable(
    reviewer_client, reviewer
):
    product = with_merchant_category(ProductFactory(name="Red boot"), "footwear")
    item = prediction(top=TOP5, product=product, with_file=True)
    other = prediction(
        top=[("footwear", 0.9)],
        image_row=image(product=product),
        status="auto_accepted",
    )
    page = reviewer_client.get(WORK_URL).content.decode()
    assert 'id="rq-others"' in page  # the product's other photo
    assert f"/images/{other.image_id}/thumbnail/" in page
    assert 'id="rq-full-size"' in page
    assert "Set the product's category (replaces Footwear)" in page
    assert 'id="rq-undo-last"' not in page
    review_url = reverse("admin:classification_reviewitem_review", args=[item.pk])
    response = reviewer_client.post(
        review_url,
        {"decision": "unusable", "unusable_reason": "wrong_photo", "next": WORK_URL},
        follow=True,
    )
    assert messages_of(response) == [
        "Marked a photo of Red boot unusable (wrong photo)."
    ]
    assert reload(item).status == "unusable"
    page = response.content.decode()
    assert 'data-shortcut="u" id="rq-undo-last"' in page
    review = Review.objects.get()
    undo = reverse("admin:classification_reviewitem_undo", args=[review.pk])
    assert f'action="{undo}"' in page
    response = reviewer_client.post(undo, {"next": WORK_URL}, follow=True)
    assert messages_of(response) == [
        "Undone: 1 decision (Red boot); everything is as it was before."
    ]
    assert (reload(item).status, item.image.status) == ("needs_review", "needs_review")
    history = reviewer_client.get(
        reverse("admin:classification_reviewitem_decisions") + "?state=undone"
    ).content.decode()
    assert f'data-review="{review.pk}" class="undone"' in history
    standing = reviewer_client.get(
        reverse("admin:classification_reviewitem_decisions") + "?state=standing"
    ).content.decode()
    assert 'id="rq-history-empty"' in standing


def test_the_queue_list_searches_product_sku_and_merchant(reviewer_client):
    northwind = MerchantFactory(name="Northwind Outfitters")
    boot = prediction(
        top=TOP5,
        product=ProductFactory(merchant=northwind, name="Red boot", sku="RB-9"),
    )
    prediction(top=TOP5, product=ProductFactory(name="Blue mug", sku="BM-1"))
    for query in ("red bo", "rb-9", "northwind"):
        found = reviewer_client.get(LIST_URL, {"q": query}).context["cl"].result_list
        assert [i.pk for i in found] == [boot.pk], query


def test_an_audit_item_shows_as_an_audit_sample_and_filters_by_it(reviewer_client):
    audited = prediction(top=[("apparel", 0.97), ("footwear", 0.01)])
    Prediction.objects.filter(pk=audited.pk).update(audit=True, review_reason="audit")
    doubtful = prediction(top=[("apparel", 0.4), ("footwear", 0.3)])
    html = reviewer_client.get(LIST_URL).content.decode()
    assert "Audit sample" in html
    only = reviewer_client.get(LIST_URL + "?reason=audit")
    assert list(only.context["cl"].result_list) == [audited]
    rest = reviewer_client.get(LIST_URL + "?reason=low_confidence")
    assert list(rest.context["cl"].result_list) == [doubtful]
