"""The scorer: encoder plus per-label heads, loaded once from an artifact directory."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file

from models.encoder import Encoder
from models.lexical import LEXICAL_FILE, LexicalModel, blend, recorded_digits
from models.paths import ARTIFACTS_DIR, DEFAULT_VERSION
from models.sentences import (
    LONG_TEXT_CHARS,
    PASSAGE_WORDS_BEFORE_V21,
    highest_of_each,
    passage_sentences,
    sentence_counts,
    sentences,
)

HEADS_FILE = "heads.safetensors"
LAYERS_FILE = "encoder_top_layers.safetensors"
CONFIG_FILE = "config.json"
# Tokens the scorer reads of a comment or passage (artifacts record it as `max_length`); training reads no more,
# since what it learnt past this would never be scored.
SCORED_TOKENS = 256


@dataclass(frozen=True)
class ArtifactConfig:
    """What travels with the weights: version, labels, thresholds and encoder settings."""

    version: str
    labels: tuple[str, ...]
    thresholds: dict[str, float]
    max_length: int
    raw: dict[str, Any]

    @classmethod
    def read(cls, directory: Path) -> ArtifactConfig:
        raw = json.loads((directory / CONFIG_FILE).read_text())
        return cls(
            version=str(raw["version"]),
            labels=tuple(raw["labels"]),
            thresholds={k: float(v) for k, v in raw.get("thresholds", {}).items()},
            max_length=int(raw.get("max_length", SCORED_TOKENS)),
            raw=raw,
        )


class Scorer:
    """Scores texts for every label of its artifact; load once, call `score` many times."""

    def __init__(
        self,
        encoder: Encoder,
        weight: torch.Tensor,
        bias: torch.Tensor,
        config: ArtifactConfig,
        lexical: LexicalModel | None = None,
    ):
        if weight.shape != (len(config.labels), encoder.dim):
            raise ValueError(f"heads have shape {tuple(weight.shape)}, expected ({len(config.labels)}, {encoder.dim})")
        self.encoder = encoder
        self.weight = weight
        self.bias = bias
        self.config = config
        self.lexical = lexical
        self.blend_parts = (config.raw.get("lexical") or {}).get("blend", {})
        # Artifacts before v18 have none: their calibration was fitted to whole comments only.
        self.sentence_labels = tuple(config.raw.get("sentence_labels") or ())
        # Artifacts before v20 have none: every picked sentence was encoded when their calibration was fitted.
        self.sentence_gate = config.raw.get("sentence_gate")
        # A long comment's passage size: its thresholds were fitted to scores taken in passages this long.
        recorded = config.raw.get("passage_words")
        self.passage_words = PASSAGE_WORDS_BEFORE_V21 if recorded is None else int(recorded)
        if self.passage_words < 1:
            raise ValueError(f"passage_words {recorded!r}: a passage needs at least one word")
        if self.sentence_labels and (lexical is None or not set(self.sentence_labels) <= set(lexical.labels)):
            raise ValueError(f"sentence labels {self.sentence_labels} need the lexical model to pick their sentence")
        calibration = config.raw.get("calibration", {})
        self.scale = torch.tensor([calibration.get(label, {}).get("a", 1.0) for label in config.labels])
        self.shift = torch.tensor([calibration.get(label, {}).get("b", 0.0) for label in config.labels])

    @property
    def version(self) -> str:
        return self.config.version

    @property
    def labels(self) -> tuple[str, ...]:
        return self.config.labels

    @property
    def precision(self) -> str:
        """The encoder's number format (fp32, bf16 or int8): scores differ slightly between them."""
        return str(self.encoder.precision)

    @property
    def thresholds(self) -> dict[str, float]:
        """The artifact's recommended threshold per label (chosen for a stated precision)."""
        return self.config.thresholds

    def probabilities(self, embeddings: torch.Tensor, lexical_logits: np.ndarray | None = None) -> torch.Tensor:
        """Per-label calibrated probabilities for a matrix of embeddings (and the same texts' lexical log-odds)."""
        logits = embeddings @ self.weight.T + self.bias
        if self.lexical is not None:
            if lexical_logits is None:
                # the blended labels' calibration was fitted to the blend: the encoder alone would be miscalibrated
                raise ValueError("this artifact blends a lexical model: pass the same texts' lexical logits")
            mixed = blend(logits.float().numpy(), self.labels, lexical_logits, self.lexical.labels, self.blend_parts)
            logits = torch.from_numpy(mixed).float()
        return torch.sigmoid(self.scale * logits + self.shift)

    @torch.inference_mode()
    def score(self, texts: list[str], batch_size: int = 32) -> list[dict[str, float]]:
        """Label -> probability for each text; a long text scores as its worst passage, and a sentence label
        as the higher of the comment (or passage) and its most suspicious sentence (models/sentences.py)."""
        pieces: list[str] = []
        text_of_piece: list[int] = []
        label_of_piece: list[int | None] = []  # None: the piece counts for every label
        for index, text in enumerate(texts):
            for piece in passages(text, self.passage_words):
                pieces.append(piece)
                text_of_piece.append(index)
                label_of_piece.append(None)
        # Each passage of a long text gets its own sentence, so a passage scores here as it would alone.
        passages_only = list(pieces)
        split = [sentences(piece) for piece in passages_only] if self.sentence_labels else []
        flat = [sentence for parts in split for sentence in parts]
        # One n-gram pass over the passages and all their sentences: it picks each label's sentence and scores
        # the picked ones too (at batch 1, two passes cost more in per-call overhead than in n-grams).
        lexical_all = self.lexical.logits(passages_only + flat) if self.lexical is not None else None
        lexical_row = list(range(len(passages_only)))  # row of lexical_all for each piece
        for label in self.sentence_labels:
            assert self.lexical is not None and lexical_all is not None  # checked in __init__
            column = lexical_all[len(passages_only) :, self.lexical.labels.index(label)]
            for best, passage in highest_of_each(split, column):
                if not sentence_counts(column[best], self.blend_parts[label], self.sentence_gate):
                    continue
                pieces.append(flat[best])
                text_of_piece.append(text_of_piece[passage])
                label_of_piece.append(self.labels.index(label))
                lexical_row.append(len(passages_only) + best)
        embeddings, piece_of_window = self.encoder.embed(pieces, batch_size=batch_size)
        # A window of a long passage gets its passage's lexical log-odds: n-grams need no window.
        lexical = lexical_all[lexical_row][piece_of_window] if lexical_all is not None else None
        window_probs = self.probabilities(embeddings, lexical)
        worst = torch.zeros(len(texts), len(self.labels))
        for window, piece_index in enumerate(piece_of_window):
            text_index, only = text_of_piece[piece_index], label_of_piece[piece_index]
            if only is None:
                worst[text_index] = torch.maximum(worst[text_index], window_probs[window])
            else:
                worst[text_index, only] = torch.maximum(worst[text_index, only], window_probs[window, only])
        return [{label: round(float(p), 6) for label, p in zip(self.labels, row, strict=True)} for row in worst]


