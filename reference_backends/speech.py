"""Speech: PocketSphinx's US English model (inside the ``pocketsphinx`` wheel).

``python -m reference_backends.speech --port 9003``. Answers ``transcription`` tasks whose audio
was uploaded to LabelHub. The file is decoded with ``soundfile`` (WAV, FLAC, OGG; MP3 where the
system's libsndfile reads it), mixed down to mono and resampled to the model's 16 kHz by linear
interpolation. The draft is lower case without punctuation (what the model knows); with a schema
that takes time segments, each recognised word is a segment. The score is the decoder's posterior
probability of the whole utterance, which is small for all but short, clean clips: it orders
drafts from least to most sure rather than promising an accuracy.
"""

import io

import numpy as np
import soundfile
from pocketsphinx import Decoder

from reference_backends.serve import Refused, main, media_bytes

RATE = 16000
FRAMES_PER_SECOND = 100  # PocketSphinx's frame rate
FILLERS = {"<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]", "[LAUGH]", "[UH]", "[UM]"}


def samples_16k(content: bytes) -> np.ndarray | None:
    """The clip as 16 kHz mono 16-bit samples; None when it cannot be decoded."""
    try:
        data, rate = soundfile.read(io.BytesIO(content), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        return None
    mono = data.mean(axis=1)
    if rate != RATE and len(mono):
        times = np.arange(round(len(mono) * RATE / rate)) / RATE
        mono = np.interp(times, np.arange(len(mono)) / rate, mono)
    return (np.clip(mono, -1.0, 1.0) * 32767).astype("<i2")


class Speech:
    version = "pocketsphinx-en-us"

    def __init__(self) -> None:
        self.decoder = Decoder(samprate=RATE, loglevel="FATAL")

    def transcribe(self, samples: np.ndarray, *, segments: bool) -> tuple[dict, float]:
        decoder = self.decoder
        decoder.start_utt()
        decoder.process_raw(samples.tobytes(), full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        text = " ".join(hypothesis.hypstr.split()) if hypothesis else ""
        result: dict = {"text": text}
        if segments and text:
            words = [
                {
                    "start": round(seg.start_frame / FRAMES_PER_SECOND, 2),
                    "end": round((seg.end_frame + 1) / FRAMES_PER_SECOND, 2),
                    "text": seg.word.split("(")[0],
                }
                for seg in decoder.seg()
                if seg.word not in FILLERS
            ]
            result["segments"] = [w for w in words if w["start"] < w["end"]]
        score = min(max(float(hypothesis.prob), 0.0), 1.0) if hypothesis else 0.0
        return result, round(score, 6)

    def predict(self, kind: str, schema: dict, tasks: list[dict]) -> list[dict]:
        if kind != "transcription" or schema.get("media", "audio") != "audio":
            raise Refused("This backend answers transcription tasks of audio.")
        answers = []
        for task in tasks:
            content = media_bytes(task)
            samples = samples_16k(content) if content else None
            if samples is None:  # no uploaded audio, or not one soundfile can read
                continue
            result, score = self.transcribe(samples, segments=bool(schema.get("segments")))
            answers.append({"task": task["id"], "result": result, "score": score})
        return answers


if __name__ == "__main__":
    main(Speech, description="LabelHub backend: speech (PocketSphinx)", default_port=9003)
