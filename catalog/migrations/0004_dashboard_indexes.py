"""Indexes the staff dashboard reads from (see dashboard/selectors/)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_image_phash")]

    operations = [
        migrations.AddIndex(
            model_name="productimage",
            index=models.Index(
                fields=["created_at", "merchant", "status"],
                name="image_dashboard_period",
            ),
        ),
        migrations.AddIndex(
            model_name="productimage",
            index=models.Index(
                fields=["merchant", "status", "id"], name="image_dashboard_merchant"
            ),
        ),
    ]
