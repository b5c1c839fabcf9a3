"""Bring-your-own model: any Hugging Face sequence-classification directory, its labels mapped onto ours."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: E402

from models.encoder import Encoder  # noqa: F401  (sets the offline environment before transformers loads)

# Names used by Jigsaw-style models (Detoxify, unitary/toxic-bert, ...) and Perspective, lower-cased.
LABEL_ALIASES = {
    "toxic": "toxicity",
    "toxicity": "toxicity",
    "severe_toxic": "severe_toxicity",
    "severe_toxicity": "severe_toxicity",
    "obscene": "profanity",
    "profanity": "profanity",
    "insult": "insult",
    "threat": "threat",
    "identity_hate": "identity_attack",
    "identity_attack": "identity_attack",
    "spam": "spam",
}


def is_hf_classifier(directory: Path) -> bool:
    config = directory / "config.json"
    return config.is_file() and "id2label" in json.loads(config.read_text())


PRECISION_OF_DTYPE = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}


class HuggingFaceScorer:
    """Scores with a site's own classifier; labels it has that we don't know are ignored."""

    def __init__(self, directory: Path, max_length: int = 256):
        self.tokenizer: Any = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
        self.model: Any = AutoModelForSequenceClassification.from_pretrained(str(directory), local_files_only=True)
        self.model.eval()
        self.max_length = max_length
        id2label = {int(k): str(v) for k, v in self.model.config.id2label.items()}
        self.columns = {i: LABEL_ALIASES[name.lower()] for i, name in id2label.items() if name.lower() in LABEL_ALIASES}
        if not self.columns:
            raise ValueError(f"none of the model's labels {sorted(id2label.values())} map onto ours")
        # Multi-label models score each label independently; single-label ones share a softmax.
        self.multi_label = self.model.config.problem_type != "single_label_classification"
        self.version = f"hf:{directory.name}"
        # A site's own model runs in the format its checkpoint was saved in (Hugging Face loads dtype "auto");
        # CIVILITY_MODEL_PRECISION does not apply to it.
        self.precision = PRECISION_OF_DTYPE.get(self.model.dtype, str(self.model.dtype).removeprefix("torch."))
        self.thresholds: dict[str, float] = {}

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.columns.values())

    @torch.inference_mode()
    def score(self, texts: list[str], batch_size: int = 32) -> list[dict[str, float]]:
        results: list[dict[str, float]] = []
        for start in range(0, len(texts), batch_size):
            enc = self.tokenizer(
                texts[start : start + batch_size],
                max_length=self.max_length,
                truncation=True,
                padding=True,
                return_tensors="pt",
            )
            logits = self.model(**enc).logits
            probs = torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)
            for row in probs:
                results.append({label: round(float(row[i]), 6) for i, label in self.columns.items()})
        return results
