"""Comments/s of the shipped scorer against a bert-base classifier (Detoxify `original`'s shape), same run.

The corpus is generated deterministically: comment lengths follow a log-normal with a median near 60
tokens and a tail to 512, built from news-comment vocabulary. The bert-base classifier has random
weights (`BertConfig()`): its speed depends only on its shape. It is run as Detoxify runs it (fp32,
padded batches) and, for fairness, also in our precision with our length bucketing.
Last line: key=value pairs.
"""

from __future__ import annotations

import argparse
import warnings

import torch
from workload import corpus, rate  # bench/ is the script's directory, so its sibling imports as a module

import models
from models.encoder import length_buckets


class BertBase:
    """A bert-base-uncased-shaped sequence classifier with random weights, fed by the same tokenizer."""

    def __init__(self, tokenizer: object, precision: str):
        from transformers import BertConfig, BertForSequenceClassification

        torch.manual_seed(0)
        self.model = BertForSequenceClassification(BertConfig(num_labels=6)).eval()
        self.model.to(torch.bfloat16 if precision == "bf16" else torch.float32)
        self.tokenizer = tokenizer
        self.params = sum(p.numel() for p in self.model.parameters() if p.dim() > 1) - 30522 * 768 - 512 * 768

    @torch.inference_mode()
    def padded(self, texts: list[str]) -> None:
        """As Detoxify scores: one padded batch per call."""
        enc = self.tokenizer(texts, max_length=512, truncation=True, padding=True, return_tensors="pt")  # type: ignore[operator]
        self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])

    @torch.inference_mode()
    def bucketed(self, texts: list[str]) -> None:
        """With our length bucketing, so the ratio is not just padding."""
        ids = self.tokenizer(texts, max_length=512, truncation=True)["input_ids"]  # type: ignore[operator]
        ids.sort(key=len)
        for chunk in length_buckets([len(w) for w in ids], 32):
            longest = max(len(ids[i]) for i in chunk)
            batch = torch.zeros((len(chunk), longest), dtype=torch.long)
            mask = torch.zeros((len(chunk), longest), dtype=torch.long)
            for row, i in enumerate(chunk):
                batch[row, : len(ids[i])] = torch.tensor(ids[i])
                mask[row, : len(ids[i])] = 1
            self.model(input_ids=batch, attention_mask=mask)


def gflop_per_comment(params: int, layers: int, hidden: int, tokens: float) -> float:
    """Forward FLOPs of a transformer encoder: 2 per weight per token plus attention's 4*L*n^2*d."""
    return (2 * params * tokens + 4 * layers * tokens * tokens * hidden) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=1024)
    parser.add_argument("--seconds", type=float, default=12.0, help="time per measurement")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--precision", default="auto", help="auto, fp32, bf16 or int8 for our scorer")
    parser.add_argument("--artifact", help="an artifact directory to measure instead of the shipped one")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(args.threads)

    texts = corpus(args.comments)
    scorer = models.load(args.artifact, precision=args.precision)
    tokenizer = scorer.encoder.tokenizer
    lengths = sorted(len(ids) for ids in tokenizer(texts, truncation=False)["input_ids"])
    median, mean = lengths[len(lengths) // 2], sum(min(n, 512) for n in lengths) / len(lengths)
    print(
        f"corpus: {len(texts)} comments, tokens median {median}, p90 {lengths[int(len(lengths) * 0.9)]}, "
        f"max {lengths[-1]}, mean {mean:.0f}; torch {torch.__version__}, {args.threads} threads"
    )
    config = scorer.encoder.model.config
    ours_params = sum(p.numel() for p in scorer.encoder.model.encoder.parameters() if p.dim() > 1)
    ours_gflop = gflop_per_comment(ours_params, config.num_hidden_layers, config.hidden_size, mean)
    print(f"ours: {scorer.version}, MiniLM-L6 encoder, precision {scorer.encoder.precision}")
    ours = {}
    for batch in (1, 32):
        ours[batch] = rate(scorer.score, texts, batch, args.seconds)
        print(
            f"  batch {batch:>2}: {ours[batch]:7.1f} comments/s  {ours[batch] * mean:8.0f} tokens/s  "
            f"{ours[batch] * ours_gflop:6.1f} GFLOP/s"
        )

    bert = BertBase(tokenizer, "fp32")
    bert_gflop = gflop_per_comment(bert.params, 12, 768, mean)
    bert_rate = rate(bert.padded, texts, 32, args.seconds)
    print(
        f"bert-base classifier, fp32, padded batch 32 (as Detoxify runs): {bert_rate:6.1f} comments/s  "
        f"{bert_rate * mean:7.0f} tokens/s  {bert_rate * bert_gflop:6.1f} GFLOP/s"
    )
    # bert-base here is Hugging Face's own module, which has no int8 path: it runs fp32 beside our int8.
    bert_precision = "bf16" if scorer.encoder.precision == "bf16" else "fp32"
    bert_same = BertBase(tokenizer, bert_precision)
    bert_same_rate = rate(bert_same.bucketed, texts, 32, args.seconds)
    print(
        f"bert-base classifier, {bert_precision}, length-bucketed batch 32 (our runtime): "
        f"{bert_same_rate:6.1f} comments/s  {bert_same_rate * bert_gflop:6.1f} GFLOP/s"
    )
    ratio = ours[32] / bert_rate
    same = ours[32] / bert_same_rate
    print(f"ours batch 32 / bert-base as deployed: {ratio:.1f}x; / bert-base on our runtime: {same:.1f}x")
    print(
        f"comments_per_s={ours[32]:.1f} comments_per_s_batch1={ours[1]:.1f} bert_comments_per_s={bert_rate:.1f} "
        f"bert_same_runtime_comments_per_s={bert_same_rate:.1f} ratio={ratio:.1f} median_tokens={median} "
        f"precision={scorer.encoder.precision}"
    )


if __name__ == "__main__":
    main()
