"""Dataset writers: the file formats customers' training code reads.

Each writer is a generator of ``bytes`` chunks over :class:`ExportItem` records, so an export of
any size streams in constant memory (a ``StreamingHttpResponse`` or a file written by a
background task). Writers know formats, not the database: the export service turns accepted
tasks into items. Writers take a callable that returns a fresh iterator of items and read it
once (COCO spools its annotations to a temporary file while it writes the images).
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ExportItem:
    task_id: int
    external_id: str
    data: dict
    result: dict
    media_name: str = ""  # a file name for formats that key by image or clip
    width: int | None = None
    height: int | None = None
    confidence: float | None = None
    extra: dict = field(default_factory=dict)


ItemSource = Callable[[], Iterable[ExportItem]]
Chunks = Iterator[bytes]
