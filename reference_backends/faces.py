"""Boxes: faces found by OpenCV's bundled Haar cascade (``opencv-python-headless`` 4.x).

``python -m reference_backends.faces --port 9001``. Answers ``bbox`` tasks whose image was
uploaded to LabelHub. Each face is one box, labelled with the schema's first label named face,
person, head, people or human (else the schema's first label). A box's confidence comes
from the cascade's level weight ``w`` as ``1 − exp(−w / 4)`` (a clear frontal face has a weight
around 5–8, so about 0.7–0.9); the task's score is its least sure box, or 0.5 when no face was
found (the detector saying nothing is weak evidence of an empty picture).
"""

import math

import cv2
import numpy as np

from reference_backends.serve import Refused, main, media_bytes

CASCADE = "haarcascade_frontalface_default.xml"
LABEL_WORDS = ("face", "person", "head", "people", "human")
NO_FACE_SCORE = 0.5


def label_for(schema: dict) -> str:
    names = [
        label["name"]
        for label in schema.get("labels") or []
        if isinstance(label, dict) and isinstance(label.get("name"), str)
    ]
    for name in names:
        if name.strip().lower() in LABEL_WORDS:
            return name
    return names[0] if names else "face"


def confidence(weight: float) -> float:
    return round(1 - math.exp(-max(float(weight), 0.0) / 4), 4)


class Faces:
    version = f"haar-frontalface-opencv{cv2.__version__}"

    def __init__(self) -> None:
        self.cascade = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)
        if self.cascade.empty():
            raise RuntimeError(f"{CASCADE} is not in this OpenCV (opencv-python-headless 4.x)")

    def faces(self, content: bytes) -> list[tuple[int, int, int, int, float]] | None:
        image = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_GRAYSCALE)
        if image is None:
            return None
        height, width = image.shape
        found, _levels, weights = self.cascade.detectMultiScale3(
            cv2.equalizeHist(image),
            scaleFactor=1.1,
            minNeighbors=5,
            minSize=(24, 24),
            outputRejectLevels=True,
        )
        boxes = []
        for (x, y, w, h), weight in zip(found, weights, strict=True):
            x, y = max(int(x), 0), max(int(y), 0)
            w, h = min(int(w), width - x), min(int(h), height - y)
            boxes.append((x, y, w, h, confidence(weight)))
        return sorted(boxes)

    def predict(self, kind: str, schema: dict, tasks: list[dict]) -> list[dict]:
        if kind != "bbox":
            raise Refused(f"This backend answers bbox tasks, not {kind}.")
        label, answers = label_for(schema), []
        for task in tasks:
            content = media_bytes(task)
            boxes = self.faces(content) if content else None
            if boxes is None:  # no uploaded image, or not one OpenCV can read
                continue
            result = {
                "boxes": [
                    {"label": label, "x": x, "y": y, "w": w, "h": h} for x, y, w, h, _ in boxes
                ]
            }
            score = min((c for *_, c in boxes), default=NO_FACE_SCORE)
            answers.append({"task": task["id"], "result": result, "score": score})
        return answers


if __name__ == "__main__":
    main(Faces, description="LabelHub backend: faces (OpenCV Haar cascade)", default_port=9001)
