"""DPO exports read back with Hugging Face ``datasets``, as customers' TRL training code reads them.

``datasets`` types each column once for the whole file: a column that is text in some rows and a
list of messages in others comes back as mixed JSON, which ``DPOTrainer`` cannot use. Comparing
``ds.features`` with one of the two preference formats checks every column's type.
"""

from pathlib import Path

import datasets
from datasets import Features, Value

datasets.disable_progress_bars()

MESSAGES = [{"role": Value("string"), "content": Value("string")}]
DPO_IDS = {
    "confidence": Value("float64"),
    "task_id": Value("int64"),
    "external_id": Value("string"),
    "chosen_id": Value("string"),
    "rejected_id": Value("string"),
}
CONVERSATIONAL = Features({"prompt": MESSAGES, "chosen": MESSAGES, "rejected": MESSAGES, **DPO_IDS})
STANDARD = Features(
    {"prompt": Value("string"), "chosen": Value("string"), "rejected": Value("string"), **DPO_IDS}
)


def load_jsonl(directory: Path, content: bytes) -> datasets.Dataset:
    """The file as ``datasets.load_dataset("json", …)`` reads it (cache kept in ``directory``)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "export.jsonl"
    path.write_bytes(content)
    return datasets.load_dataset(
        "json", data_files=str(path), split="train", cache_dir=str(directory / "hf-cache")
    )
