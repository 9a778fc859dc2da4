"""Indexes the staff dashboard reads from (see dashboard/selectors/)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("classification", "0003_reviewers_group")]

    operations = [
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(
                fields=[
                    "created_at",
                    "status",
                    "confidence",
                    "latency_ms",
                    "category",
                    "model_version",
                    "image",
                ],
                name="prediction_dashboard_period",
            ),
        ),
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(
                fields=[
                    "status",
                    "created_at",
                    "is_current",
                    "confidence",
                    "category",
                    "model_version",
                    "image",
                    "id",
                ],
                name="prediction_dashboard_status",
            ),
        ),
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(
                condition=models.Q(("confidence__isnull", True)),
                fields=["created_at", "id"],
                name="prediction_dashboard_failed",
            ),
        ),
        migrations.AddIndex(
            model_name="review",
            index=models.Index(
                fields=["created_at", "decision", "prediction", "final_category"],
                name="review_dashboard_period",
            ),
        ),
        migrations.AddIndex(
            model_name="review",
            index=models.Index(
                condition=models.Q(("decision", "corrected")),
                fields=["prediction", "final_category"],
                name="review_dashboard_corrections",
            ),
        ),
    ]
