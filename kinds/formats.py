"""Dataset writers: the file formats customers' training code reads.

Each writer is a generator of ``bytes`` chunks over :class:`ExportItem` records, so an export of
any size streams in constant memory (a ``StreamingHttpResponse`` or a file written by a
background task). Writers know formats, not the database: the export service turns accepted
tasks into items. Writers take a callable that returns a fresh iterator of items and read it
once (COCO spools its annotations to a temporary file while it writes the images).

A task kind lists the files it writes as :class:`ExportFormat` records (``kind.export_formats()``);
the export service gives each writer the items and an :class:`ExportContext`.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ExportAnswer:
    """One counted answer to a task (rejected answers are left out), by a per-project pseudonym
    of its contributor."""

    contributor: str
    result: dict


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
    # The accepted result is a reviewer's fix (the reviewer set its values), not the answers'.
    fixed_by_review: bool = False
    extra: dict = field(default_factory=dict)
    # Every counted answer, in the order given; filled only for formats that ask (``answers``).
    answers: tuple[ExportAnswer, ...] = ()
    # Where a customer fetches the media: the URL it was given by, or for an uploaded file
    # LabelHub's own (``/tasks/<id>/media/``, with their API token); and the file's own name.
    media_url: str = ""
    file_name: str = ""
    # The uploaded file in LabelHub's storage, for writers that put the media in the archive
    # (``ExportContext.open_media``); never written out.
    media_path: str = ""

    @property
    def contributors(self) -> list[str]:
        """The pseudonyms of the counted answers' authors, in order."""
        return [answer.contributor for answer in self.answers]


def confidence_of(item: ExportItem) -> dict:
    """``{"confidence": x}`` when the task's consensus has a confidence (several answers were
    combined), else nothing: a preference row never carries ``confidence: null``, so a file of
    single-answer tasks has no such column instead of one ``datasets`` types as null, and a file
    of consolidated tasks types it as a number."""
    return {} if item.confidence is None else {"confidence": float(item.confidence)}


class FormatRefused(ValueError):
    """A writer refuses an export before it starts, for a reason the customer can fix.

    ``code`` names the reason for scripts, ``field`` the export option at fault (the form shows
    the message there) and :meth:`details` what the API's answer carries besides the message.
    Kinds sit below the core, so this is not a ``labelhub.refusals.Refusal``: the export service
    turns it into one (``exports.services.ExportRefused``), in one place.
    """

    code = "format_refused"
    field = "format"

    def details(self) -> dict:
        return {}


class NothingToWrite(FormatRefused):
    """The export would be an empty file for a reason the customer can fix (a subtitle export of
    transcripts without timed segments): refused before it starts, with that reason."""

    code = "nothing_to_write"


ZIP = "application/zip"  # the content type of writers that return an archive

ItemSource = Callable[[], Iterable[ExportItem]]
Chunks = Iterator[bytes]


@dataclass(frozen=True)
class ExportContext:
    """What a writer may know besides the items: the project's schema, the export's options, and
    questions about the whole export answered before its first row (one query each)."""

    schema: dict
    style: str = "auto"
    has_chat: Callable[[], bool] = lambda: False
    first_long_chat: Callable[[], tuple[int, str] | None] = lambda: None
    has_segments: Callable[[], bool] = lambda: True
    # Box datasets: the share of images held out for validation (0: no split), whether the
    # archive carries the images, and how to read an uploaded image (None: given by URL only).
    val_split: float = 0.0
    images: bool = False
    open_media: Callable[[ExportItem], bytes | None] = lambda item: None
    # What other apps know about an item's result (the sandbox: the proof that made an
    # environment task count): the export asks the ``export.evidence`` hook (annotation.events).
    evidence: Callable[[ExportItem], dict] = lambda item: {}


@dataclass(frozen=True)
class ExportFormat:
    """One file format a kind writes.

    ``write(items, context)`` returns the chunks (its arguments are computed when it is called,
    before the first chunk is asked for); ``check(context)`` refuses an export before it starts
    (before a background job is queued, too); ``options`` names the export options it reads
    (``"style"``), so that forms offer them only where they apply; ``styles`` are the values
    (with their labels) the ``style`` option takes, the first the default; ``answers`` asks for
    every counted answer on each item, not only the accepted result.
    """

    name: str
    label: str
    content_type: str
    extension: str
    write: Callable[[ItemSource, ExportContext], Chunks] | None = None
    check: Callable[[ExportContext], None] | None = None
    options: tuple[str, ...] = ()
    styles: tuple[tuple[str, str], ...] = ()
    answers: bool = False
