"""Text in images: RapidOCR (``rapidocr-onnxruntime``; its ONNX models are inside the wheel).

``python -m reference_backends.ocr --port 9002``. Answers ``transcription`` tasks whose image was
uploaded to LabelHub. RapidOCR finds lines of text; they are put in reading order (top to
bottom, then left to right, boxes whose vertical middles are within half a line's height being
one line) and joined with spaces within a line and newlines between lines. The score is the mean
of RapidOCR's recognition confidences, or 0 when no text was found (the draft is then empty).
"""

from statistics import mean

import cv2
import numpy as np
from rapidocr_onnxruntime import RapidOCR

from reference_backends.serve import Refused, main, media_bytes


def reading_order(found: list) -> tuple[str, float]:
    """(text, mean confidence) from RapidOCR's ``[[corners, text, confidence], ...]``."""
    items = []
    for corners, text, conf in found or []:
        ys = [point[1] for point in corners]
        items.append((min(ys), max(ys), min(point[0] for point in corners), text, float(conf)))
    items.sort()
    lines: list[list] = []
    for top, bottom, left, text, _conf in items:
        middle = (top + bottom) / 2
        if lines and abs(middle - lines[-1][0]) <= (bottom - top) / 2:
            lines[-1][1].append((left, text))
        else:
            lines.append([middle, [(left, text)]])
    text = "\n".join(" ".join(t for _, t in sorted(words)) for _, words in lines)
    return text, round(mean(i[4] for i in items), 4) if items else 0.0


class Ocr:
    version = "rapidocr-onnxruntime-ppocr"

    def __init__(self) -> None:
        self.engine = RapidOCR()

    def predict(self, kind: str, schema: dict, tasks: list[dict]) -> list[dict]:
        if kind != "transcription" or schema.get("media") != "image":
            raise Refused("This backend answers transcription tasks of images.")
        answers = []
        for task in tasks:
            content = media_bytes(task)
            image = (
                cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_COLOR)
                if content
                else None
            )
            if image is None:  # no uploaded image, or not one OpenCV can read
                continue
            found, _elapsed = self.engine(image)
            text, score = reading_order(found)
            answers.append({"task": task["id"], "result": {"text": text}, "score": score})
        return answers


if __name__ == "__main__":
    main(Ocr, description="LabelHub backend: text in images (RapidOCR)", default_port=9002)
