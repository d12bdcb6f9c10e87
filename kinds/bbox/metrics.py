"""Bounding-box metrics: IoU, one-to-one matching, F1, and consensus boxes.

Choices:

* Boxes are ``{"label", "x", "y", "w", "h"}`` in image pixels. IoU of two boxes with no area is 0.
* **Matching is one-to-one and optimal** (Hungarian, ``scipy.optimize.linear_sum_assignment``), not
  COCO's greedy-by-confidence, because human boxes carry no confidence. The weight
  ``1[IoU ≥ τ] + 10⁻³·IoU`` makes the number of matches come first, then their tightness. Only boxes
  with the same label match (class-aware); the class-agnostic "localisation F1" is reported beside
  it so a reviewer can tell a wrong label from a sloppy box.
* **F1 = 2·TP / (|answer| + |gold|)** is the score; an empty answer to an empty image scores 1.
  Precision of an empty answer (and recall against an empty gold) is 1 by convention: nothing
  was claimed wrongly (nothing was missed). Mean IoU is over the matches, ``None`` without any.
* **Consensus**: annotators are taken in turn; each one's boxes are matched (same Hungarian rule)
  to the clusters built so far, by IoU with each cluster's current fused box; unmatched boxes open
  new clusters. A cluster is kept when the weight of annotators behind it is more than the quorum
  share (default ½, a strict majority) of all weight; its box is the weighted coordinate-wise median
  of the corners (robust to one sloppy box for k ≥ 3). Dropped clusters are returned as
  "minority" boxes for the reviewer.
* **Confidence** treats each cluster as a question "is there a box here?": a kept cluster is backed
  by ``support × mean IoU with the fused box``, a dropped one by the share that left it out; the
  confidence is the mean over clusters (1.0 when nobody drew anything).
* Not taken: crowd-kit has no box aggregator; ``ensemble-boxes`` (WBF) is built for model scores
  and unmaintained since 2022. The code here is small and keeps our edge cases.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kinds.metrics import check_weights, mean_pairwise, weighted_median

Box = dict  # {"label": str, "x": float, "y": float, "w": float, "h": float}


def as_array(boxes: Sequence[Box]) -> np.ndarray:
    """Corners ``(x1, y1, x2, y2)``, one row per box."""
    if not boxes:
        return np.zeros((0, 4))
    xywh = np.array([[b["x"], b["y"], b["w"], b["h"]] for b in boxes], dtype=float)
    return np.column_stack(
        [xywh[:, 0], xywh[:, 1], xywh[:, 0] + xywh[:, 2], xywh[:, 1] + xywh[:, 3]]
    )


def iou_matrix(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """IoU of every corner box in ``first`` with every one in ``second``."""
    if len(first) == 0 or len(second) == 0:
        return np.zeros((len(first), len(second)))
    a, b = first[:, None, :], second[None, :, :]
    iw = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    ih = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = iw * ih
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = area_a + area_b - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def iou(first: Box, second: Box) -> float:
    return float(iou_matrix(as_array([first]), as_array([second]))[0, 0])


def match(
    first: Sequence[Box],
    second: Sequence[Box],
    *,
    threshold: float,
    same_label: bool = True,
    corners: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[tuple[int, int, float]]:
    """One-to-one pairs ``(i, j, iou)`` with IoU ≥ threshold, as many as possible, then tightest."""
    a, b = corners if corners is not None else (as_array(first), as_array(second))
    overlaps = iou_matrix(a, b)
    if same_label and overlaps.size:
        labels_a = np.array([box["label"] for box in first], dtype=object)
        labels_b = np.array([box["label"] for box in second], dtype=object)
        overlaps = np.where(labels_a[:, None] == labels_b[None, :], overlaps, 0.0)
    if not overlaps.size:
        return []
    eligible = overlaps >= threshold
    weight = eligible + 1e-3 * overlaps
    # Imported here: scipy.optimize takes about 0.3 s to import, which every process (migrate, the
    # server and its autoreloader) paid at start-up though few of them ever match boxes.
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(weight, maximize=True)
    return [
        (int(i), int(j), float(overlaps[i, j]))
        for i, j in zip(rows, cols, strict=True)
        if eligible[i, j]
    ]


@dataclass(frozen=True)
class BoxComparison:
    """An answer's boxes against gold boxes."""

    matched: int
    answer_boxes: int
    gold_boxes: int
    precision: float
    recall: float
    f1: float
    mean_iou: float | None
    localisation_f1: float
    label_accuracy: float | None  # share of class-agnostic matches that also have the right label


def f1_of(matched: int, answer_boxes: int, gold_boxes: int) -> float:
    if answer_boxes + gold_boxes == 0:
        return 1.0
    return 2 * matched / (answer_boxes + gold_boxes)


