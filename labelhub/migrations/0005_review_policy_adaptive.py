"""The error-target review policy was stored as "target" by the settings form and the API, while
the review code reads "adaptive": rename the stored value, so those projects get the policy they
chose."""

from django.db import migrations


def rename_target(apps, schema_editor):
    Project = apps.get_model("labelhub", "Project")
    for project in Project.objects.filter(quality__review_policy="target").iterator():
        project.quality = {**project.quality, "review_policy": "adaptive"}
        project.save(update_fields=["quality"])


class Migration(migrations.Migration):
    dependencies = [
        ("labelhub", "0004_audit_contributor_pause"),
    ]

    operations = [migrations.RunPython(rename_target, migrations.RunPython.noop)]
