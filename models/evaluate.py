"""Measure an artifact: a fixed test split per source, unseen sources, identity-term false positives,
leave-one-source-out retraining, and alt-profanity-check on the same rows."""

from __future__ import annotations

import csv
import json
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from models import data
from models.card import GAP, LATER_SWITCHES, PEER, SELECTED_FOLDS, serving_settings, write_card
from models.lexical import recorded_digits
from models.metrics import auc_difference, pr_auc, roc_auc
from models.scorer import load
from models.train import TRAINED_LABELS, TrainConfig, build, measure, sampled_templates, served_probabilities

EVALUATION_FILE = "evaluation.json"
IDENTITY_PATTERN = data.IDENTITY_PATTERN


def peer_scores(texts: list[str]) -> np.ndarray | None:
    """alt-profanity-check's probabilities, or None when the package is not installed."""
    try:
        from profanity_check import predict_prob
    except ImportError:
        return None
    return np.asarray(predict_prob(texts), dtype=np.float64)


def peer_table(
    rows: list[data.Row], peer: np.ndarray | None, ours: np.ndarray, label: str = "toxicity"
) -> dict[str, dict]:
    """The peer's ROC-AUC and PR-AUC per source on exactly the rows our model is measured on, and our gap to it."""
    if peer is None:
        return {}
    table: dict[str, dict] = {}
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        if row.label(label) is not None:
            groups.setdefault("all", []).append(i)
            groups.setdefault(row.source, []).append(i)
    for name, idx in groups.items():
        y = np.array([rows[i].label(label) for i in idx])
        table[name] = {
            "roc_auc": _r(roc_auc(y, peer[idx])),
            "pr_auc": _r(pr_auc(y, peer[idx])),
            GAP: auc_difference(y, ours[idx], peer[idx]),
        }
    return table


def clean_real_rows(rows: list[data.Row]) -> list[int]:
    """Indices of the non-toxic rows from real sources (hand-written rows are never measured)."""
    return [i for i, r in enumerate(rows) if r.label("toxicity") == 0 and not r.source.endswith("_templates")]


def identity_probe(rows: list[data.Row], probs: np.ndarray, threshold: float) -> dict[str, Any]:
    """False-positive rate on non-toxic comments that name an identity, next to all non-toxic ones."""
    j = TRAINED_LABELS.index("toxicity")
    clean = clean_real_rows(rows)
    naming = [i for i in clean if IDENTITY_PATTERN.search(rows[i].text)]
    # The identity subset against itself: the overall rate mixes sources with different base rates (Civil
    # Comments' borderline posts, which most of its raters called toxic, count as non-toxic there).
    subset = [i for i in clean if rows[i].source == "wikipedia_toxicity_identity_testsubset.csv"]
    probe = [i for i in naming if rows[i].source == "wikipedia_toxicity_identity_testsubset.csv"]
    named = set(naming)
    unnamed = [i for i in subset if i not in named]

    def fpr(idx: list[int]) -> float | None:
        return round(float((probs[idx, j] >= threshold).mean()), 4) if idx else None

    return {
        "threshold": threshold,
        "bias_aucs": bias_aucs(rows, probs[:, j]),
        "non_toxic": {"n": len(clean), "false_positive_rate": fpr(clean)},
        "non_toxic_naming_identity": {"n": len(naming), "false_positive_rate": fpr(naming)},
        "wikipedia_identity_subset_non_toxic_naming_identity": {"n": len(probe), "false_positive_rate": fpr(probe)},
        "wikipedia_identity_subset_non_toxic_naming_no_listed_term": {
            "n": len(unnamed),
            "false_positive_rate": fpr(unnamed),
        },
        # Within each source, since the overall rates compare different mixes of sources: 9 of the 14 false
        # positives naming an identity in v14's test split were Civil Comments' borderline posts.
        "by_source": {
            source: {
                "naming_identity": {"n": len(yes), "false_positive_rate": fpr(yes)},
                "naming_none": {"n": len(no), "false_positive_rate": fpr(no)},
            }
            for source in sorted({rows[i].source for i in clean})
            for yes in [[i for i in naming if rows[i].source == source]]
            for no in [[i for i in clean if rows[i].source == source and i not in named]]
        },
    }


