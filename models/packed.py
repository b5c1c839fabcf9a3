"""Inference for BERT-family encoders on packed (unpadded) tokens.

A batch of comments of mixed length padded to its longest spends most of its matrix products on
padding; bucketing by length fixes that only by shrinking the matrices, which a 384-wide model runs
far below the CPU's peak. Here every dense layer runs once over all real tokens of the batch (one
large matrix), and only attention, the one step that mixes tokens, runs per sequence. Measured with
bench/scoring.py's corpus at batch 32, bf16: padded 172/s, length buckets 199/s, packed ~250/s.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

# Packed rows are padded up to a multiple of a few rows below LARGE_ROWS_MULTIPLE rows, and of LARGE_ROWS_MULTIPLE
# above: oneDNN, which runs the bf16 and int8 products, builds and caches a kernel per matrix shape, and one shape per
# exact token count grew a worker past 1.4 GB in 4,000 comments (in bf16, auto's choice on that machine). Below 256,
# powers of two were tried first; they padded a typical single comment (~85 rows with its sentence) to 128. Scoring
# 3,000 comments one at a time, multiples of 16 against powers of two: fp32 60.9/s against 53.4/s, int8 83.8 against
# 73.9, bf16 102.6 against 97.4, with resident memory after 3,000 comments 520 against 533 MB, 557 against 523 and 576
# against 557: 11 shapes more (16 in all below 256), and flat after the first 1,000 comments.
# fp32 runs on MKL's sgemm, which caches no kernel per shape, so it pads only to a multiple of 4 (odd row counts ran
# slower): one comment at a time on an AVX2-only CPU (emulated, bench/first_version.py --isa avx2), 16 rows of filler
# are 10% of a typical comment's rows. Over 6,000 comments scored one at a time its resident memory stayed flat at 533
# MB natively (525 at 16) and 529 emulating AVX2; in one process, alternating, AVX2 fp32 scored 59.9/s padded to 4
# against 57.1/s padded to 16 (medians of 6 rounds).
SMALL_ROWS_MULTIPLE = 16
FP32_ROWS_MULTIPLE = 4
LARGE_ROWS_MULTIPLE = 256


def rounded_rows(rows: int, small_multiple: int = SMALL_ROWS_MULTIPLE) -> int:
    multiple = LARGE_ROWS_MULTIPLE if rows >= LARGE_ROWS_MULTIPLE else small_multiple
    return max(small_multiple, -(-rows // multiple) * multiple)


class Dense:
    """A dense layer as the packed encoder runs it: y = x W^T + b in the weights' own dtype."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor):
        self.weight, self.bias = weight, bias

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


class Int8Dense(Dense):
    """A dense layer in int8: weights scaled per output channel, activations per token (row).

    Per token, not per call: torch's dynamic quantization takes one activation scale over every row of a
    call, so a comment's score depended on the comments batched beside it. Here each row is quantized on its
    own and the int8 product accumulates exactly in int32, so a comment scores the same alone or in any batch (to
    within 1e-5: float steps outside the products, such as GELU, may round differently by the rows in a call).
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor):
        weight = weight.float()
        self.scale = weight.abs().amax(dim=1).clamp(min=1e-12) / 127
        quantized = torch.round(weight / self.scale[:, None]).to(torch.int8)
        super().__init__(quantized.t().contiguous(), bias.float())

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        step = x.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127
        rows = torch.round(x / step).to(torch.int8)
        return torch._int_mm(rows, self.weight) * (step * self.scale) + self.bias


class PackedBert:
    """Mean-pooled embeddings from a Hugging Face `BertModel`'s weights, computed on packed tokens."""

    def __init__(self, model: Any, int8: bool = False):
        self.model = model
        self.heads = int(model.config.num_attention_heads)
        self.layers = list(model.encoder.layer)
        fp32 = not int8 and model.dtype == torch.float32
        self.small_multiple = FP32_ROWS_MULTIPLE if fp32 else SMALL_ROWS_MULTIPLE
        self.dense: list[dict[str, Dense]] = []
        for layer in self.layers:
            attention = layer.attention.self
            parts = (attention.query, attention.key, attention.value)
            weights = {
                # One fused query/key/value product per layer instead of three.
                "qkv": (torch.cat([p.weight for p in parts]), torch.cat([p.bias for p in parts])),
                "attention_output": (layer.attention.output.dense.weight, layer.attention.output.dense.bias),
                "intermediate": (layer.intermediate.dense.weight, layer.intermediate.dense.bias),
                "output": (layer.output.dense.weight, layer.output.dense.bias),
            }
            self.dense.append(
                {
                    name: (Int8Dense if int8 else Dense)(weight.detach(), bias.detach())
                    for name, (weight, bias) in weights.items()
                }
            )

    @staticmethod
    def supports(model: Any) -> bool:
        config = model.config
        return (
            config.model_type == "bert"
            and getattr(config, "position_embedding_type", "absolute") == "absolute"
            and not config.is_decoder
        )

    @torch.inference_mode()
    def embed(self, windows: list[list[int]]) -> torch.Tensor:
        """L2-normalised mean-pooled embeddings of token-id windows (any lengths, any order)."""
        if not windows:
            return torch.empty(0, int(self.model.config.hidden_size))
        lengths = [len(w) for w in windows]
        real = sum(lengths)
        filler = rounded_rows(real, self.small_multiple) - real
        ids = torch.tensor([token for window in windows for token in window] + [0] * filler)
        positions = torch.cat([torch.arange(n) for n in lengths] + [torch.zeros(filler, dtype=torch.long)])
        emb = self.model.embeddings
        x = emb.word_embeddings(ids) + emb.position_embeddings(positions) + emb.token_type_embeddings.weight[0]
        x = emb.LayerNorm(x)
        width = x.shape[-1]
        for layer, dense in zip(self.layers, self.dense, strict=True):
            qkv = dense["qkv"](x).split(lengths + [filler])
            context = torch.cat([self._attend(sequence, width) for sequence in qkv[:-1]] + [x[real:]])
            x = layer.attention.output.LayerNorm(dense["attention_output"](context) + x)
            hidden = layer.intermediate.intermediate_act_fn(dense["intermediate"](x))
            x = layer.output.LayerNorm(dense["output"](hidden) + x)
        segment = torch.repeat_interleave(torch.arange(len(windows)), torch.tensor(lengths))
        summed = torch.zeros(len(windows), width).index_add_(0, segment, x[:real].float())
        pooled = summed / torch.tensor(lengths, dtype=torch.float32)[:, None]
        return F.normalize(pooled, p=2, dim=1)

    def _attend(self, qkv: torch.Tensor, width: int) -> torch.Tensor:
        """Self-attention of one sequence. Per sequence, not per padded bucket: with no padding there
        is no mask, and unmasked attention takes the fused kernel (masked buckets were 30% slower)."""
        length = qkv.shape[0]
        q, k, v = qkv.view(1, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        return F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(length, width)
