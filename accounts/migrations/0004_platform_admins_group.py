"""Create the Platform admins group: staff in it are platform admins.

What the group may do is decided by the roles table (accounts/roles.py), not by
permissions stored on the group, so it holds none.
"""

from django.db import migrations

GROUP = "Platform admins"


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("accounts", "0003_api_token_expires_at"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