def counterfactual_probe(scorer: Any, rows: list[data.Row], threshold: float) -> dict[str, Any]:
    """Clean comments that name an identity, scored again with each identity replaced by a neutral word
    (data.without_identity): what naming the identity itself adds to `toxicity`.

    The false-positive rates above compare different comments, which may differ in topic as well as in the
    names; here each comment is compared with itself, so the difference is the names' alone."""
    naming = [i for i in clean_real_rows(rows) if IDENTITY_PATTERN.search(rows[i].text)]  # identity_probe's rows
    if not naming:
        return {"n": 0}
    rng = random.Random("counterfactual_probe")
    texts = [rows[i].text for i in naming] + [data.without_identity(rows[i].text, rng) for i in naming]
    # Both sides in one call, so the comparison holds whatever the runtime does with the rest of a batch.
    both = np.array([s["toxicity"] for s in scorer.score(texts)])
    named, twins = both[: len(naming)], both[len(naming) :]

    def log_odds(p: np.ndarray) -> np.ndarray:
        clipped = np.clip(p, 1e-6, 1 - 1e-6)
        return np.log(clipped / (1 - clipped))  # type: ignore[no-any-return]

    raise_ = log_odds(named) - log_odds(twins)
    return {
        "threshold": threshold,
        "n": len(naming),
        "false_positive_rate_named": _r(float((named >= threshold).mean())),
        "false_positive_rate_neutral": _r(float((twins >= threshold).mean())),
        "mean_log_odds_raise": _r(float(raise_.mean())),
        "share_raised": _r(float((raise_ > 0).mean())),
    }


def bias_aucs(rows: list[data.Row], toxicity: np.ndarray) -> dict[str, float | None]:
    """Borkan et al. 2019's threshold-free bias measures, with "names any listed identity" as the subgroup.

    The false-positive rate above counts a few dozen rows at one threshold, so one comment moves it by a
    point; these use every labelled test row. BPSN (background positive, subgroup negative) ranks the
    non-toxic comments that name an identity against the toxic ones that do not: it falls when naming an
    identity alone raises the score. BNSP is the reverse (toxic comments naming one scored too low)."""
    real = [i for i, r in enumerate(rows) if r.label("toxicity") is not None and not r.source.endswith("_templates")]
    named = {i for i in real if IDENTITY_PATTERN.search(rows[i].text)}

    def auc(idx: list[int]) -> float | None:
        y = np.array([rows[i].label("toxicity") for i in idx])
        return _r(roc_auc(y, toxicity[idx])) if len(set(y.tolist())) == 2 else None

    def pick(naming: bool, toxic: int) -> list[int]:
        return [i for i in real if (i in named) == naming and rows[i].label("toxicity") == toxic]

    return {
        "subgroup_auc": auc(sorted(named)),
        "bpsn_auc": auc(pick(False, 1) + pick(True, 0)),
        "bnsp_auc": auc(pick(True, 1) + pick(False, 0)),
        "background_auc": auc([i for i in real if i not in named]),
    }


def artifact_sample(training: dict[str, Any]) -> dict[str, Any]:
    """`data.load_rows`' settings that draw the rows an artifact's recipe drew (its config's `training`).

    `--balance-identity` and `--balance-hate-word` add rows and so reshuffle the split, and an artifact must never
    be measured on rows that were in its training split."""
    return {
        "cap_scale": training["cap_scale"],
        "seed": training["seed"],
        "balance_identity": training.get("balance_identity", False),
        "balance_hate_word": training.get("balance_hate_word", False),
        "tweet_spam_targets": training.get("tweet_spam_targets", True),
        "linkless_tweets_as_ham": training.get("linkless_tweets_as_ham", False),
    }


def fixed_split_rows(artifact_dir: Path, data_dir: Path) -> tuple[list[data.Row], list[data.Row]]:
    """The artifact's own test split (same seed and caps as training) and the rows of sources it never saw."""
    training = json.loads((artifact_dir / "config.json").read_text())["training"]
    sample = artifact_sample(training)
    rows = data.load_rows(data_dir, shipped_only=True, **sample)
    _, _, test = data.split(rows, (0.1, 0.15), seed=training["seed"])
    # The unseen sources are never trained on, so nothing is given back to them: every artifact is measured on the
    # same unseen rows (given back, 50 clean OLID tweets saying "hate" joined them and moved the figures compared).
    unseen_sample = sample | {"balance_identity": False, "balance_hate_word": False}
    everything = data.load_rows(data_dir, shipped_only=False, **unseen_sample)
    return test, [r for r in everything if not _shipped(r.source)]


