from django.apps import AppConfig


class RubricEvalConfig(AppConfig):
    name = "kinds.rubric_eval"
    label = "rubric_eval"
    verbose_name = "Rubric evals"
    task_kind = "kinds.rubric_eval.kind.RubricEvalKind"
