"""Bounding-box datasets: COCO JSON, YOLO txt and Pascal VOC XML; COCO read back on import.

Results hold boxes in image pixels with the origin at the top-left: ``{label, x, y, w, h}``.
Categories are numbered in the order of the project's labels (COCO from 1, YOLO from 0).

YOLO and VOC archives may carry the images (uploaded ones; an image given by URL is listed in
``images_missing.txt``, since LabelHub never fetches customers' URLs itself) and a train/val
split: a stable share of the tasks, chosen by a hash of the task id, so that the same task lands
on the same side in every export. YOLO comes with the ``data.yaml`` that Ultralytics trains from.
"""

import hashlib
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from xml.etree import ElementTree as ET

from kinds import AnswerFile, AnswerFileRefused
from kinds.formats import Chunks, ExportContext, ExportItem, ItemSource
from kinds.streams import json_dumps, zip_stream

SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
PLAIN = ExportContext(schema={})  # no split, no images


def image_name(item: ExportItem) -> str:
    """The image's file name: the uploaded or URL file name, else one made from the task."""
    # (plain string work: this runs once per image of exports of millions)
    if item.file_name:
        return item.file_name
    name = item.media_name.split("?", 1)[0].rsplit("/", 1)[-1] if item.media_name else ""
    return name or f"task-{item.task_id}.jpg"


