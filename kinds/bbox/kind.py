"""Bounding boxes on an image.

``data = {"image": URL}``, ``result = {"boxes": [{label, x, y, w, h}]}``.

Coordinates are image pixels with the origin at the top-left corner.
"""

import re

from kinds import (
    AnswerFile,
    AnswerFileFormat,
    BuilderForm,
    Consensus,
    EditorSpec,
    ModelFigure,
    QualityBar,
    ReviewViews,
    SchemaBuilder,
    TaskKind,
    edit_rows,
    int_or_text,
    is_number,
    number_or_text,
    object_errors,
    one_line,
    rows_with_errors,
)
from kinds.bbox import formats as boxes
from kinds.bbox import metrics as box_metrics
from kinds.formats import ZIP, ExportFormat

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_BOXES = 1000
PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324"]


class BoundingBoxKind(TaskKind):
    name = "bbox"
    label = "Bounding boxes"
    description = "Draw labeled boxes around objects in images."
    editor = EditorSpec(template="bbox/editor.html", module="bbox/editor.js")
    media_fields = {"image": "image"}
    schema_builder = SchemaBuilder(
        template="bbox/builder.html", heading="Labels", save_label="Save labels"
    )
    review_template = "bbox/review.html"
    has_parts = True
    answer_file = AnswerFileFormat("COCO", words="a COCO file of boxes", holds="boxes")
    thumbnail_field = "image"
    model_figures = (ModelFigure("mean_iou", "mean IoU"), ModelFigure("f1", "F1"))
    quality_bars = (
        QualityBar(
            "iou_threshold",
            "Box overlap to match (IoU)",
            float,
            0.1,
            0.95,
            0.5,
            "Two boxes count as the same object when their overlap (intersection over union) is "
            "at least this. 0.5 is the usual choice; raise it when boxes must be tight.",
        ),
        QualityBar(
            "box_quorum",
            "Share of answers a box needs",
            float,
            0.0,
            0.99,
            0.5,
            "When several people label an image, a box enters the consensus only if more than this "
            "share of them drew it (0.5 = a strict majority). The others are kept aside as "
            "minority boxes for the reviewer.",
        ),
    )

    def summary(self, data: dict) -> str:
        """The image's file name (or the end of its URL), and its size when known."""
        image = str((data or {}).get("image") or "")
        name = image.rstrip("/").rsplit("/", 1)[-1] or "no image"
        width, height = (data or {}).get("width"), (data or {}).get("height")
        return one_line(f"{name} · {width}×{height}" if width and height else name)

    def default_schema(self) -> dict:
        return {
            "labels": [{"name": "object", "colour": PALETTE[0], "color": PALETTE[0], "hotkey": 1}],
            "min_size": 2,
            "allow_empty": True,
        }

    def clean_schema(self, schema: dict) -> dict:
        errors = object_errors(schema, path="", message="The schema must be a JSON object.")
        labels = schema.get("labels")
        cleaned_labels = []
        if not isinstance(labels, list) or not labels:
            errors.add("labels", "Give at least one label.")
            labels = []
        if len(labels) > 50:
            errors.add("labels", "At most 50 labels.")
        names: set[str] = set()
        hotkeys: set[int] = set()
        for i, item in enumerate(labels):
            path = f"labels.{i}"
            if not isinstance(item, dict):
                errors.add(path, "Each label must be an object with a name.")
                continue
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                errors.add(f"{path}.name", "A label needs a name.")
                continue
            name = name.strip()
            if len(name) > 100:
                errors.add(f"{path}.name", "A label name has at most 100 characters.")
            if name.lower() in names:
                errors.add(f"{path}.name", f"The label {name!r} is given twice.")
            names.add(name.lower())
            # "color" is the spelling of CSS and of the other tools' JSON; "colour" is ours.
            # Both are read, and both are stored, so scripts reading either find it.
            colour_key = "color" if item.get("color") and not item.get("colour") else "colour"
            if item.get("color") and item.get("colour") and item["color"] != item["colour"]:
                errors.add(f"{path}.color", "Give the colour once (color and colour differ).")
            colour = item.get(colour_key) or PALETTE[i % len(PALETTE)]
            if not isinstance(colour, str) or not COLOUR.match(colour):
                errors.add(f"{path}.{colour_key}", "A colour is written #rrggbb, e.g. #e6194b.")
            hotkey = item.get("hotkey")
            if isinstance(hotkey, str) and hotkey.strip().isdecimal():
                hotkey = int(hotkey.strip())  # "1" as other tools write it
            if hotkey in ("", None):
                hotkey = None
            elif not isinstance(hotkey, int) or isinstance(hotkey, bool) or not 1 <= hotkey <= 9:
                errors.add(f"{path}.hotkey", "A hotkey is a digit from 1 to 9.")
            elif hotkey in hotkeys:
                errors.add(f"{path}.hotkey", f"The hotkey {hotkey} is used by another label.")
            else:
                hotkeys.add(hotkey)
            cleaned_labels.append(
                {"name": name, "colour": colour, "color": colour, "hotkey": hotkey}
            )
        min_size = schema.get("min_size", 2)
        if not is_number(min_size) or not 0 <= min_size <= 10_000:
            errors.add("min_size", "The minimum box size is a number of pixels from 0 to 10000.")
        allow_empty = schema.get("allow_empty", True)
        if not isinstance(allow_empty, bool):
            errors.add("allow_empty", "Say true or false.")
        unknown = set(schema) - {"labels", "min_size", "allow_empty"}
        for key in sorted(unknown):
            errors.add(key, "Unknown setting for a bounding-box project.")
        errors.raise_if_any()
        return {"labels": cleaned_labels, "min_size": min_size, "allow_empty": allow_empty}

    def clean_data(self, data: dict, *, schema: dict) -> dict:
        errors = object_errors(data, path="data", message="A task's data must be a JSON object.")
        image = data.get("image")
        if not isinstance(image, str) or not image.strip():
            errors.add(
                "data.image", "A bounding-box task needs an image (a URL or an uploaded file)."
            )
        elif not (image.startswith(("http://", "https://", "/"))):
            errors.add("data.image", "The image must be an http(s) URL or an uploaded file.")
        elif len(image) > 2000:
            errors.add("data.image", "An image URL has at most 2000 characters.")
        # The natural size is optional (known for uploads, reported by the editor for URLs).
        sizes = {key: data[key] for key in ("width", "height") if key in data}
        for key, value in sizes.items():
            if not is_number(value) or value <= 0 or value != int(value):
                errors.add(f"data.{key}", f"The image {key} is a whole number of pixels above 0.")
        if len(sizes) == 1:
            missing = "height" if "width" in sizes else "width"
            errors.add(f"data.{missing}", "Give the image width and height together.")
        errors.raise_if_any()
        return data

    def answer_data(self, *, data: dict, result: object) -> dict:
        """For an image given by URL the editor reports its natural size with the answer; a size
        already known (an upload, or given at import) is never overridden by it."""
        if not isinstance(result, dict):
            return data
        sizes = {k: result[k] for k in ("width", "height") if k in result and k not in data}
        return {**data, **sizes} if sizes else data

    def clean_result(self, result: dict, *, schema: dict, data: dict) -> dict:
        errors = object_errors(result, path="result", message="A result must be a JSON object.")
        boxes = result.get("boxes")
        if not isinstance(boxes, list):
            errors.add("result.boxes", "A result holds a list of boxes.")
            errors.raise_if_any()
        if len(boxes) > MAX_BOXES:
            errors.add("result.boxes", f"At most {MAX_BOXES} boxes on one image.")
            errors.raise_if_any()
        labels = {label["name"] for label in schema.get("labels", [])}
        min_size = schema.get("min_size", 0)
        width, height = data.get("width"), data.get("height")
        cleaned = []
        for i, box in enumerate(boxes):
            path = f"result.boxes.{i}"
            if not isinstance(box, dict):
                errors.add(path, "A box is an object {label, x, y, w, h}.")
                continue
            label = box.get("label")
            if not isinstance(label, str) or label not in labels:
                errors.add(f"{path}.label", f"Unknown label {label!r}.")
            coords = {key: box.get(key) for key in ("x", "y", "w", "h")}
            bad = [key for key, value in coords.items() if not is_number(value)]
            for key in bad:
                errors.add(f"{path}.{key}", "Must be a number of pixels.")
            if bad:
                continue
            if coords["x"] < 0 or coords["y"] < 0:
                errors.add(path, "A box starts inside the image (x and y at least 0).")
            if coords["w"] <= 0 or coords["h"] <= 0:
                errors.add(path, "A box has a width and a height above 0.")
            elif coords["w"] < min_size or coords["h"] < min_size:
                errors.add(path, f"A box is at least {min_size} pixels wide and high.")
            if is_number(width) and coords["x"] + coords["w"] > width + 0.5:
                errors.add(path, "A box ends inside the image (x + w at most its width).")
            if is_number(height) and coords["y"] + coords["h"] > height + 0.5:
                errors.add(path, "A box ends inside the image (y + h at most its height).")
            cleaned.append({"label": label, **coords})
        if not boxes and not schema.get("allow_empty", True):
            errors.add(
                "result.boxes", "Draw at least one box: this project does not accept empty images."
            )
        errors.raise_if_any()
        return {**result, "boxes": cleaned}

    # Quality math: kinds/bbox/metrics.py explains the choices.

    def compare(
        self, result: dict, gold: dict, *, schema: dict, quality: dict
    ) -> box_metrics.BoxComparison:
        """F1, precision, recall, mean IoU and the class-agnostic figures, for reviewers."""
        threshold = quality.get("iou_threshold", 0.5)
        return box_metrics.compare(
            result.get("boxes", []), gold.get("boxes", []), threshold=threshold
        )

    def measure_prediction(
        self, result: dict, reference: dict, *, schema: dict, quality: dict
    ) -> dict[str, float | None]:
        comparison = self.compare(result, reference, schema=schema, quality=quality)
        mean_iou = comparison.mean_iou
        return {
            "f1": round(comparison.f1, 4),
            "mean_iou": None if mean_iou is None else round(mean_iou, 4),
        }

    def score(self, result: dict, gold: dict, *, schema: dict, quality: dict) -> float:
        """F1 of one-to-one same-label matches at the project's IoU threshold (default 0.5)."""
        return self.compare(result, gold, schema=schema, quality=quality).f1

    def agreement(self, results: list[dict], *, schema: dict, quality: dict) -> float:
        threshold = quality.get("iou_threshold", 0.5)
        return box_metrics.agreement([r.get("boxes", []) for r in results], threshold=threshold)

    def agreement_parts(self, results: list[dict], *, schema: dict) -> dict[str, list[dict]]:
        """Per label: each answer's boxes of that label (the dashboard's agreement per label)."""
        labels = {box["label"] for result in results for box in result.get("boxes", [])}
        return {
            label: [
                {"boxes": [box for box in result.get("boxes", []) if box["label"] == label]}
                for result in results
            ]
            for label in sorted(labels)
        }

    def consolidate(
        self,
        results: list[dict],
        *,
        schema: dict,
        quality: dict,
        weights: list[float] | None = None,
        data: dict | None = None,
    ) -> Consensus:
        """Majority-backed box clusters with median corners; dropped ones under ``minority``.

        Each consensus box carries ``votes`` (how many annotators drew it); the quality bar
        ``box_quorum`` (default 0.5) is the share of annotators a box needs to pass.
        """
        fused = box_metrics.consolidate(
            [r.get("boxes", []) for r in results],
            threshold=quality.get("iou_threshold", 0.5),
            quorum=quality.get("box_quorum", 0.5),
            weights=weights,
        )
        return Consensus(
            result={
                "boxes": [{**f.box, "votes": f.votes} for f in fused.boxes],
                "minority": [{**f.box, "votes": f.votes} for f in fused.minority],
            },
            confidence=fused.confidence,
        )

    # The screens around the kind: settings builder, export formats, review.

    def schema_from_form(self, post) -> dict:
        names = post.getlist("label_name")
        colours = post.getlist("label_colour")
        hotkeys = post.getlist("label_hotkey")
        labels = [
            {
                "name": name,
                "colour": colours[i] if i < len(colours) else "",
                "hotkey": int_or_text(hotkeys[i]) if i < len(hotkeys) else None,
            }
            for i, name in enumerate(names)
        ]
        return {
            "labels": labels,
            "min_size": number_or_text(post.get("min_size", "0")),
            "allow_empty": post.get("allow_empty") == "on",
        }

    def schema_form(self, *, schema: dict, errors: dict[str, list[str]]) -> BuilderForm:
        labels = [
            label if isinstance(label, dict) else {"name": str(label)}
            for label in schema.get("labels", [])
        ]
        values = [
            {
                "name": label.get("name") or "",
                "colour": label.get("colour") or PALETTE[i % len(PALETTE)],
                "hotkey": "" if label.get("hotkey") is None else label.get("hotkey"),
            }
            for i, label in enumerate(labels)
        ]
        rows, used = rows_with_errors(
            values, prefix="labels", fields=("name", "colour", "hotkey"), errors=errors
        )
        return BuilderForm(
            context={"labels": rows, "hotkeys": list(range(1, 10))}, used=frozenset(used)
        )

    def schema_form_edit(self, *, schema: dict, action: str) -> dict:
        labels = list(schema.get("labels", []))
        new = {"name": "", "colour": PALETTE[len(labels) % len(PALETTE)]}
        return {**schema, "labels": edit_rows(labels, action=action, noun="label", new=new)}

    def read_answer_file(self, value: object, *, name: str) -> AnswerFile | None:
        return boxes.read_coco(value, name=name)

    def export_formats(self) -> tuple[ExportFormat, ...]:
        def names(context) -> list[str]:
            return [label["name"] for label in context.schema.get("labels", [])]

        return (
            ExportFormat(
                "coco",
                "COCO JSON",
                "application/json",
                "json",
                write=lambda items, context: boxes.coco(items, labels=names(context)),
            ),
            ExportFormat(
                "yolo",
                "YOLO (zip, with data.yaml)",
                ZIP,
                "zip",
                write=lambda items, context: boxes.yolo(
                    items, labels=names(context), context=context
                ),
                options=("val_split", "images"),
            ),
            ExportFormat(
                "voc",
                "Pascal VOC XML (zip)",
                ZIP,
                "zip",
                write=lambda items, context: boxes.voc(
                    items, labels=names(context), context=context
                ),
                options=("val_split", "images"),
            ),
        )

    def review_views(
        self,
        *,
        results: list[dict],
        proposal: dict | None,
        data: dict,
        media_meta: dict,
        schema: dict,
    ) -> ReviewViews:
        """Each answer's boxes drawn over the image, at the image's size: from the task, the
        upload, or (URL images) what the editor reported with an answer."""
        sizes = [data, media_meta or {}, *results]
        width = next((s["width"] for s in sizes if s.get("width")), None)
        height = next((s["height"] for s in sizes if s.get("height")), None)
        shared = {"image_width": width, "image_height": height}
        if width and height:
            shared["box_stroke"] = max(width, height, 200) / 250  # reads alike at any size
        colours = {label["name"]: label.get("colour") for label in schema.get("labels", [])}
        answers = [
            {
                "boxes": [
                    {
                        "label": str(box.get("label", "")),
                        **{key: box[key] for key in ("x", "y", "w", "h")},
                        "colour": colours.get(box.get("label")) or PALETTE[0],
                    }
                    for box in result.get("boxes", [])
                    if isinstance(box, dict)
                    and all(is_number(box.get(key)) for key in ("x", "y", "w", "h"))
                ]
            }
            for result in results
        ]
        return ReviewViews(shared=shared, answers=answers)
