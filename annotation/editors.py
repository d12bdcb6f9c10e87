"""What an annotator screen needs to mount a task kind's editor.

The contract between the server and the editors (see ``kinds/EDITORS.md``):

* the kind's template (``kind.editor.template``) is included with ``task``, ``project``, ``schema``
  and ``initial_result`` in its context, and renders ``editor_config_json`` into the
  ``data-config`` attribute of ``#editor-config`` (an attribute, not a ``json_script`` block:
  htmx drops ``<script>`` elements from swapped content, and the work screen swaps tasks in);
* ``editor_config`` holds the kind, the URL of the kind's ES module, the schema, the task's
  ``data`` (never its gold answer) and the result to start from.

The preview screen uses this now; the contributor's work screen and the review screen mount the
same editors with the same context.
"""

import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.templatetags.static import static

from annotation.models import Task
from labelhub.models import Project


@dataclass(frozen=True)
class EditorContext:
    template: str
    config: dict
    initial_result: dict | None
    source: str = ""  # where the starting prediction came from, in words

    def as_template_context(self, *, task: Task, project: Project) -> dict:
        return {
            "task": task,
            "project": project,
            "schema": project.schema,
            "initial_result": self.initial_result,
            "prediction_source": self.source,
            "editor_template": self.template,
            "editor_config": self.config,
            "editor_config_json": json.dumps(self.config, cls=DjangoJSONEncoder),
        }


def task_initial_result(*, task: Task) -> dict | None:
    """The result the editor starts from: the task's first model prediction (the newest), if any.

    A prediction is a result (``{"boxes": …}``); a prediction wrapped as ``{"result": {…}, "model":
    …}`` (the Label Studio habit) is unwrapped.
    """
    for prediction in task.predictions or []:
        if isinstance(prediction, dict):
            inner = prediction.get("result")
            return inner if isinstance(inner, dict) else prediction
    return None


def prediction_source(*, task: Task) -> str:
    """Where the first prediction came from, in words ("" when it names no model).

    Backends put their predictions first, so the editor starts from the newest one and says so.
    """
    for prediction in task.predictions or []:
        if isinstance(prediction, dict):
            model = prediction.get("model")
            if not isinstance(model, str) or not model:
                return ""
            version = prediction.get("model_version")
            score = prediction.get("score")
            words = f"Starts from the prediction of {model}"
            if isinstance(version, str) and version:
                words += f" {version}"
            if isinstance(score, int | float) and not isinstance(score, bool):
                words += f" (score {score:.2f})"
            return words + "."
    return ""


def editor_context_for_task(
    *, task: Task, project: Project, initial_result: dict | None = None
) -> EditorContext:
    """The editor's template and config for ``task``.

    ``initial_result`` (a draft, a fix) overrides the first prediction as the starting point.
    """
    kind = project.task_kind
    start = initial_result if initial_result is not None else task_initial_result(task=task)
    config = {
        "kind": kind.name,
        "module": static(kind.editor.module),
        "schema": project.schema,
        "data": task.data,
        "media": task.media_meta or {},
        "initial_result": start,
    }
    source = prediction_source(task=task) if initial_result is None and start else ""
    return EditorContext(
        template=kind.editor.template, config=config, initial_result=start, source=source
    )