def passages(text: str, words_per_passage: int) -> list[str]:
    """A comment as the passages it is scored by: whole if short, else runs of sentences.

    The heads were trained on whole comments of up to ~1,000 characters. A longer comment's
    mean-pooled embedding dilutes one abusive sentence among many calm ones (an insult at the end
    of 2,500 characters scored 0.25 against 0.93 alone), so it is scored passage by passage and
    judged by its worst passage, the way a moderator reads it. Passages of `words_per_passage` words
    (models/sentences.PASSAGE_WORDS says why 80), their sentences joined by one space.
    """
    if len(text) <= LONG_TEXT_CHARS:
        return [text]
    return [" ".join(text[b:e] for b, e in group) for group in passage_sentences(text, words_per_passage)]


def load(path: str | Path | None = None, precision: str | None = None) -> Any:
    """Load a scorer: our artifact directory (default: the shipped one) or a Hugging Face classifier's.

    `precision` is auto (bf16 where the CPU has it natively, else int8 with AVX512-VNNI, else fp32), fp32, bf16
    or int8; unset, CIVILITY_MODEL_PRECISION decides, else auto. A Hugging Face model runs as it was saved.
    """
    directory = Path(path) if path else ARTIFACTS_DIR / DEFAULT_VERSION
    if not (directory / CONFIG_FILE).is_file():
        raise FileNotFoundError(f"no model artifact at {directory} (missing {CONFIG_FILE})")
    from models.hf import HuggingFaceScorer, is_hf_classifier

    if is_hf_classifier(directory):
        return HuggingFaceScorer(directory)
    config = ArtifactConfig.read(directory)
    tensors = load_file(str(directory / HEADS_FILE))
    encoder = Encoder(max_length=config.max_length)
    if (directory / LAYERS_FILE).is_file():
        # Fine-tuned top layers replace the packaged base model's; the rest stays as shipped.
        layers = {name: t.float() for name, t in load_file(str(directory / LAYERS_FILE)).items()}
        missing, unexpected = encoder.model.load_state_dict(layers, strict=False)
        if unexpected:
            raise ValueError(f"{LAYERS_FILE} has weights the base model lacks: {unexpected[:3]}")
    encoder.to_precision(precision or os.environ.get("CIVILITY_MODEL_PRECISION", "auto"))
    lexical = None
    if described := config.raw.get("lexical"):
        if not (directory / LEXICAL_FILE).is_file():
            raise FileNotFoundError(f"{directory} names a lexical model but has no {LEXICAL_FILE}")
        labels = tuple(described["labels"])
        if not set(labels) <= set(config.labels) or not set(labels) <= set(described.get("blend") or {}):
            raise ValueError(f"{directory}: lexical labels {labels} need a head and blend parameters each")
        lexical = LexicalModel.load(directory, labels, recorded_digits(described))
    return Scorer(encoder, tensors["weight"].float(), tensors["bias"].float(), config, lexical)
