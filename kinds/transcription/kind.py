"""Transcription of audio or of an image of text.

``data = {"audio": URL} | {"image": URL}`` with an optional machine ``draft``;
``result = {"text": "…", "segments": [{"start", "end", "text"}]}`` (segments optional).
"""

from kinds import (
    BuilderForm,
    Consensus,
    EditorSpec,
    ModelFigure,
    ReviewViews,
    SchemaBuilder,
    TaskKind,
    is_number,
    object_errors,
    one_line,
)
from kinds.diffs import word_diff
from kinds.formats import ZIP, ExportFormat
from kinds.transcription import formats as transcripts
from kinds.transcription import metrics as text_metrics

NORMALISATION_RULES = ("lowercase", "strip_punctuation", "collapse_whitespace")


class TranscriptionKind(TaskKind):
    name = "transcription"
    label = "Transcription"
    description = "Write down what is said in audio clips or written in images."
    editor = EditorSpec(template="transcription/editor.html", module="transcription/editor.js")
    media_fields = {"audio": "audio", "image": "image"}
    schema_builder = SchemaBuilder(
        template="transcription/builder.html",
        heading="Transcription rules",
        save_label="Save rules",
    )
    review_template = "transcription/review.html"
    context_template = "transcription/context.html"
    model_figures = (
        ModelFigure("wer", "WER", testid="wer", on_gold=True),
        ModelFigure("cer", "CER"),
    )
    thumbnail_field = "image"

    def summary(self, data: dict) -> str:
        """The clip's or image's file name, and the start of the machine draft."""
        data = data or {}
        media = str(data.get("audio") or data.get("image") or "")
        name = media.rstrip("/").rsplit("/", 1)[-1] or "no media"
        draft = data.get("draft")
        return one_line(f"{name} · draft: {draft}" if draft else name)

    def default_schema(self) -> dict:
        return {
            "media": "audio",
            "normalisation": list(NORMALISATION_RULES),
            "segments": False,
        }

    def clean_schema(self, schema: dict) -> dict:
        errors = object_errors(schema, path="", message="The schema must be a JSON object.")
        media = schema.get("media", "audio")
        if media not in ("audio", "image"):
            errors.add("media", "The media is 'audio' or 'image'.")
        rules = schema.get("normalisation", list(NORMALISATION_RULES))
        if not isinstance(rules, list) or any(rule not in NORMALISATION_RULES for rule in rules):
            errors.add("normalisation", f"Rules are chosen from {', '.join(NORMALISATION_RULES)}.")
            rules = []
        segments = schema.get("segments", False)
        if not isinstance(segments, bool):
            errors.add("segments", "Say true or false.")
        if segments and media == "image":
            errors.add("segments", "Time segments only make sense for audio.")
        for key in sorted(set(schema) - {"media", "normalisation", "segments"}):
            errors.add(key, "Unknown setting for a transcription project.")
        errors.raise_if_any()
        return {"media": media, "normalisation": sorted(set(rules)), "segments": segments}

    def clean_data(self, data: dict, *, schema: dict) -> dict:
        errors = object_errors(data, path="data", message="A task's data must be a JSON object.")
        media = schema.get("media", "audio")
        source = data.get(media)
        if not isinstance(source, str) or not source.strip():
            errors.add(f"data.{media}", f"A transcription task of this project needs an {media}.")
        elif not source.startswith(("http://", "https://", "/")):
            errors.add(f"data.{media}", f"The {media} must be an http(s) URL or an uploaded file.")
        draft = data.get("draft")
        if draft is not None and not isinstance(draft, str):
            errors.add("data.draft", "A machine draft is text.")
        errors.raise_if_any()
        return data

    def clean_result(self, result: dict, *, schema: dict, data: dict) -> dict:
        errors = object_errors(result, path="result", message="A result must be a JSON object.")
        text = result.get("text")
        if not isinstance(text, str):
            errors.add("result.text", "The transcript is text.")
        elif len(text) > 100_000:
            errors.add("result.text", "A transcript has at most 100000 characters.")
        segments = result.get("segments", [])
        if segments and not schema.get("segments"):
            errors.add("result.segments", "This project does not take time segments.")
        if not isinstance(segments, list):
            errors.add("result.segments", "Segments are a list of {start, end, text}.")
            segments = []
        previous_end = 0.0
        for i, segment in enumerate(segments):
            path = f"result.segments.{i}"
            if not isinstance(segment, dict):
                errors.add(path, "A segment is an object {start, end, text}.")
                continue
            start, end = segment.get("start"), segment.get("end")
            if not is_number(start) or not is_number(end) or not 0 <= start < end:
                errors.add(path, "A segment has 0 ≤ start < end, in seconds.")
                continue
            if start < previous_end - 1e-6:
                errors.add(path, "Segments are in order and do not overlap.")
            previous_end = end
            if not isinstance(segment.get("text"), str):
                errors.add(f"{path}.text", "A segment's text is text.")
        errors.raise_if_any()
        cleaned = {"text": text}
        if segments:
            cleaned["segments"] = segments
        return cleaned

    # Quality math: kinds/transcription/metrics.py explains the choices.

    def compare(
        self, result: dict, gold: dict, *, schema: dict, quality: dict
    ) -> text_metrics.TranscriptComparison:
        """WER, CER and MER (with S/D/I/H counts) after the schema's normalisation rules."""
        rules = schema.get("normalisation", NORMALISATION_RULES)
        return text_metrics.compare(result.get("text", ""), gold.get("text", ""), rules=rules)

    def measure_prediction(
        self, result: dict, reference: dict, *, schema: dict, quality: dict
    ) -> dict[str, float | None]:
        comparison = self.compare(result, reference, schema=schema, quality=quality)
        return {"wer": round(comparison.wer, 4), "cer": round(comparison.cer, 4)}

    def score(self, result: dict, gold: dict, *, schema: dict, quality: dict) -> float:
        """``max(0, 1 − WER)`` after the schema's normalisation rules."""
        rules = schema.get("normalisation", NORMALISATION_RULES)
        return text_metrics.word_accuracy(result.get("text", ""), gold.get("text", ""), rules=rules)

    def agreement(self, results: list[dict], *, schema: dict, quality: dict) -> float:
        rules = schema.get("normalisation", NORMALISATION_RULES)
        return text_metrics.agreement([r.get("text", "") for r in results], rules=rules)

    def consolidate(
        self,
        results: list[dict],
        *,
        schema: dict,
        quality: dict,
        weights: list[float] | None = None,
        data: dict | None = None,
    ) -> Consensus:
        """The medoid answer (a real transcript, segments and all); confidence: mean similarity."""
        rules = schema.get("normalisation", NORMALISATION_RULES)
        chosen = text_metrics.medoid(
            [r.get("text", "") for r in results], rules=rules, weights=weights
        )
        return Consensus(result=dict(results[chosen.index]), confidence=chosen.confidence)

    # The screens around the kind: settings builder, export formats, review.

    def schema_from_form(self, post) -> dict:
        return {
            "media": post.get("media", ""),
            "normalisation": post.getlist("normalisation"),
            "segments": post.get("segments") == "on",
        }

    def schema_form(self, *, schema: dict, errors: dict[str, list[str]]) -> BuilderForm:
        rules = [
            (rule, rule.replace("_", " ").capitalize(), rule in schema.get("normalisation", []))
            for rule in NORMALISATION_RULES
        ]
        return BuilderForm(context={"rules": rules})

    def export_formats(self) -> tuple[ExportFormat, ...]:
        return (
            ExportFormat(
                "jsonl",
                "JSON lines",
                "application/x-ndjson",
                "jsonl",
                write=lambda items, context: transcripts.jsonl(items),
                answers=True,
            ),
            ExportFormat(
                "csv",
                "CSV",
                "text/csv; charset=utf-8",
                "csv",
                write=lambda items, context: transcripts.csv(items),
                answers=True,
            ),
            ExportFormat(
                "vtt",
                "WebVTT subtitles (zip)",
                ZIP,
                "zip",
                write=lambda items, context: transcripts.vtt(items),
                check=transcripts.subtitles_check,
            ),
            ExportFormat(
                "srt",
                "SRT subtitles (zip)",
                ZIP,
                "zip",
                write=lambda items, context: transcripts.srt(items),
                check=transcripts.subtitles_check,
            ),
        )

    def review_views(
        self,
        *,
        results: list[dict],
        proposal: dict | None,
        data: dict,
        media_meta: dict,
        schema: dict,
    ) -> ReviewViews:
        """Each transcript as a word diff against the proposal."""
        base = (proposal or {}).get("text")
        answers = [
            {"diff": word_diff(base, result["text"])}
            if isinstance(base, str) and isinstance(result.get("text"), str)
            else {}
            for result in results
        ]
        return ReviewViews(shared={}, answers=answers)