def fixed_split(artifact_dir: Path, data_dir: Path) -> dict[str, Any]:
    """The artifact's own test split (same seed and caps as training), plus sources it never saw."""
    scorer = load(artifact_dir)
    test, unseen = fixed_split_rows(artifact_dir, data_dir)
    thresholds = {label: scorer.thresholds.get(label, 0.5) for label in TRAINED_LABELS}
    # auto picks bf16, int8 or fp32 by CPU; thresholds are fitted in fp32, and the card says which format measured.
    report: dict[str, Any] = {"precision": scorer.precision}
    toxicity = TRAINED_LABELS.index("toxicity")
    for name, subset in (("test_split", test), ("unseen_sources", unseen)):
        probs = served_probabilities(scorer, subset)
        peer = peer_scores([r.text for r in subset])
        report[name] = {"model": measure(subset, probs, thresholds), PEER: peer_table(subset, peer, probs[:, toxicity])}
        if name == "test_split":
            report["identity"] = identity_probe(subset, probs, thresholds["toxicity"])
        elif hate_word := hate_word_probe(scorer, data_dir, subset, probs):
            report["hate_word"] = hate_word
        report.setdefault("identity_counterfactual", {})[name] = counterfactual_probe(
            scorer, subset, thresholds["toxicity"]
        )
    if by_target := identity_attack_by_target(scorer, data_dir):
        report["identity_attack_by_target"] = by_target
    return report


OLID_FILE = "olid_offenseval2019_tweets.csv"


def identity_attack_by_target(scorer: Any, data_dir: Path) -> dict[str, Any] | None:
    """identity_attack on OLID's targeted insults (never trained on), by OLID's target: one person (IND), a group
    (GRP: ethnicity, gender, religion, but also a party) or other (OTH). An insult aimed at one person is rarely
    an identity attack, so the share of IND flagged is a false-positive rate; GRP against IND is a weaker check,
    since OLID's groups include political ones that are no identity here."""
    path = data_dir / OLID_FILE
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as handle:
        targeted = [r for r in csv.DictReader(handle) if r.get("subtask_b") == "TIN"]
    if not targeted:
        return None
    scores = np.array([s["identity_attack"] for s in scorer.score([data.normalize(r["text"]) for r in targeted])])
    kinds = np.array([r["subtask_c"] for r in targeted])
    threshold = scorer.thresholds.get("identity_attack", 0.5)
    report: dict[str, Any] = {"threshold": threshold}
    for kind in ("IND", "GRP", "OTH"):
        chosen = kinds == kind
        if chosen.any():
            flagged = float((scores[chosen] >= threshold).mean())
            report[kind] = {"n": int(chosen.sum()), "flagged": round(flagged, 4)}
    person_or_group = kinds != "OTH"
    report["grp_vs_ind_roc_auc"] = _r(roc_auc(kinds[person_or_group] == "GRP", scores[person_or_group]))
    return report


def hate_word_probe(
    scorer: Any, data_dir: Path, unseen: list[data.Row], unseen_probs: np.ndarray
) -> dict[str, Any] | None:
    """How often OLID's tweets (never trained on) are flagged for `toxicity` and `identity_attack`, clean and
    offensive apart, by whether they say "hate": the word that names the label should not decide it. v19 held
    clean tweets saying it four times as often as other clean tweets (data.HATED_THINGS).

    The tweets saying it are all of OLID's, scored here; those not saying it are the OLID rows of the unseen-source
    sample (`unseen`, already scored as `unseen_probs`), so the probe costs a few hundred comments, not thousands."""
    path = data_dir / OLID_FILE
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as handle:
        saying = [
            r
            for r in csv.DictReader(handle)
            if r.get("subtask_a") in ("NOT", "OFF") and data.HATE_WORD.search(r["text"])
        ]
    thresholds = {label: scorer.thresholds.get(label, 0.5) for label in ("toxicity", "identity_attack")}
    report: dict[str, Any] = {"thresholds": thresholds}

    def count(name: str, probs: np.ndarray) -> None:
        if len(probs):
            report[name] = {"n": len(probs)}
            for label, threshold in thresholds.items():
                report[name][label] = int((probs[:, TRAINED_LABELS.index(label)] >= threshold).sum())

    if saying:
        probs = served_probabilities(scorer, [data.Row(data.normalize(r["text"]), OLID_FILE, {}) for r in saying])
        offensive = np.array([r["subtask_a"] == "OFF" for r in saying])
        count("clean_hate", probs[~offensive])
        count("offensive_hate", probs[offensive])
    others = [i for i, r in enumerate(unseen) if r.source == OLID_FILE and not data.HATE_WORD.search(r.text)]
    offensive = np.array([unseen[i].label("toxicity") == 1 for i in others], dtype=bool)
    count("clean_no_hate", unseen_probs[others][~offensive])
    count("offensive_no_hate", unseen_probs[others][offensive])
    return report