def in_validation(task_id: int, share: float) -> bool:
    """Whether the task is held out for validation: the same answer in every export."""
    if share <= 0:
        return False
    digest = hashlib.sha256(f"labelhub-split:{task_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def image_suffix(item: ExportItem) -> str:
    suffix = PurePosixPath(item.file_name or image_name(item)).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".jpg"


def _missing(item: ExportItem) -> str:
    where = item.media_url or "no image"
    why = (
        "its stored file could not be read"
        if item.media_path
        else "it is given by URL, so not in the archive: fetch it there"
    )
    return f"task {item.task_id}: {where} ({why})"


class UniqueStems:
    """File stems made safe for an archive and unique within it (``cat``, ``cat-17``)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, item: ExportItem) -> str:
        stem = SAFE_NAME.sub("_", PurePosixPath(image_name(item)).stem).strip("._") or "image"
        if stem in self.seen:
            stem = f"{stem}-{item.task_id}"
        self.seen.add(stem)
        return stem


def coco(items: ItemSource, *, labels: list[str]) -> Chunks:
    """One COCO JSON document, in one pass over the items.

    Images are written as they come; their annotations go to a temporary file (in memory up to
    16 MB, then on disk) that is appended after the images, so memory stays flat.
    """
    category_ids = {name: number for number, name in enumerate(labels, start=1)}
    categories = [{"id": number, "name": name} for name, number in category_ids.items()]
    yield b'{"info":{"description":"LabelHub export"},"categories":'
    yield json_dumps(categories)
    yield b',"images":['
    with tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024) as annotations:
        first_image, first_annotation, next_id = True, True, 1
        for item in items():
            image = {
                "id": item.task_id,
                "file_name": image_name(item),
                "width": item.width,
                "height": item.height,
            }
            if item.media_url:  # where to fetch it (COCO's own field for that)
                image["coco_url"] = item.media_url
            yield (b"" if first_image else b",") + json_dumps(image)
            first_image = False
            for box in item.result.get("boxes", []):
                annotation = {
                    "id": next_id,
                    "image_id": item.task_id,
                    "category_id": category_ids[box["label"]],
                    "bbox": [box["x"], box["y"], box["w"], box["h"]],
                    "area": box["w"] * box["h"],
                    "iscrowd": 0,
                }
                next_id += 1
                annotations.write((b"" if first_annotation else b",") + json_dumps(annotation))
                first_annotation = False
        yield b'],"annotations":['
        annotations.seek(0)
        while chunk := annotations.read(256 * 1024):
            yield chunk
    yield b"]}"


def data_yaml(labels: list[str], *, split: bool) -> bytes:
    """The dataset file Ultralytics trains from (``yolo train data=data.yaml``). Names are JSON
    strings, which YAML reads as they are, whatever characters a label has."""
    train, val = ("images/train", "images/val") if split else ("images", "images")
    lines = [
        "# A YOLO dataset exported by LabelHub. Paths are relative to this file's folder.",
        *(
            []
            if split
            else ["# No validation split was asked for: val is the training set itself."]
        ),
        f"train: {train}",
        f"val: {val}",
        f"nc: {len(labels)}",
        "names:",
        *(f"  {number}: {json_dumps(name).decode()}" for number, name in enumerate(labels)),
    ]
    return ("\n".join(lines) + "\n").encode()


def _yolo_files(
    items: Iterable[ExportItem], labels: list[str], context: ExportContext
) -> Iterator[tuple[str, bytes]]:
    class_ids = {name: number for number, name in enumerate(labels)}
    split = context.val_split > 0
    yield "data.yaml", data_yaml(labels, split=split)
    yield "classes.txt", ("\n".join(labels) + "\n").encode()
    stems = UniqueStems()
    skipped, missing = [], []
    for item in items:
        if not item.width or not item.height:
            skipped.append(f"task {item.task_id}: image size unknown")
            continue
        lines = []
        for box in item.result.get("boxes", []):
            cx = (box["x"] + box["w"] / 2) / item.width
            cy = (box["y"] + box["h"] / 2) / item.height
            w, h = box["w"] / item.width, box["h"] / item.height
            lines.append(f"{class_ids[box['label']]} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
        part = (
            ("/val" if in_validation(item.task_id, context.val_split) else "/train")
            if split
            else ""
        )
        stem = stems(item)
        yield f"labels{part}/{stem}.txt", ("\n".join(lines) + ("\n" if lines else "")).encode()
        if context.images:
            content = context.open_media(item)
            if content is None:
                missing.append(_missing(item))
            else:
                yield f"images{part}/{stem}{image_suffix(item)}", content
    if skipped:
        yield "skipped.txt", ("\n".join(skipped) + "\n").encode()
    if missing:
        yield "images_missing.txt", ("\n".join(missing) + "\n").encode()


def yolo(items: ItemSource, *, labels: list[str], context: ExportContext = PLAIN) -> Chunks:
    """A zip: ``data.yaml``, ``classes.txt`` and one ``labels[/train|/val]/<image>.txt`` per image
    (normalised centre, size), with ``images[/train|/val]/`` when the images are asked for."""
    return zip_stream(_yolo_files(items(), labels, context))


def _voc_document(item: ExportItem, filename: str) -> bytes:
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "JPEGImages"
    ET.SubElement(root, "filename").text = filename
    size = ET.SubElement(root, "size")
    ET.SubElement(size, "width").text = str(item.width or 0)
    ET.SubElement(size, "height").text = str(item.height or 0)
    ET.SubElement(size, "depth").text = "3"
    ET.SubElement(root, "segmented").text = "0"
    for box in item.result.get("boxes", []):
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = box["label"]
        ET.SubElement(obj, "pose").text = "Unspecified"
        ET.SubElement(obj, "truncated").text = "0"
        ET.SubElement(obj, "difficult").text = "0"
        bndbox = ET.SubElement(obj, "bndbox")
        ET.SubElement(bndbox, "xmin").text = str(round(box["x"]))
        ET.SubElement(bndbox, "ymin").text = str(round(box["y"]))
        ET.SubElement(bndbox, "xmax").text = str(round(box["x"] + box["w"]))
        ET.SubElement(bndbox, "ymax").text = str(round(box["y"] + box["h"]))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _voc_files(items: Iterable[ExportItem], context: ExportContext) -> Iterator[tuple[str, bytes]]:
    stems = UniqueStems()
    sets: dict[str, list[str]] = {"train": [], "val": []}
    missing = []
    for item in items:
        stem = stems(item)
        # The image's name in the archive when it is there, else the customer's own file's.
        archived = f"{stem}{image_suffix(item)}"
        content = context.open_media(item) if context.images else None
        if context.images and content is None:
            missing.append(_missing(item))
        filename = archived if content is not None else image_name(item)
        yield f"Annotations/{stem}.xml", _voc_document(item, filename)
        if content is not None:
            yield f"JPEGImages/{archived}", content
        sets["val" if in_validation(item.task_id, context.val_split) else "train"].append(stem)
    listed = {"trainval": sets["train"] + sets["val"]}
    if context.val_split > 0:
        listed |= sets
    for name, stems_in in listed.items():
        yield f"ImageSets/Main/{name}.txt", "".join(f"{stem}\n" for stem in stems_in).encode()
    if missing:
        yield "images_missing.txt", ("\n".join(missing) + "\n").encode()


def voc(items: ItemSource, *, labels: list[str], context: ExportContext = PLAIN) -> Chunks:
    """A zip of ``Annotations/<image>.xml`` (one Pascal VOC document per image) and the
    ``ImageSets/Main`` lists (``trainval``; ``train`` and ``val`` with a split), with
    ``JPEGImages/`` when the images are asked for."""
    return zip_stream(_voc_files(items(), context))


def read_coco(value: object, *, name: str) -> AnswerFile | None:
    """Boxes by image file name from a COCO object (``bbox`` is ``[x, y, w, h]`` in pixels), to
    set on the tasks of those images; ``None`` for JSON that is not COCO (no ``images`` and
    ``annotations``). Problems are keyed by where they are in the file."""
    if not (isinstance(value, dict) and "images" in value and "annotations" in value):
        return None
    problems: list[tuple[str, str, str]] = []
    images, annotations = value.get("images"), value.get("annotations")
    categories = value.get("categories", [])
    if not isinstance(images, list):
        problems.append((f"file {name}", "images", "A list of images."))
    if not isinstance(annotations, list):
        problems.append((f"file {name}", "annotations", "A list of annotations."))
    if not isinstance(categories, list):
        problems.append((f"file {name}", "categories", "A list of categories."))
    if problems:
        raise AnswerFileRefused(problems)
    names_by_category: dict[object, str] = {}
    for i, category in enumerate(categories):
        if not isinstance(category, dict) or not isinstance(category.get("name"), str):
            problems.append((f"categories.{i}", "name", "A category has an id and a name."))
            continue
        names_by_category[category.get("id")] = category["name"]
    file_by_image: dict[object, str] = {}
    boxes: dict[str, list[dict]] = {}
    where: dict[str, str] = {}
    for i, image in enumerate(images):
        file_name = image.get("file_name") if isinstance(image, dict) else None
        if not isinstance(file_name, str) or not file_name.strip():
            problems.append((f"images.{i}", "file_name", "An image needs its file name."))
            continue
        file_by_image[image.get("id")] = file_name
        boxes.setdefault(file_name, [])
        where[file_name] = f"images.{i} ({file_name})"
    for i, annotation in enumerate(annotations):
        place = f"annotations.{i}"
        if not isinstance(annotation, dict):
            problems.append((place, "", "An annotation is an object."))
            continue
        file_name = file_by_image.get(annotation.get("image_id"))
        if file_name is None:
            problems.append((place, "image_id", "No image in the file has this id."))
            continue
        label = names_by_category.get(annotation.get("category_id"))
        if label is None:
            problems.append((place, "category_id", "No category in the file has this id."))
            continue
        bbox = annotation.get("bbox")
        if (
            not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox)
        ):
            problems.append((place, "bbox", "A box is four numbers [x, y, w, h]."))
            continue
        x, y, w, h = bbox
        boxes[file_name].append({"label": label, "x": x, "y": y, "w": w, "h": h})
    if problems:
        raise AnswerFileRefused(problems)
    return AnswerFile(
        format="COCO",
        kind="bbox",
        results={file_name: {"boxes": found} for file_name, found in boxes.items()},
        where=where,
    )
