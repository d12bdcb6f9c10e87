"""A response may have several people's tasks (``PeopleTask``), each with the criteria whose
verdicts count: the one-to-one ``Response.task`` becomes the first of them. Calibrations are
also measured per theme (the prompts' example tags); eval runs get a heartbeat (a run whose
worker died resumes) and can be cancelled."""

import django.db.models.deletion
from django.db import migrations, models


def tasks_to_people_tasks(apps, schema_editor):
    Response = apps.get_model("evals", "Response")
    PeopleTask = apps.get_model("evals", "PeopleTask")
    rows = []
    for response in Response.objects.filter(task__isnull=False).select_related("task").iterator():
        ids = [c.get("id") for c in (response.task.data or {}).get("rubric") or []]
        rows.append(PeopleTask(response=response, task_id=response.task_id, criteria=ids))
    PeopleTask.objects.bulk_create(rows, batch_size=1000)


def people_tasks_to_tasks(apps, schema_editor):
    Response = apps.get_model("evals", "Response")
    PeopleTask = apps.get_model("evals", "PeopleTask")
    for part in PeopleTask.objects.order_by("-pk").iterator():
        Response.objects.filter(pk=part.response_id).update(task_id=part.task_id)


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0007_content_flags"),
        ("evals", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="PeopleTask",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("criteria", models.JSONField(default=list)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "response",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="people_tasks",
                        to="evals.response",
                    ),
                ),
                (
                    "task",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="eval_part",
                        to="annotation.task",
                    ),
                ),
            ],
            options={"ordering": ["pk"]},
        ),
        migrations.RunPython(tasks_to_people_tasks, people_tasks_to_tasks),
        migrations.RemoveField(model_name="response", name="task"),
        migrations.AddField(
            model_name="calibration", name="per_theme", field=models.JSONField(default=dict)
        ),
        migrations.AddField(
            model_name="calibration", name="passing_themes", field=models.JSONField(default=list)
        ),
        migrations.AddField(
            model_name="evalrun",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="evalrun",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("running", "Running"),
                    ("done", "Done"),
                    ("failed", "Failed"),
                    ("cancelled", "Cancelled"),
                ],
                default="queued",
                max_length=20,
            ),
        ),
    ]
