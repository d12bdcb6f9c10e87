"""Real image and audio bytes made on the spot for tests."""

import io
import struct
import wave

from PIL import Image


def image_bytes(
    width: int = 64, height: int = 48, fmt: str = "PNG", exif_rotate: bool = False
) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    out = io.BytesIO()
    if exif_rotate:
        exif = Image.Exif()
        exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
        image.save(out, format="JPEG", exif=exif)
    else:
        image.save(out, format=fmt)
    return out.getvalue()


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(struct.pack("<h", 0) * int(seconds * rate))
    return out.getvalue()
