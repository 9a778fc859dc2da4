"""The model versions' admin: readable metrics, roll-out actions, training form."""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.timezone import localtime

from classification.admin.presenters import confusion_matrix_html
from classification.models import Job, ModelVersion
from classification.services.versions import model_version_ensure_default


def test_a_version_page_shows_its_metrics_and_confusion_matrix(
    admin_client, shapes_version
):
    response = admin_client.get(
        reverse("admin:classification_modelversion_change", args=[shapes_version.pk])
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="vitrine-confusion"' in page
    assert "Macro-F1" in page and "Temperature" in page
    for slug in shapes_version.classes:
        assert '<th scope="row">' in page and slug in page
    assert "Auto-accept threshold" in page


def test_the_version_list_links_to_training_and_shows_accuracy(
    admin_client, shapes_version, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = admin_client.get(
            reverse("admin:classification_modelversion_changelist")
        )
    page = response.content.decode()
    assert reverse("admin:classification_modelversion_train") in page
    assert "100.0 %" in page


def test_admin_actions_activate_and_roll_back(admin_client, shapes_version):
    default = model_version_ensure_default()
    url = reverse("admin:classification_modelversion_changelist")
    response = admin_client.post(
        url, {"action": "activate_selected", "_selected_action": [shapes_version.pk]}
    )
    # The action shows the comparison first; activating is its own click.
    confirm = reverse(
        "admin:classification_modelversion_activate", args=[shapes_version.pk]
    )
    assert response.url == confirm
    shapes_version.refresh_from_db()
    assert shapes_version.status == ModelVersion.Status.READY
    admin_client.post(confirm)
    shapes_version.refresh_from_db()
    assert shapes_version.status == ModelVersion.Status.ACTIVE
    admin_client.post(
        url, {"action": "roll_back", "_selected_action": [shapes_version.pk]}
    )
    default.refresh_from_db()
    assert default.status == ModelVersion.Status.ACTIVE


def test_the_reclassify_action_starts_a_job(admin_client, shapes_version):
    url = reverse("admin:classification_modelversion_changelist")
    response = admin_client.post(
        url,
        {"action": "reclassify_unseen", "_selected_action": [shapes_version.pk]},
        follow=True,
    )
    job = Job.objects.get(kind=Job.Kind.RECLASSIFY)
    assert job.params == {"only_unseen": True}
    assert f"job {job.pk}" in response.content.decode()


def test_the_training_form_queues_a_job_and_shows_its_progress(
    admin_client, shapes_dir, shape_categories, django_capture_on_commit_callbacks
):
    url = reverse("admin:classification_modelversion_train")
    response = admin_client.get(url)
    assert response.status_code == 200
    form_page = response.content.decode()
    # Where the job's paths must lie, and the admin's own breadcrumbs and styles.
    assert f"<code>{settings.VITRINE_TRAINING_DATA_ROOT}</code>" in form_page
    assert '<ol class="breadcrumbs">' in form_page
    assert "admin/css/forms.css" in form_page
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url,
            {
                "source": "folder",
                "data": str(shapes_dir),
                "mode": "head",
                "seed": 0,
                "target_precision": 0.97,
                "class_balanced": "on",
            },
        )
    job = Job.objects.get(kind=Job.Kind.TRAIN)
    assert response.status_code == 302
    assert response.url == reverse("admin:classification_job_change", args=[job.pk])
    assert job.params["data"] == str(shapes_dir)
    assert job.params["class_balanced"] is True
    page = admin_client.get(response.url).content.decode()
    assert '<progress class="vitrine-progress"' in page
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED


def test_the_training_form_shows_why_parameters_are_refused(admin_client, db):
    response = admin_client.post(
        reverse("admin:classification_modelversion_train"),
        {
            "source": "folder",
            "data": "nonexistent",
            "mode": "head",
            "seed": 0,
            "target_precision": 0.97,
        },
    )
    assert response.status_code == 200
    assert "is not a folder" in response.content.decode()
    assert not Job.objects.exists()


def test_the_confusion_matrix_leaves_confusions_that_never_happened_empty():
    metrics = {
        "measured_on": "test",
        "test": {
            "classes": ["boots", "caps", "socks"],
            # caps has no test photo; a boot was taken for a cap once.
            "confusion_matrix": [[5, 1, 0], [0, 0, 0], [0, 2, 3]],
        },
    }
    html = confusion_matrix_html(metrics)
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', html)
    cells = {name: re.findall(r"<td[^>]*>(.*?)</td>", row) for name, row in rows}
    assert cells == {
        "1. boots": ["5", "1", ""],
        "2. caps": ["", "", ""],
        "3. socks": ["", "2", "3"],
    }
    # Shades follow a cell's share of its row; any confusion shows.
    assert 'class="off shade-1">1<' in html
    assert 'class="diagonal shade-6">3<' in html


def test_the_version_list_shows_compact_times(admin_client, shapes_version):
    page = admin_client.get(
        reverse("admin:classification_modelversion_changelist")
    ).content.decode()
    created = localtime(shapes_version.created_at).strftime("%Y-%m-%d %H:%M")
    assert f'<td class="field-created">{created}</td>' in page


def test_roll_back_works_without_selecting_a_row(admin_client, shapes_version):
    default = model_version_ensure_default()
    shapes_version.status = ModelVersion.Status.ACTIVE
    from classification.services.versions import model_version_activate

    model_version_activate(version=shapes_version)
    response = admin_client.post(
        reverse("admin:classification_modelversion_changelist"),
        {"action": "roll_back", "index": "0"},
        follow=True,
    )
    default.refresh_from_db()
    assert default.status == ModelVersion.Status.ACTIVE
    assert "Rolled back" in response.content.decode()


def test_activation_in_the_admin_shows_the_comparison_and_warns(
    admin_client, shapes_version
):
    from catalog.models import Category, CategorySource
    from tests.catalog.factories import ProductFactory

    model_version_ensure_default()
    ProductFactory(
        category=Category.objects.get(slug="apparel"),
        category_source=CategorySource.MERCHANT,
    )
    page = admin_client.get(
        reverse("admin:classification_modelversion_activate", args=[shapes_version.pk])
    ).content.decode()
    assert "cannot predict 1 categories" in page and "Apparel" in page
    assert "imagenet-taxonomy-v1 (active)" in page
    assert "Auto-accept thresholds it would use" in page
    assert f"Activate {shapes_version.name}" in page
    shapes_version.refresh_from_db()
    assert shapes_version.status == ModelVersion.Status.READY


def test_a_version_page_is_a_report_without_save_or_delete(
    admin_client, shapes_version
):
    response = admin_client.get(
        reverse("admin:classification_modelversion_change", args=[shapes_version.pk])
    )
    page = response.content.decode()
    assert 'name="_save"' not in page and 'name="_continue"' not in page
    assert "deletelink" not in page
    assert "Test photos it got wrong" in page and "Not shown" in page
    assert "No shadow results" in page
    assert "Compare with the active version" in page
    delete = admin_client.get(
        reverse("admin:classification_modelversion_delete", args=[shapes_version.pk])
    )
    assert delete.status_code == 403
    # The confusion matrix names the categories.
    assert "Red Circles" in page
    # The curve's canvas, its data and its script (no inline script: CSP).
    assert 'id="precision-coverage"' in page and 'id="curve-data"' in page
    assert "js/model_version.js" in page


@pytest.mark.parametrize(
    ("status", "reloads"),
    [
        (Job.Status.QUEUED, True),
        (Job.Status.RUNNING, True),
        (Job.Status.SUCCEEDED, False),
        (Job.Status.FAILED, False),
    ],
)
def test_a_jobs_page_reloads_itself_while_the_job_is_in_progress(
    admin_client, status, reloads
):
    job = Job.objects.create(kind=Job.Kind.TRAIN, status=status, progress=0.4)
    page = admin_client.get(
        reverse("admin:classification_job_change", args=[job.pk])
    ).content.decode()
    assert ('<meta http-equiv="refresh" content="3">' in page) is reloads
