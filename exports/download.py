"""A stored export file served with HTTP ranges, so that a broken download resumes.

``Range: bytes=START-`` (or ``START-END``, or ``-SUFFIX``) answers ``206 Partial Content`` with
``Content-Range: bytes START-END/SIZE`` and only those bytes, read from storage from that offset;
``If-Range`` with the file's ``ETag`` makes the range conditional (a different tag, e.g. after the
export was written again, gets the whole file with 200); a range past the end is ``416`` with
``Content-Range: bytes */SIZE``. Several ranges in one header are answered with the whole file,
as RFC 9110 allows. A finished export never changes, so its tag is made from its id, size and time.
"""

import re
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

from exports.models import ExportJob

CHUNK = 256 * 1024
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def export_etag(job: ExportJob, size: int) -> str:
    finished = int(job.finished_at.timestamp() * 1000) if job.finished_at else 0
    return f'"export-{job.pk}-{size}-{finished}"'


def requested_range(request: HttpRequest, *, size: int, etag: str) -> tuple[int, int] | str | None:
    """``(start, end)`` inclusive for a satisfiable single range; None for the whole file;
    ``"unsatisfiable"`` for a range that starts past the end."""
    header = request.headers.get("Range", "").strip()
    if not header:
        return None
    if_range = request.headers.get("If-Range", "").strip()
    if if_range and if_range != etag:
        return None  # the file changed (or a date was given): send all of it
    match = RANGE.match(header.replace(" ", ""))
    if not match or (not match[1] and not match[2]):
        return None  # several ranges, or another unit: the whole file
    if not match[1]:  # the last N bytes
        length = int(match[2])
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(match[1])
    end = min(int(match[2]), size - 1) if match[2] else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end


def _read(job: ExportJob, start: int, length: int) -> Iterator[bytes]:
    with job.file.open("rb") as handle:
        handle.seek(start)
        left = length
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def export_file_response(request: HttpRequest, job: ExportJob) -> HttpResponse:
    """The export's file, whole (200) or the range asked for (206), with its ETag."""
    size = job.file.size
    etag = export_etag(job, size)
    wanted = requested_range(request, size=size, etag=etag)
    if wanted == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = wanted if isinstance(wanted, tuple) else (0, size - 1)
        length = max(end - start + 1, 0)
        response = StreamingHttpResponse(
            _read(job, start, length),
            status=206 if isinstance(wanted, tuple) else 200,
            content_type=job.content_type or "application/octet-stream",
        )
        response["Content-Length"] = str(length)
        if isinstance(wanted, tuple):
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Disposition"] = content_disposition_header(True, job.filename)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
