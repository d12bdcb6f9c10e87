"""Transcription datasets: JSON lines, CSV, and WebVTT / SRT subtitles for segmented audio.

Each row names its clip or image by ``media``, a URL the customer can fetch (the one the task was
given by, or LabelHub's ``/tasks/<id>/media/`` for an uploaded file, which answers their API
token), and by ``file_name``, the file's own name; never by a path inside LabelHub's storage.
``contributors`` are the pseudonyms of the answers behind the result, as in every export.
"""

import json
import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from kinds.formats import Chunks, ExportContext, ExportItem, ItemSource, NothingToWrite
from kinds.streams import csv_rows, json_line, zip_stream

SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _media(item: ExportItem) -> str:
    return item.media_url or item.data.get("audio") or item.data.get("image") or ""


def _file_name(item: ExportItem) -> str:
    given = item.file_name or item.media_name or _media(item)
    return PurePosixPath(given.split("?", 1)[0]).name


def jsonl(items: ItemSource) -> Chunks:
    for item in items():
        row = {
            "task_id": item.task_id,
            "external_id": item.external_id,
            "media": _media(item),
            "file_name": _file_name(item),
            "text": item.result.get("text", ""),
            "confidence": item.confidence,
            "contributors": item.contributors,
        }
        if item.result.get("segments"):
            row["segments"] = item.result["segments"]
        yield json_line(row)


CSV_COLUMNS = [
    "task_id",
    "external_id",
    "media",
    "file_name",
    "text",
    "segments",
    "confidence",
    "contributors",
]


def csv(items: ItemSource) -> Chunks:
    return csv_rows(
        CSV_COLUMNS,
        (
            [
                item.task_id,
                item.external_id,
                _media(item),
                _file_name(item),
                item.result.get("text", ""),
                json.dumps(item.result.get("segments", []), ensure_ascii=False),
                "" if item.confidence is None else f"{item.confidence:.4f}",
                ";".join(item.contributors),
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
    without = []
    for item in items():
        segments = item.result.get("segments")
        if not segments:
            without.append(f"task {item.task_id} ({_file_name(item) or 'no file'}): no segments")
            continue
        stem = SAFE_NAME.sub("_", PurePosixPath(_file_name(item)).stem).strip("._")
        yield f"{item.task_id}-{stem or 'clip'}{suffix}", render(segments).encode()
    if without:
        lines = ["These transcripts have no timed segments, so they have no subtitles:", *without]
        yield "no_segments.txt", ("\n".join(lines) + "\n").encode()


def subtitles_check(context: ExportContext) -> None:
    """Subtitles need timed segments: refuse, saying so, rather than write an empty archive."""
    if not context.has_segments():
        segments = context.schema.get("segments")
        hint = (
            "this project's transcripts are not asked for segments (turn them on in the schema)"
            if not segments
            else "none of the exported transcripts has any"
        )
        raise NothingToWrite(
            "Subtitles are made of timed segments, and "
            f"{hint}. Export JSON lines or CSV for the text."
        )


def vtt(items: ItemSource) -> Chunks:
    """A zip with one WebVTT file per segmented clip."""
    return zip_stream(_subtitle_files(items, ".vtt", webvtt_document))


def srt(items: ItemSource) -> Chunks:
    """A zip with one SRT file per segmented clip."""
    return zip_stream(_subtitle_files(items, ".srt", srt_document))
