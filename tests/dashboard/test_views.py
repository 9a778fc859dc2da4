import csv
import io
import json

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from dashboard.selectors import CHARTS
from tests.accounts.factories import UserFactory
from tests.dashboard.conftest import PERIOD

CUSTOM = {"period": "custom", "start": "2026-03-09", "end": "2026-03-15"}
PAGES = [
    reverse("dashboard:index"),
    reverse("dashboard:data"),
    reverse("dashboard:export", args=["activity"]),
]


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url", PAGES)
def test_merchants_are_refused(merchant_client, url):
    response = merchant_client.get(url)
    assert response.status_code == 403
    assert b"Only platform admins may do this." in response.content


def test_platform_admins_without_superuser_rights_are_let_in(client, db):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Platform admins"))
    client.force_login(user)
    assert client.get(reverse("dashboard:index")).status_code == 200


@pytest.mark.parametrize("group", [None, "Reviewers"])
def test_staff_who_are_no_platform_admins_are_refused(client, db, group):
    user = UserFactory(is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    assert client.get(reverse("dashboard:index")).status_code == 403


def test_dashboard_page_carries_its_data_and_chart_js(staff_client, known, settings):
    settings.VITRINE_CHARTJS_URL = "https://cdn.example.test/chart.umd.min.js"
    settings.VITRINE_CHARTJS_INTEGRITY = "sha384-abc"
    response = staff_client.get(reverse("dashboard:index"), CUSTOM)
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        '<script src="https://cdn.example.test/chart.umd.min.js" '
        'integrity="sha384-abc" crossorigin="anonymous" defer></script>'
    ) in html
    assert 'type="module" src="/static/js/dashboard.js"' in html
    data = json.loads(
        html.split('<script id="dashboard-data" type="application/json">')[1].split(
            "</script>"
        )[0]
    )
    assert data["period"] == {"start": "2026-03-09", "end": "2026-03-15", "days": 7}
    assert data["charts"]["activity"]["uploads"] == [2, 1, 0, 3, 0, 2, 1]
    for key in CHARTS:
        assert f'id="chart-{key}"' in html
        assert f"/dashboard/export/{key}.csv?period=custom" in html
    assert "<script>" not in html  # no inline scripts


def test_a_local_chart_js_path_is_served_as_a_static_file(staff_client, db, settings):
    settings.VITRINE_CHARTJS_URL = "vendor/chartjs-4.5.1/chart.umd.min.js"
    response = staff_client.get(reverse("dashboard:index"))
    assert b'src="/static/vendor/chartjs-4.5.1/chart.umd.min.js"' in response.content


