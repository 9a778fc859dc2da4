"""The taxonomy: anyone reads it, staff change it."""

from catalog.models import Category
from tests.api.conftest import assert_error, assert_list_queries_flat
from tests.catalog.factories import CategoryFactory

URL = "/api/v1/categories/"


def test_anyone_reads_the_taxonomy(anon, merchant_api):
    body = anon.get(URL, {"page_size": 100}).json()
    assert body["count"] == Category.objects.count() > 0
    slug = body["results"][0]["slug"]
    pk = body["results"][0]["id"]
    assert merchant_api.get(f"{URL}{pk}/").json()["slug"] == slug


def test_the_category_list_costs_the_same_queries_whatever_the_page_size(anon, db):
    assert_list_queries_flat(anon, URL, large=15, budget=3)


def test_staff_create_update_and_delete_a_category(staff_api):
    response = staff_api.post(
        URL,
        {"name": "Garden tools", "parent": "apparel", "auto_accept_threshold": 0.8},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["slug"], body["parent"]) == ("garden-tools", "apparel")
    assert body["auto_accept_threshold"] == 0.8
    detail = f"{URL}{body['id']}/"
    assert staff_api.patch(detail, {"name": "Garden"}).json()["name"] == "Garden"
    assert staff_api.delete(detail).status_code == 204
    assert not Category.objects.filter(slug="garden-tools").exists()


def test_merchants_and_anonymous_cannot_change_the_taxonomy(merchant_api, anon):
    category = Category.objects.first()
    assert_error(merchant_api.post(URL, {"name": "Mine"}), 403, "permission_denied")
    assert_error(merchant_api.delete(f"{URL}{category.pk}/"), 403)
    assert_error(anon.post(URL, {"name": "Mine"}), 401, "not_authenticated")
    assert Category.objects.filter(pk=category.pk).exists()


def test_taxonomy_conflicts_answer_409(staff_api):
    child = CategoryFactory(parent=Category.objects.get(slug="apparel"))
    assert_error(
        staff_api.post(URL, {"name": "x", "slug": child.slug}), 409, "conflict"
    )
    assert_error(staff_api.delete(f"{URL}{child.parent_id}/"), 409, "conflict")
    assert_error(
        staff_api.patch(f"{URL}{child.parent_id}/", {"parent": child.slug}),
        400,
        "invalid",
    )


def test_bad_category_input_is_a_400(staff_api):
    error = assert_error(
        staff_api.post(URL, {"name": "", "auto_accept_threshold": 3}), 400, "invalid"
    )
    assert set(error["details"]) == {"name", "auto_accept_threshold"}


def test_an_unknown_category_is_404(anon, db):
    assert_error(anon.get(f"{URL}999999/"), 404, "not_found")


def test_a_blank_slug_on_update_is_made_from_the_name(staff_api):
    category = CategoryFactory(name="Old", slug="old")
    response = staff_api.put(
        f"{URL}{category.pk}/", {"name": "Garden Tools", "slug": ""}
    )
    assert response.status_code == 200, response.content
    assert response.json()["slug"] == "garden-tools"
    error = assert_error(
        staff_api.put(f"{URL}{category.pk}/", {"name": "¿?", "slug": ""}), 400
    )
    assert "slug" in error["details"]["non_field_errors"][0]