def _shipped(source: str) -> bool:
    return any(s.file == source and s.shipped for s in data.SOURCES)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def folds(rows: list[data.Row]) -> list[tuple[str, str, list[data.Row], list[data.Row]]]:
    """(name, label, training rows, held-out rows): each English source, and each YouTube video.

    A source the artifact may not ship (OLID: no licence) is never trained on, so its fold trains on every
    shipped source, as the shipped model does; it is still one of the English sources with both classes.
    """
    shipped = [r for r in rows if _shipped(r.source)]
    out = []
    for source in data.SOURCES:
        held = [r for r in rows if r.source == source.file]
        rest = [r for r in shipped if r.source != source.file]
        if source.kind == "toxicity":
            out.append((source.file, "toxicity", rest, held))
        if source.kind == "spam":
            out.append((source.file + " (message style)", "spam", rest, held))
    for video in sorted({r.group for r in shipped if r.group}):
        held = [r for r in shipped if r.group == video]
        out.append((f"youtube video {video}", "spam", [r for r in shipped if r.group != video], held))
    return out


class UnknownFold(ValueError):
    """A fold asked for by name that the data has no fold for."""


def leave_one_source_out(
    data_dir: Path, config: TrainConfig, log: bool, only: set[str] | None = None
) -> list[dict[str, Any]]:
    """Retrain without each source in turn and measure on it: how the model does on a site it never saw."""
    rows = data.load_rows(
        data_dir,
        shipped_only=False,
        cap_scale=config.cap_scale,
        seed=config.seed,
        balance_identity=config.balance_identity,
        balance_hate_word=config.balance_hate_word,
        tweet_spam_targets=config.tweet_spam_targets,
        linkless_tweets_as_ham=config.linkless_tweets_as_ham,
    )
    every_fold = folds(rows)
    if unknown := sorted((only or set()) - {name for name, *_ in every_fold}):
        known = ", ".join(repr(name) for name, *_ in every_fold)
        raise UnknownFold(f"no fold named {', '.join(map(repr, unknown))}; the folds are {known}")
    results = []
    for name, label, rest, held in every_fold:
        if only is not None and name not in only:
            continue
        started = time.monotonic()
        train_rows, valid_rows, _ = data.split(rest, (0.1, 0.0), seed=config.seed)
        trained = build(config, train_rows + sampled_templates(config), valid_rows, log=False)
        calibration = trained.calibration
        probs = trained.probabilities([r.text for r in held], config.max_length)
        j = TRAINED_LABELS.index(label)
        idx = [i for i, r in enumerate(held) if r.label(label) is not None]
        y = np.array([held[i].label(label) for i in idx])
        p = probs[idx, j]
        threshold = calibration[label]["threshold"]
        predicted = p >= threshold
        peer = peer_scores([held[i].text for i in idx]) if label == "toxicity" else None
        result = {
            "held_out": name,
            "label": label,
            "n": len(idx),
            "positives": int(y.sum()),
            "roc_auc": _r(roc_auc(y, p)),
            "pr_auc": _r(pr_auc(y, p)),
            "threshold": threshold,
            "precision": round(float(y[predicted].mean()), 4) if predicted.any() else None,
            "recall": round(float(predicted[y == 1].mean()), 4) if (y == 1).any() else None,
            PEER + "_roc_auc": _r(roc_auc(y, peer)) if peer is not None else None,
            GAP: auc_difference(y, p, peer) if peer is not None else None,
            "seconds": round(time.monotonic() - started),
        }
        # Davidson is the only labelled source of identity_attack: left out, that head learned from the
        # hand-written attacks (with and without slurs) alone, and this says how far they carry to real hate.
        other = [i for i, r in enumerate(held) if label != "identity_attack" and r.label("identity_attack") is not None]
        attack_y = np.array([held[i].label("identity_attack") for i in other])
        if len(set(attack_y.tolist())) == 2:
            attack_p = probs[other, TRAINED_LABELS.index("identity_attack")]
            result["identity_attack_roc_auc"] = _r(roc_auc(attack_y, attack_p))
        if label == "toxicity":
            result["identity"] = held_out_identity_fpr(held, probs[:, j], threshold)
        if log:
            print(json.dumps(result), flush=True)
        results.append(result)
    return results


