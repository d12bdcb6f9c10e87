"""Transcription datasets: JSON lines, CSV, and WebVTT / SRT subtitles for segmented audio."""

import json
import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from labelhub.formats import Chunks, ExportItem, ItemSource
from labelhub.formats.streams import csv_rows, json_line, zip_stream

SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _media(item: ExportItem) -> str:
    return item.media_name or item.data.get("audio") or item.data.get("image") or ""


def jsonl(items: ItemSource) -> Chunks:
    for item in items():
        row = {
            "task_id": item.task_id,
            "external_id": item.external_id,
            "media": _media(item),
            "text": item.result.get("text", ""),
            "confidence": item.confidence,
        }
        if item.result.get("segments"):
            row["segments"] = item.result["segments"]
        yield json_line(row)


def csv(items: ItemSource) -> Chunks:
    header = ["task_id", "external_id", "media", "text", "segments", "confidence"]
    return csv_rows(
        header,
        (
            [
                item.task_id,
                item.external_id,
                _media(item),
                item.result.get("text", ""),
                json.dumps(item.result.get("segments", []), ensure_ascii=False),
                "" if item.confidence is None else f"{item.confidence:.4f}",
            ]
            for item in items()
        ),
    )


def timestamp(seconds: float, *, decimal: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def _cue_text(text: str) -> str:
    # A blank line ends a cue and "-->" starts a timing line: neither may appear inside cue text.
    return re.sub(r"\n\s*\n", "\n", text.replace("-->", "→")).strip()


def webvtt_document(segments: list[dict]) -> str:
    cues = [
        f"{timestamp(s['start'], decimal='.')} --> {timestamp(s['end'], decimal='.')}\n"
        f"{_cue_text(s['text'])}"
        for s in segments
    ]
    return "WEBVTT\n\n" + "\n\n".join(cues) + "\n"


def srt_document(segments: list[dict]) -> str:
    cues = [
        f"{number}\n{timestamp(s['start'], decimal=',')} --> {timestamp(s['end'], decimal=',')}\n"
        f"{_cue_text(s['text'])}"
        for number, s in enumerate(segments, start=1)
    ]
    return "\n\n".join(cues) + "\n"


def _subtitle_files(items: ItemSource, suffix: str, render) -> Iterator[tuple[str, bytes]]:
    for item in items():
        segments = item.result.get("segments")
        if not segments:
            continue
        stem = SAFE_NAME.sub("_", PurePosixPath(_media(item).split("?")[0]).stem).strip("._")
        yield f"{item.task_id}-{stem or 'clip'}{suffix}", render(segments).encode()


def vtt(items: ItemSource) -> Chunks:
    """A zip with one WebVTT file per segmented clip."""
    return zip_stream(_subtitle_files(items, ".vtt", webvtt_document))


def srt(items: ItemSource) -> Chunks:
    """A zip with one SRT file per segmented clip."""
    return zip_stream(_subtitle_files(items, ".srt", srt_document))
