"""The scorer: encoder plus per-label heads, loaded once from an artifact directory."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from models.encoder import Encoder

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
DEFAULT_VERSION = "v1"
HEADS_FILE = "heads.safetensors"
CONFIG_FILE = "config.json"


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
            max_length=int(raw.get("max_length", 256)),
            raw=raw,
        )


class Scorer:
    """Scores texts for every label of its artifact; load once, call `score` many times."""

    def __init__(self, encoder: Encoder, weight: torch.Tensor, bias: torch.Tensor, config: ArtifactConfig):
        if weight.shape != (len(config.labels), encoder.dim):
            raise ValueError(f"heads have shape {tuple(weight.shape)}, expected ({len(config.labels)}, {encoder.dim})")
        self.encoder = encoder
        self.weight = weight
        self.bias = bias
        self.config = config

    @property
    def version(self) -> str:
        return self.config.version

    @property
    def labels(self) -> tuple[str, ...]:
        return self.config.labels

    def probabilities(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Per-label probabilities for a matrix of embeddings."""
        return torch.sigmoid(embeddings @ self.weight.T + self.bias)

    @torch.inference_mode()
    def score(self, texts: list[str], batch_size: int = 32) -> list[dict[str, float]]:
        """Label -> probability for each text; a long text scores as its worst window."""
        embeddings, text_of_window = self.encoder.embed(texts, batch_size=batch_size)
        window_probs = self.probabilities(embeddings)
        worst = torch.zeros(len(texts), len(self.labels))
        for window, text_index in enumerate(text_of_window):
            worst[text_index] = torch.maximum(worst[text_index], window_probs[window])
        return [{label: round(float(p), 6) for label, p in zip(self.labels, row, strict=True)} for row in worst]


def load(path: str | Path | None = None) -> Scorer:
    """Load the scorer from an artifact directory (default: the shipped one)."""
    directory = Path(path) if path else ARTIFACTS_DIR / DEFAULT_VERSION
    if not (directory / CONFIG_FILE).is_file():
        raise FileNotFoundError(f"no model artifact at {directory} (missing {CONFIG_FILE})")
    config = ArtifactConfig.read(directory)
    tensors = load_file(str(directory / HEADS_FILE))
    encoder = Encoder(max_length=config.max_length)
    return Scorer(encoder, tensors["weight"].float(), tensors["bias"].float(), config)
