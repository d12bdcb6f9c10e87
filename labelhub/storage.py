"""Stored files (media, import uploads, exports) handed to browsers.

Files live in Django's default storage: the local disk, or an S3-compatible object store
(``MEDIA_STORAGE=s3``). Views decide who may have a file; this module only says how the bytes get
to the browser once they have: a short-lived presigned link to the store (so that no app server
carries the bytes and any of them can answer), or ``None`` where the storage has no such links
(the local disk) and the view streams the file itself.
"""

import inspect
import logging
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile
from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


def link_seconds() -> int:
    return int(getattr(settings, "MEDIA_URL_SECONDS", 300))


def stored_file_link(
    field: FieldFile,
    *,
    content_type: str = "",
    download_as: str = "",
    cache_seconds: int = 0,
) -> str | None:
    """A presigned GET link to ``field`` that lasts ``MEDIA_URL_SECONDS``; None for local disk.

    Only call this after the caller's role was checked: anyone holding the link can fetch the file
    until it expires. ``download_as`` makes the store answer as an attachment of that name,
    ``cache_seconds`` lets the browser keep the bytes (a stored file never changes under its name).
    """
    storage = field.storage
    if isinstance(storage, FileSystemStorage):
        return None
    accepts = inspect.signature(storage.url).parameters
    if "parameters" not in accepts:
        return storage.url(field.name)  # a storage without presigning options: its own URL
    parameters = {}
    if content_type:
        parameters["ResponseContentType"] = content_type
    if download_as:
        parameters["ResponseContentDisposition"] = (
            f"attachment; filename*=UTF-8''{quote(download_as)}"
        )
    if cache_seconds:
        parameters["ResponseCacheControl"] = f"private, max-age={cache_seconds}"
    return storage.url(field.name, parameters=parameters, expire=link_seconds())


def stored_file_delete(name: str) -> None:
    """Remove a stored file; a store that fails is logged, never an error for the caller."""
    if not name:
        return
    from django.core.files.storage import default_storage

    try:
        default_storage.delete(name)
    except Exception:  # botocore's errors are not OSError; nothing to undo either way
        logger.warning("Could not delete the stored file %s", name, exc_info=True)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's hashed, compressed static files once ``collectstatic`` has run; before it
    (no manifest: a first try of DEBUG off, a forgotten step) files are named as they are and
    WhiteNoise serves them from the apps' folders (``WHITENOISE_USE_FINDERS``), instead of every
    page failing on the first ``{% static %}``."""

    def stored_name(self, name):
        if not self.hashed_files:
            return name
        return super().stored_name(name)