def test_new_install_page_explains_empty_charts(staff_client, db):
    response = staff_client.get(reverse("dashboard:index"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing happened in this period" in html
    assert 'id="dashboard-empty" hidden' not in html
    assert "No photos were uploaded or classified in this period." in html
    assert "The review queue is empty." in html


def test_json_endpoint_returns_everything_for_the_filters(staff_client, known):
    response = staff_client.get(
        reverse("dashboard:data"), {**CUSTOM, "merchant": known.beta.pk}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["merchant"] == {"id": known.beta.pk, "name": "Beta"}
    assert data["charts"]["activity"]["uploads"] == [0, 1, 0, 1, 0, 2, 0]
    assert set(data["charts"]) == set(CHARTS)


def test_json_presets_end_today(staff_client, db):
    data = staff_client.get(reverse("dashboard:data"), {"period": "90"}).json()
    assert data["period"]["days"] == 90
    assert len(data["charts"]["backlog"]["labels"]) == 90


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "365"}, "period"),
        ({"period": "custom", "start": "2026-03-09"}, "__all__"),
        ({"period": "custom", "start": "2026-03-15", "end": "2026-03-09"}, "__all__"),
        ({"period": "custom", "start": "2020-01-01", "end": "2026-01-01"}, "__all__"),
        ({"period": "custom", "start": "not-a-date", "end": "2026-01-01"}, "start"),
        ({"period": "custom", "start": "2999-01-01", "end": "2999-01-02"}, "start"),
        ({"merchant": "999999"}, "merchant"),
        ({"merchant": "abc"}, "merchant"),
    ],
)
def test_json_refuses_bad_filters_with_reasons(staff_client, db, params, field):
    response = staff_client.get(reverse("dashboard:data"), params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_page_with_bad_filters_shows_the_errors_and_the_default_period(
    staff_client, db
):
    response = staff_client.get(
        reverse("dashboard:index"),
        {"period": "custom", "start": "2026-03-15", "end": "2026-03-09"},
    )
    assert response.status_code == 200
    assert b"The period ends before it starts." in response.content
    assert b"Showing the last 30 days instead." in response.content


def test_json_makes_a_bounded_number_of_queries(
    staff_client, known, django_assert_max_num_queries
):
    # Session, user, the user's roles and the merchant filter, then the
    # dashboard's own 22 (alpha has no failures to break down by day; 3 for the
    # changes against the period before) and the pipeline's 2.
    with django_assert_max_num_queries(28):
        response = staff_client.get(
            reverse("dashboard:data"), {**CUSTOM, "merchant": known.alpha.pk}
        )
    assert response.status_code == 200


def test_page_makes_a_bounded_number_of_queries(
    staff_client, known, django_assert_max_num_queries
):
    # The dashboard's 23 for a period that ended before today (3 for the
    # changes against the period before), the pipeline's 2, the merchant list
    # of the filter form, session, user and the menu's membership.
    with django_assert_max_num_queries(29):
        response = staff_client.get(reverse("dashboard:index"), CUSTOM)
    assert response.status_code == 200


def _csv(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_csv_export_of_uploads_per_day(staff_client, known):
    response = staff_client.get(reverse("dashboard:export", args=["activity"]), CUSTOM)
    assert response["Content-Disposition"] == (
        'attachment; filename="vitrine-activity-2026-03-09-2026-03-15.csv"'
    )
    assert _csv(response) == [
        ["day", "uploads", "classifications"],
        ["2026-03-09", "2", "1"],
        ["2026-03-10", "1", "0"],
        ["2026-03-11", "0", "0"],
        ["2026-03-12", "3", "2"],
        ["2026-03-13", "0", "1"],
        ["2026-03-14", "2", "1"],
        ["2026-03-15", "1", "1"],
    ]


def test_csv_exports_of_review_charts(staff_client, known):
    def export(chart):
        return _csv(staff_client.get(reverse("dashboard:export", args=[chart]), CUSTOM))

    assert export("outcomes") == [
        ["model_version", "accepted", "corrected", "live_precision"],
        ["v2", "1", "1", "0.5"],
    ]
    assert export("confusion") == [
        ["model_version", "actual_category", "predicted_category", "reviews"],
        ["v2", "Hats", "Shoes", "1"],
        ["v2", "Shoes", "Shoes", "1"],
    ]
    assert export("failures") == [
        ["day", "reason", "failures"],
        ["2026-03-10", "(no reason recorded)", "1"],
        ["2026-03-12", "The stored image file is missing.", "1"],
    ]
    assert export("latency")[4] == ["2026-03-12", "50.0", "59.0"]
    assert export("latency")[2] == ["2026-03-10", "", ""]
    # Ages run to the real now here; the selector tests pin them down.
    ages = export("backlog_age")
    assert ages[0] == ["age", "waiting_for_review"]
    assert [row[0] for row in ages[1:]] == [
        "Under 1 day",
        "1 to 3 days",
        "3 to 7 days",
        "Over 7 days",
    ]
    assert sum(int(row[1]) for row in ages[1:]) == 2


def test_csv_export_of_every_chart_has_a_header(staff_client, known):
    for chart in CHARTS:
        rows = _csv(staff_client.get(reverse("dashboard:export", args=[chart]), CUSTOM))
        assert rows[0], chart


def test_csv_export_scoped_to_a_merchant_names_it(staff_client, known):
    response = staff_client.get(
        reverse("dashboard:export", args=["merchants"]),
        {**CUSTOM, "merchant": known.beta.pk},
    )
    assert (
        'filename="vitrine-merchants-2026-03-09-2026-03-15-beta.csv"'
        in (response["Content-Disposition"])
    )
    assert _csv(response) == [
        ["merchant", "uploads", "sorted", "review", "failed", "in_progress"],
        ["Beta", "4", "0", "1", "2", "1"],
    ]


def test_csv_neutralises_cells_a_spreadsheet_would_run(staff_client, known):
    known.beta.name = "=HYPERLINK(1)"
    known.beta.save()
    rows = _csv(
        staff_client.get(reverse("dashboard:export", args=["merchants"]), CUSTOM)
    )
    assert rows[2][0] == "'=HYPERLINK(1)"


def test_csv_of_an_empty_install_is_a_header_and_zero_rows(staff_client, db):
    rows = _csv(
        staff_client.get(reverse("dashboard:export", args=["categories"]), CUSTOM)
    )
    assert rows == [["category", "slug", "predicted", "confirmed_by_reviewer"]]


def test_csv_of_an_unknown_chart_is_404(staff_client, db):
    response = staff_client.get(reverse("dashboard:export", args=["numbers"]))
    assert response.status_code == 404


def test_csv_with_bad_filters_is_400(staff_client, db):
    response = staff_client.get(
        reverse("dashboard:export", args=["activity"]), {"period": "custom"}
    )
    assert response.status_code == 400
    assert b"Custom dates need both a start and an end." in response.content


def test_only_get_is_allowed(staff_client, db):
    assert staff_client.post(reverse("dashboard:data")).status_code == 405


def test_staff_see_the_dashboard_in_the_menu_and_merchants_do_not(
    staff_client, merchant_user
):
    link = b'href="/dashboard/"'
    assert link in staff_client.get(reverse("dashboard:index")).content
    merchant_browser = Client()
    merchant_browser.force_login(merchant_user)
    page = merchant_browser.get(reverse("catalog:product-list"))
    assert page.status_code == 200
    assert link not in page.content


def test_period_constant_matches_custom_filters():
    assert (PERIOD.start.isoformat(), PERIOD.end.isoformat()) == (
        CUSTOM["start"],
        CUSTOM["end"],
    )


def test_the_admin_index_links_to_the_dashboard_for_those_who_may_see_it(
    staff_client, client
):
    from tests.accounts.test_roles import group_user

    page = staff_client.get(reverse("admin:index")).content.decode()
    assert f'<a href="{reverse("dashboard:index")}">' in page
    client.force_login(group_user("Reviewers"))
    page = client.get(reverse("admin:index")).content.decode()
    assert reverse("dashboard:index") not in page


def test_the_dashboard_shows_the_pipeline_as_health_sees_it(
    staff_client, merchant, broker
):
    from datetime import timedelta

    from django.utils import timezone

    from classification.models import ClassificationRequest
    from classification.services.dispatch import requests_dispatch
    from tests.classification.factories import ProductImageFactory

    broker.up()
    image = ProductImageFactory(product__merchant=merchant)
    ClassificationRequest.objects.create(image=image, due_at=timezone.now())
    requests_dispatch()
    ClassificationRequest.objects.update(
        created_at=timezone.now() - timedelta(minutes=12)
    )

    data = staff_client.get(reverse("dashboard:data")).json()["pipeline"]
    page = staff_client.get(reverse("dashboard:index")).content.decode()

    assert data["waiting"] == 1 and data["stalled"] is True
    assert data["queues"] == {"default": 0, "inference": 1, "training": 0}
    assert 'data-pipeline="oldest_waiting_seconds">12 min<' in page
    assert 'data-pipeline="worker">never seen<' in page
    assert "default 0 · inference 1 · training 0" in page
    assert 'data-pipeline="stalled"' in page
