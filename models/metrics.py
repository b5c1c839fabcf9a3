"""Ranking and threshold metrics computed with numpy alone."""

from __future__ import annotations

from typing import Any

import numpy as np


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with tied ranks); None without both classes or with a NaN score."""
    positives = labels == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    # A NaN has no place in a ranking; sorting would put it last and count it as the lowest score.
    if n_pos == 0 or n_neg == 0 or not np.isfinite(scores).all():
        return None
    ranks = _midranks(scores)
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def precision_recall(labels: np.ndarray, scores: np.ndarray, threshold: float) -> tuple[float, float]:
    """Precision and recall of `score >= threshold`."""
    predicted = scores >= threshold
    true_pos = int((predicted & (labels == 1)).sum())
    precision = true_pos / max(int(predicted.sum()), 1)
    recall = true_pos / max(int((labels == 1).sum()), 1)
    return precision, recall


def pr_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Average precision: the area under the precision-recall curve, step-wise."""
    n_pos = int((labels == 1).sum())
    if n_pos == 0 or n_pos == len(labels):
        return None
    order = np.argsort(-scores, kind="mergesort")
    hits = (labels[order] == 1).astype(np.float64)
    precision_at_k = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision_at_k * hits).sum() / n_pos)


def calibration_error(labels: np.ndarray, probs: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the mean |predicted - observed| over equal-width bins, weighted by size."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(probs, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            total += members.sum() * abs(float(probs[members].mean()) - float(labels[members].mean()))
    return total / max(len(labels), 1)


def threshold_for_precision(labels: np.ndarray, probs: np.ndarray, target: float, floor: float = 0.5) -> float:
    """The lowest threshold from `floor` up whose precision reaches `target`, else `floor`.

    The floor keeps "more likely than not": validation sets are far richer in positives than a news
    site's comment stream, so precision there alone would justify thresholds that are too low.
    """
    for threshold in np.round(np.arange(floor, 0.96, 0.01), 2):
        predicted = probs >= threshold
        if predicted.sum() >= 5 and labels[predicted].mean() >= target:
            return float(threshold)
    return floor


def _midranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their mean rank."""
    order = np.argsort(x, kind="mergesort")
    _, first, counts = np.unique(x[order], return_index=True, return_counts=True)
    ranks = np.empty(len(x))
    ranks[order] = np.repeat(first + (counts + 1) / 2, counts)
    return ranks


def auc_difference(labels: np.ndarray, ours: np.ndarray, theirs: np.ndarray) -> dict[str, Any] | None:
    """ROC-AUC of `ours` minus that of `theirs` on the same rows, with DeLong's 95% interval.

    Both models score the same comments, so their errors are correlated: two separate intervals would
    overstate the uncertainty of the gap. DeLong, DeLong and Clarke-Pearson (1988) give the covariance of
    the two AUCs from each comment's share of them; this is Sun and Xu's (2014) rank form of it.
    """
    positives = labels == 1
    m, n = int(positives.sum()), int((~positives).sum())
    # As in roc_auc, a NaN has no rank.
    if m < 2 or n < 2 or not (np.isfinite(ours).all() and np.isfinite(theirs).all()):
        return None
    per_positive, per_negative, aucs = [], [], []
    for scores in (ours, theirs):
        pos, neg = scores[positives], scores[~positives]
        overall = _midranks(np.concatenate([pos, neg]))
        # The share of negatives each positive outranks, and of positives each negative is outranked by.
        per_positive.append((overall[:m] - _midranks(pos)) / n)
        per_negative.append(1.0 - (overall[m:] - _midranks(neg)) / m)
        aucs.append(float(per_positive[-1].mean()))
    covariance = np.cov(np.array(per_positive)) / m + np.cov(np.array(per_negative)) / n
    variance = float(covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1])
    difference = aucs[0] - aucs[1]
    half_width = 1.959964 * max(variance, 0.0) ** 0.5
    return {
        "difference": round(difference, 4),
        # Clipped: with few rows the normal approximation can reach past the possible range of a difference.
        "ci95": [round(max(difference - half_width, -1.0), 4), round(min(difference + half_width, 1.0), 4)],
    }
