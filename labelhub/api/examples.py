"""Examples shown in the OpenAPI docs (``/api/v1/docs/``) for the endpoints scripts use most."""

from drf_spectacular.utils import OpenApiExample

PROJECT_CREATE = [
    OpenApiExample(
        "A bounding-box project",
        request_only=True,
        value={
            "name": "Street scenes",
            "kind": "bbox",
            "schema": {
                "labels": [
                    {"name": "person", "colour": "#e6194b", "hotkey": 1},
                    {"name": "car", "colour": "#4363d8", "hotkey": 2},
                ],
                "min_size": 4,
                "allow_empty": True,
            },
            "quality": {"overlap": 3, "gold_rate": 0.05, "agreement_threshold": 0.6},
            "instructions": "Box **every** person and car.",
        },
    ),
    OpenApiExample(
        "A pairwise preference project",
        request_only=True,
        value={
            "name": "Chat answers",
            "kind": "ranking",
            "schema": {"mode": "pairwise", "strength_scale": 3, "criteria": ["helpfulness"]},
        },
    ),
]

TASKS_CREATE = [
    OpenApiExample(
        "Two tasks, one with a model prediction and a callback",
        request_only=True,
        value=[
            {
                "data": {"image": "https://example.com/img/0001.jpg"},
                "external_id": "img-0001",
                "predictions": [{"boxes": [{"label": "car", "x": 10, "y": 20, "w": 120, "h": 60}]}],
                "callback_url": "https://example.com/hooks/labelhub",
                "priority": 5,
            },
            {"data": {"image": "https://example.com/img/0002.jpg"}, "external_id": "img-0002"},
        ],
    )
]

NEXT_TASK = [
    OpenApiExample(
        "A leased task",
        response_only=True,
        status_codes=["200"],
        value={
            "assignment": {
                "id": 9001,
                "status": "active",
                "expires_at": "2026-11-23T18:30:00Z",
                "draft": None,
                "draft_saved_at": None,
                "version": 1,
            },
            "task": {"id": 42, "data": {"image": "/tasks/42/media/"}, "predictions": []},
            "expires_at": "2026-11-23T18:30:00Z",
        },
    )
]

DRAFT = [
    OpenApiExample(
        "Work in progress",
        request_only=True,
        value={
            "result": {"boxes": [{"label": "car", "x": 10, "y": 20, "w": 30, "h": 40}]},
            "version": 1,
        },
    )
]

SUBMIT = [
    OpenApiExample(
        "Boxes",
        request_only=True,
        value={
            "result": {"boxes": [{"label": "car", "x": 10, "y": 20, "w": 30, "h": 40}]},
            "active_seconds": 34,
        },
    ),
    OpenApiExample(
        "A pairwise preference",
        request_only=True,
        value={
            "result": {"preference": "b", "strength": 2, "rationale": "B answers the question."},
            "active_seconds": 51,
        },
    ),
    OpenApiExample(
        "A transcript",
        request_only=True,
        value={"result": {"text": "Our meeting starts at nine thirty."}, "active_seconds": 40},
    ),
]

SKIP = [OpenApiExample("With a reason", request_only=True, value={"reason": "unclear"})]

VERDICT = [
    OpenApiExample("Accept", request_only=True, value={"verdict": "accept"}),
    OpenApiExample(
        "Reject with a reason",
        request_only=True,
        value={"verdict": "reject", "comment": "The box misses the car's roof."},
    ),
    OpenApiExample(
        "Fix",
        request_only=True,
        value={"verdict": "fix", "result": {"text": "Our meeting starts at nine thirty."}},
    ),
]
