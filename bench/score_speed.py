"""Print the scorer's throughput on this machine for single comments and batches."""

from __future__ import annotations

import argparse
import time

import models

SAMPLE = (
    "I have read this newspaper for twenty years and this is the first time I feel the need to comment. "
    "The council's decision on the park was rushed, and the article explains clearly why residents are upset."
)


def rate(scorer: models.Scorer, batch: int, total: int) -> float:
    texts = [SAMPLE] * batch
    scorer.score(texts)  # warm-up
    started = time.perf_counter()
    for _ in range(total // batch):
        scorer.score(texts)
    return (total // batch) * batch / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--total", type=int, default=256)
    args = parser.parse_args()
    scorer = models.load()
    tokens = len(scorer.encoder.tokenizer(SAMPLE)["input_ids"])
    print(f"model {scorer.version}, {tokens}-token comment")
    for batch in (1, 8, 32):
        print(f"batch {batch:>2}: {rate(scorer, batch, args.total):7.1f} comments/s")


if __name__ == "__main__":
    main()
