import numpy as np

from models.card import GAP, LOSO_HEADER, loso_rows, loso_summary
from models.metrics import auc_difference, roc_auc


def _delong_by_pairs(labels, ours, theirs):
    """DeLong's estimate written out over every (positive, negative) pair, as the 1988 paper states it."""
    pos, neg = labels == 1, labels == 0
    components = []
    for scores in (ours, theirs):
        x, y = scores[pos][:, None], scores[neg][None, :]
        psi = (x > y) + 0.5 * (x == y)
        components.append((psi.mean(axis=1), psi.mean(axis=0), psi.mean()))
    v10 = np.array([c[0] for c in components])
    v01 = np.array([c[1] for c in components])
    s = np.cov(v10) / pos.sum() + np.cov(v01) / neg.sum()
    return components[0][2] - components[1][2], s[0, 0] + s[1, 1] - 2 * s[0, 1]


def test_the_auc_gap_and_its_interval_match_delongs_pairwise_definition_with_ties():
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, 300)
    # Rounded to a few levels so that many scores tie, within and across classes.
    ours = np.round(labels * 0.8 + rng.normal(0, 1, 300), 1)
    theirs = np.round(0.5 * ours + labels * 0.2 + rng.normal(0, 1, 300), 1)
    gap = auc_difference(labels, ours, theirs)
    expected_difference, expected_variance = _delong_by_pairs(labels, ours, theirs)
    assert gap["difference"] == round(expected_difference, 4)
    assert gap["difference"] == round(roc_auc(labels, ours) - roc_auc(labels, theirs), 4)
    half_width = 1.959964 * expected_variance**0.5
    assert gap["ci95"] == [round(expected_difference - half_width, 4), round(expected_difference + half_width, 4)]


def test_a_model_is_no_better_than_itself_and_a_clearly_better_one_is_above_zero():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 2000)
    good = labels + rng.normal(0, 0.7, 2000)
    weak = labels + rng.normal(0, 2.0, 2000)
    assert auc_difference(labels, good, good) == {"difference": 0.0, "ci95": [0.0, 0.0]}
    better = auc_difference(labels, good, weak)
    assert 0 < better["ci95"][0] < better["difference"] < better["ci95"][1]
    worse = auc_difference(labels, weak, good)
    assert worse["ci95"] == [-better["ci95"][1], -better["ci95"][0]]


def test_no_gap_is_claimed_without_two_rows_of_each_class_or_with_a_missing_score():
    assert auc_difference(np.array([1, 0, 0]), np.array([0.9, 0.1, 0.2]), np.array([0.5, 0.5, 0.1])) is None
    labels, scores = np.array([1, 1, 0, 0]), np.array([0.9, 0.8, 0.1, 0.2])
    assert auc_difference(labels, scores, np.array([0.9, np.nan, 0.1, 0.2])) is None
    assert roc_auc(labels, np.array([0.9, np.nan, 0.1, 0.2])) is None


def test_the_interval_stays_within_the_range_a_difference_of_two_aucs_can_take():
    labels = np.array([1, 1, 0, 0, 0])
    gap = auc_difference(labels, np.array([0.9, 0.2, 0.1, 0.3, 0.4]), np.array([0.1, 0.2, 0.9, 0.8, 0.3]))
    assert -1.0 <= gap["ci95"][0] <= gap["difference"] <= gap["ci95"][1] <= 1.0


def test_a_folds_row_in_the_card_gives_the_gap_to_the_peer_with_its_interval_or_says_there_is_none():
    fold = {"held_out": "civil.csv", "label": "toxicity", "n": 3000, "positives": 2075, "roc_auc": 0.6115}
    fold |= {"pr_auc": 0.75, "threshold": 0.5, "precision": 0.74, "recall": 0.7, "alt-profanity-check_roc_auc": 0.6222}
    with_gap = fold | {GAP: {"difference": -0.0107, "ci95": [-0.0312, 0.0098]}}
    spam = fold | {"label": "spam", "alt-profanity-check_roc_auc": None, GAP: None}
    rows = loso_rows([with_gap, spam, fold])  # `fold`: written before the gap was measured
    assert rows[0].endswith("| 0.622 | -0.011 (-0.031 to +0.010) |")
    assert rows[1].endswith("| n/a | n/a |") and rows[2].endswith("| 0.622 | n/a |")
    assert all(row.count("|") == LOSO_HEADER[0].count("|") for row in rows)


def test_the_mean_over_left_out_sources_counts_only_the_folds_run_and_names_olid_only_when_it_is_one():
    def fold(name, auc):
        return {"held_out": name, "label": "toxicity", "roc_auc": auc}

    civil = fold("civil_comments_toxic_posts_toxicspans.csv", 0.6)
    cat, olid = fold("wikipedia_talk_toxicity_cat.csv", 0.85), fold("olid_offenseval2019_tweets.csv", 0.81)
    partial = loso_summary([civil, cat])
    assert partial[0] == "Mean toxicity ROC-AUC over the held-out English sources with both classes (1): 0.850."
    assert partial[1] == "With Civil Comments (positives only; borderline posts as negatives): 0.725."
    whole = loso_summary([civil, cat, olid])
    assert whole[0].startswith("Mean toxicity ROC-AUC over the held-out English sources with both classes (2): 0.830.")
    assert "OLID is among them" in whole[0]
    assert loso_summary([{"held_out": "sms", "label": "spam", "roc_auc": 0.96}]) == []
