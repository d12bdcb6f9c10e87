"""Bounding-box datasets: COCO JSON, YOLO txt and Pascal VOC XML.

Results hold boxes in image pixels with the origin at the top-left: ``{label, x, y, w, h}``.
Categories are numbered in the order of the project's labels (COCO from 1, YOLO from 0).
"""

import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from xml.etree import ElementTree as ET

from labelhub.formats import Chunks, ExportItem, ItemSource
from labelhub.formats.streams import json_dumps, zip_stream

SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def image_name(item: ExportItem) -> str:
    """The image's file name: the uploaded or URL file name, else one made from the task."""
    # (plain string work: this runs once per image of exports of millions)
    name = item.media_name.split("?", 1)[0].rsplit("/", 1)[-1] if item.media_name else ""
    return name or f"task-{item.task_id}.jpg"


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


def _yolo_files(items: Iterable[ExportItem], labels: list[str]) -> Iterator[tuple[str, bytes]]:
    class_ids = {name: number for number, name in enumerate(labels)}
    yield "classes.txt", ("\n".join(labels) + "\n").encode()
    stems = UniqueStems()
    skipped = []
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
        yield f"labels/{stems(item)}.txt", ("\n".join(lines) + ("\n" if lines else "")).encode()
    if skipped:
        yield "skipped.txt", ("\n".join(skipped) + "\n").encode()


def yolo(items: ItemSource, *, labels: list[str]) -> Chunks:
    """A zip: ``classes.txt`` and one ``labels/<image>.txt`` per image (normalised centre, size)."""
    return zip_stream(_yolo_files(items(), labels))


def _voc_document(item: ExportItem, stem: str) -> bytes:
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "images"
    ET.SubElement(root, "filename").text = image_name(item)
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


def voc(items: ItemSource, *, labels: list[str]) -> Chunks:
    """A zip of ``Annotations/<image>.xml``, one Pascal VOC document per image."""
    stems = UniqueStems()
    return zip_stream(
        (f"Annotations/{stem}.xml", _voc_document(item, stem))
        for item in items()
        for stem in [stems(item)]
    )