def held_out_identity_fpr(held: list[data.Row], toxicity: np.ndarray, threshold: float) -> dict[str, Any]:
    """False-positive rate at the fold's threshold on a left-out source's clean comments, naming an identity or
    not: the same question as the fixed split's identity probe, asked of comments no fold model trained on and,
    for the identity subset, of all its 1,244 clean comments rather than the test split's 186."""
    clean = clean_real_rows(held)
    naming = [i for i in clean if IDENTITY_PATTERN.search(held[i].text)]
    named = set(naming)
    none = [i for i in clean if i not in named]

    def rate(idx: list[int]) -> dict[str, Any]:
        flagged = int((toxicity[idx] >= threshold).sum())
        return {"n": len(idx), "flagged": flagged, "false_positive_rate": round(flagged / len(idx), 4) if idx else None}

    return {"naming_identity": rate(naming), "naming_none": rate(none)}


def loso_config_for(artifact_dir: Path, epochs: int, cap_scale: float) -> TrainConfig:
    """The artifact's own training recipe with fewer epochs and smaller caps, so the folds measure that recipe.

    Moderators' labels (`extra_labels`) are dropped: they are no source with a fold of its own."""
    training = json.loads((artifact_dir / "config.json").read_text()).get("training")
    if training is None:
        raise ValueError(f"{artifact_dir} records no training recipe to retrain the folds with")
    known = {k: v for k, v in training.items() if k in TrainConfig.__dataclass_fields__ and k != "extra_labels"}
    # An artifact from before the lexical model has no such key: its recipe had none.
    known["lexical_labels"] = tuple(training.get("lexical_labels", ()))
    known["lexical_digits"] = recorded_digits(training, "lexical_digits", "lexical_digit_shapes")
    known = LATER_SWITCHES | known
    known["sentence_labels"] = tuple(known["sentence_labels"])
    known["row_weights"] = dict(known["row_weights"])  # LATER_SWITCHES' own dict is shared by every replay
    return replace(TrainConfig(version="loso", **known), epochs=epochs, cap_scale=cap_scale)


def evaluate(
    artifact_dir: Path,
    data_dir: Path,
    loso: bool,
    loso_config: TrainConfig | None = None,
    log: bool = True,
    loso_only: set[str] | None = None,
) -> dict:
    """Run the evaluation, store it beside the artifact, and rewrite the model card.

    With `loso_only`, only the named folds are retrained, and their results are kept apart from the full
    leave-one-source-out table, one entry per recipe: that is how a fold is measured at the artifact's full
    recipe (which for every fold would take hours) without mixing recipes in one table."""

    evaluation_path = artifact_dir / EVALUATION_FILE
    previous = json.loads(evaluation_path.read_text()) if evaluation_path.is_file() else {}
    config = loso_config or loso_config_for(artifact_dir, epochs=1, cap_scale=0.3)
    selected = previous.get(SELECTED_FOLDS, [])
    if loso_only:  # before the fixed split, so a misspelt fold name fails at once
        selected = merged_runs(selected, config, leave_one_source_out(data_dir, config, log, only=loso_only))
    report: dict[str, Any] = {"artifact": str(artifact_dir.name), "fixed": fixed_split(artifact_dir, data_dir)}
    if loso and not loso_only:
        report["leave_one_source_out"] = {
            "training": config.__dict__,
            "folds": leave_one_source_out(data_dir, config, log),
        }
    elif kept := previous.get("leave_one_source_out"):
        # A quick re-run keeps the last leave-one-source-out results rather than dropping them.
        report["leave_one_source_out"] = kept
    if selected:
        report[SELECTED_FOLDS] = selected
    evaluation_path.write_text(json.dumps(report, indent=2) + "\n")
    write_card(artifact_dir)
    return report


def without_serving(training: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in training.items() if k not in serving_settings(training)}


def merged_runs(runs: list[dict[str, Any]], config: TrainConfig, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Folds measured with one recipe join that recipe's earlier entry, replacing the same folds' old results."""
    training = json.loads(json.dumps(config.__dict__))  # as stored: tuples become lists
    fresh = {r["held_out"] for r in results}
    for run in runs:
        # An entry stored before a switch existed ran with it off: the same recipe as a run that has it off.
        # Settings of the service's scoring alone (the passage size, unless the recipe trains on passages) are no
        # part of what a fold measured.
        if without_serving(LATER_SWITCHES | run["training"]) == without_serving(training):
            kept = [f for f in run["folds"] if f["held_out"] not in fresh]
            return [r if r is not run else {"training": training, "folds": kept + results} for r in runs]
    return [*runs, {"training": training, "folds": results}]
