"""Create the Reviewers group: the right to work the review queue, nothing else.

A reviewer is a staff user in this group. The permissions are created here rather
than left to ``post_migrate`` so the group is complete right after ``migrate``.
"""

from django.db import migrations

GROUP = "Reviewers"
PERMISSIONS = [
    ("view_reviewitem", "Can view review item"),
    ("change_reviewitem", "Can change review item"),
]


def create_group(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(
        app_label="classification", model="reviewitem"
    )
    permissions = [
        Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )[0]
        for codename, name in PERMISSIONS
    ]
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.set(permissions)


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("classification", "0002_review_queue"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
