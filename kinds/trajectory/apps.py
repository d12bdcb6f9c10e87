from django.apps import AppConfig


class TrajectoryConfig(AppConfig):
    name = "kinds.trajectory"
    label = "trajectory"
    verbose_name = "Agent trajectories"
    # The layout's registry reads the kind from here; until then settings list the same path.
    task_kind = "kinds.trajectory.kind.TrajectoryKind"
