"""Real media made on the fly: a PNG by Pillow, a WAV by the standard library."""

import io
import math
import struct
import wave

from PIL import Image, ImageDraw


def png_bytes(width: int = 400, height: int = 300) -> io.BytesIO:
    """A PNG with a grid every 50 px, so that a person (or a screenshot) can read positions."""
    image = Image.new("RGB", (width, height), (235, 238, 242))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 50):
        draw.line([(x, 0), (x, height)], fill=(150, 160, 175))
    for y in range(0, height, 50):
        draw.line([(0, y), (width, y)], fill=(150, 160, 175))
    out = io.BytesIO()
    image.save(out, format="PNG")
    out.seek(0)
    return out


def wav_bytes(seconds: float = 6.0, rate: int = 8000) -> io.BytesIO:
    """A mono 16-bit WAV: a 440 Hz tone whose loudness rises and falls once a second."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        frames = bytearray()
        for i in range(int(seconds * rate)):
            t = i / rate
            envelope = 0.5 + 0.5 * math.sin(2 * math.pi * t)
            frames += struct.pack("<h", int(12000 * envelope * math.sin(2 * math.pi * 440 * t)))
        wav.writeframes(bytes(frames))
    out.seek(0)
    return out
