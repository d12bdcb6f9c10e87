"""Streaming helpers shared by the writers: JSON lines, safe CSV, and zip archives on the fly."""

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator

import orjson

# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def json_dumps(value: object) -> bytes:
    """Compact UTF-8 JSON, fast (orjson; exports encode millions of rows). ``orjson.Fragment``
    values are written as they are: already-encoded JSON from the database is not decoded."""
    return orjson.dumps(value)


def json_line(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE)


def csv_safe(value: object) -> str:
    """A cell value that a spreadsheet will show as text, never run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_rows(header: list[str], rows: Iterable[list[object]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


class _Pipe(io.RawIOBase):
    """A write-only, unseekable sink that hands out what was written since the last call."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


# Already compressed: stored as they are (deflating them again costs CPU and saves nothing).
STORED_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".mp3", ".ogg", ".flac", ".m4a")


def zip_stream(files: Iterable[tuple[str, bytes]]) -> Iterator[bytes]:
    """A zip archive of (name, content) pairs, yielded as it is written."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            stored = name.lower().endswith(STORED_SUFFIXES)
            archive.writestr(name, content, compress_type=zipfile.ZIP_STORED if stored else None)
            yield pipe.take()
    yield pipe.take()