def compare(answer: Sequence[Box], gold: Sequence[Box], *, threshold: float = 0.5) -> BoxComparison:
    corners = (as_array(answer), as_array(gold))
    pairs = match(answer, gold, threshold=threshold, corners=corners)
    located = match(answer, gold, threshold=threshold, same_label=False, corners=corners)
    tp, n_answer, n_gold = len(pairs), len(answer), len(gold)
    right_label = sum(1 for i, j, _ in located if answer[i]["label"] == gold[j]["label"])
    return BoxComparison(
        matched=tp,
        answer_boxes=n_answer,
        gold_boxes=n_gold,
        precision=tp / n_answer if n_answer else 1.0,
        recall=tp / n_gold if n_gold else 1.0,
        f1=f1_of(tp, n_answer, n_gold),
        mean_iou=float(np.mean([o for _, _, o in pairs])) if pairs else None,
        localisation_f1=f1_of(len(located), n_answer, n_gold),
        label_accuracy=right_label / len(located) if located else None,
    )


def f1_score(answer: Sequence[Box], gold: Sequence[Box], *, threshold: float = 0.5) -> float:
    return compare(answer, gold, threshold=threshold).f1


def agreement(answers: Sequence[Sequence[Box]], *, threshold: float = 0.5) -> float:
    """Mean pairwise F1 (F1 is symmetric, so ordered and unordered pairs give the same mean)."""
    return mean_pairwise(answers, lambda a, b: f1_score(a, b, threshold=threshold), symmetric=True)


@dataclass(frozen=True)
class FusedBox:
    box: Box  # label and fused coordinates
    votes: int  # annotators behind it
    support: float  # their share of the total weight
    mean_iou: float  # mean IoU of their boxes with the fused box
    kept: bool


@dataclass(frozen=True)
class BoxConsensus:
    boxes: list[FusedBox]  # kept clusters, in the order they were found
    minority: list[FusedBox]  # dropped clusters
    confidence: float


def fuse(members: list[tuple[int, Box]], weights: np.ndarray) -> tuple[Box, np.ndarray]:
    member_weights = [float(weights[annotator]) for annotator, _ in members]
    x1 = weighted_median([b["x"] for _, b in members], member_weights)
    y1 = weighted_median([b["y"] for _, b in members], member_weights)
    x2 = weighted_median([b["x"] + b["w"] for _, b in members], member_weights)
    y2 = weighted_median([b["y"] + b["h"] for _, b in members], member_weights)
    box = {
        "label": members[0][1]["label"],
        "x": round(x1, 2),
        "y": round(y1, 2),
        "w": round(x2 - x1, 2),
        "h": round(y2 - y1, 2),
    }
    return box, np.array([x1, y1, x2, y2])


def consolidate(
    answers: Sequence[Sequence[Box]],
    *,
    threshold: float = 0.5,
    quorum: float = 0.5,
    weights: Sequence[float] | None = None,
) -> BoxConsensus:
    """Cluster the annotators' boxes; keep the clusters that more than ``quorum`` of them found."""
    w = check_weights(weights, len(answers))
    clusters: list[list[tuple[int, Box]]] = []
    fused_boxes: list[Box] = []
    fused_corners: list[np.ndarray] = []
    for annotator, boxes in enumerate(answers):
        pairs = match(
            boxes,
            fused_boxes,
            threshold=threshold,
            corners=(as_array(boxes), np.array(fused_corners).reshape(-1, 4)),
        )
        taken = {i: j for i, j, _ in pairs}
        for i, box in enumerate(boxes):
            if i in taken:
                j = taken[i]
                clusters[j].append((annotator, box))
                fused_boxes[j], fused_corners[j] = fuse(clusters[j], w)
            else:
                clusters.append([(annotator, box)])
                fused_box, corners = fuse(clusters[-1], w)
                fused_boxes.append(fused_box)
                fused_corners.append(corners)
    total = float(w.sum())
    kept: list[FusedBox] = []
    minority: list[FusedBox] = []
    backing: list[float] = []
    for members, box, corners in zip(clusters, fused_boxes, fused_corners, strict=True):
        support = float(sum(w[a] for a, _ in members)) / total
        overlaps = iou_matrix(as_array([b for _, b in members]), corners[None, :])[:, 0]
        fused = FusedBox(
            box=box,
            votes=len(members),
            support=support,
            mean_iou=float(overlaps.mean()),
            kept=support > quorum + 1e-9,
        )
        if fused.kept:
            kept.append(fused)
            backing.append(support * fused.mean_iou)
        else:
            minority.append(fused)
            backing.append(1.0 - support)
    confidence = float(np.mean(backing)) if backing else 1.0
    return BoxConsensus(boxes=kept, minority=minority, confidence=confidence)
