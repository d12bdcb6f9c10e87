"""Reading uploaded media: images through Pillow, audio through mutagen.

Nothing here trusts a file name or a declared content type: the bytes decide. Errors are
:class:`MediaError` with a message fit to show the person who uploaded the file.
"""

import io
import warnings
from dataclasses import dataclass
from typing import IO

import mutagen
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow warns from 89 Mpx and raises from twice that; we refuse anything over the warning limit.
MAX_IMAGE_PIXELS = 89_478_485
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
THUMBNAIL_SIZE = (320, 320)
IMAGE_FORMATS = {"JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"}
AUDIO_CONTENT_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
}
# mutagen's class for each container we accept -> our format name
AUDIO_TYPES = {
    "WAVE": "wav",
    "MP3": "mp3",
    "OggVorbis": "ogg",
    "OggOpus": "ogg",
    "OggFLAC": "ogg",
    "FLAC": "flac",
}
MAX_AUDIO_SECONDS = 3 * 60 * 60


class MediaError(ValueError):
    """An uploaded file that LabelHub cannot use, with the reason in plain words."""


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    format: str
    thumbnail: bytes  # JPEG

    @property
    def meta(self) -> dict:
        return {"width": self.width, "height": self.height, "format": self.format.lower()}


@dataclass(frozen=True)
class AudioInfo:
    duration: float
    format: str

    @property
    def meta(self) -> dict:
        return {"duration": round(self.duration, 3), "format": self.format}


def read_image(file: IO[bytes]) -> ImageInfo:
    """Check an image and measure it (after EXIF orientation); make a JPEG thumbnail."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                if image.format not in IMAGE_FORMATS:
                    raise MediaError(
                        f"Images must be JPEG, PNG, GIF, WebP, BMP or TIFF, not {image.format}."
                    )
                image.load()
                upright = ImageOps.exif_transpose(image)
                width, height = upright.size
                thumb = upright.convert("RGB")
                thumb.thumbnail(THUMBNAIL_SIZE)
                out = io.BytesIO()
                thumb.save(out, format="JPEG", quality=80)
                return ImageInfo(
                    width=width, height=height, format=image.format, thumbnail=out.getvalue()
                )
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaError(
            f"The image is too large to process safely (more than {MAX_IMAGE_PIXELS:,} pixels)."
        ) from None
    except UnidentifiedImageError:
        raise MediaError("This file is not an image LabelHub can read.") from None
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, MediaError):
            raise
        raise MediaError("The image is damaged or truncated and cannot be read.") from None


def read_audio(file: IO[bytes]) -> AudioInfo:
    """Check that a file is WAV, MP3, OGG or FLAC audio and read its duration."""
    try:
        audio = mutagen.File(file)
    except mutagen.MutagenError:
        audio = None
    if audio is None or audio.info is None:
        raise MediaError("This file is not WAV, MP3, OGG or FLAC audio that LabelHub can read.")
    fmt = AUDIO_TYPES.get(type(audio).__name__)
    duration = float(getattr(audio.info, "length", 0.0) or 0.0)
    if fmt is None:
        raise MediaError("Audio must be WAV, MP3, OGG or FLAC.")
    if not 0 < duration <= MAX_AUDIO_SECONDS:
        raise MediaError("The audio has no readable duration, or is longer than 3 hours.")
    return AudioInfo(duration=duration, format=fmt)
