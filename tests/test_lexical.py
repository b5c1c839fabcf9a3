"""The n-gram model beside the encoder: fitting, its file, the blend, and the shipped scorer's use of it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import models
from models.lexical import (
    CHARACTERS,
    DIGITS_EACH,
    DIGITS_RAW,
    DIGITS_ROUND,
    DIGITS_RUNS,
    LEXICAL_FILE,
    WORDS,
    LexicalModel,
    blend,
    character_counts,
    digit_runs,
    digit_runs_round,
    recorded_digits,
)
from models.scorer import Scorer, passages
from models.sentences import (
    LONG_TEXT_CHARS,
    PASSAGE_WORDS_BEFORE_V21,
    most_suspicious,
    sentence_counts,
    sentences,
)

SPAM = [
    "Check out my channel and subscribe!",
    "Subscribe to my channel for more videos",
    "Visit my site for cheap followers http://cheap.example",
    "check out my new video please subscribe",
]
HONEST = [
    "The council should publish the budget before the vote.",
    "I grew up near that library and it was always busy.",
    "Good reporting, the numbers in the second chart surprised me.",
    "My neighbour has worked at the plant for twenty years.",
]


DIGIT_READINGS_IN_ORDER = (DIGITS_EACH, DIGITS_RAW, DIGITS_RUNS)


def fitted() -> LexicalModel:
    texts = SPAM + HONEST
    return LexicalModel.fit(texts, {"spam": np.array([1.0] * len(SPAM) + [0.0] * len(HONEST))})


def test_learns_the_words_of_spam_and_scores_new_texts_by_them():
    model = fitted()
    plug, opinion = model.logits(["please subscribe to my channel", "the budget vote was close"])[:, 0]
    assert plug > 0 > opinion


def test_a_soft_target_counts_partly_and_a_label_needs_at_least_one_target():
    texts = SPAM + HONEST + ["subscribe subscribe subscribe"]

    def extra_row_as(target: float) -> float:
        model = LexicalModel.fit(texts, {"spam": np.array([1.0] * 4 + [0.0] * 4 + [target])})
        return float(model.logits(["subscribe subscribe subscribe"])[0, 0])

    assert extra_row_as(0.0) < extra_row_as(0.5) < extra_row_as(1.0)
    with pytest.raises(ValueError, match="no training row"):
        LexicalModel.fit(texts, {"spam": np.full(len(texts), np.nan)})


def test_a_light_row_teaches_the_ngram_model_less_and_weight_one_changes_nothing():
    texts = SPAM + HONEST + ["zorblax zorblax offer"]
    targets = {"spam": np.array([1.0] * 4 + [0.0] * 4 + [1.0])}

    def fitted_with(last_weight: float | None) -> LexicalModel:
        weights = None if last_weight is None else np.array([1.0] * 8 + [last_weight])
        return LexicalModel.fit(texts, targets, DIGITS_ROUND, weights)

    def learned(model: LexicalModel) -> float:
        return float(model.logits(["zorblax zorblax offer"])[0, 0])

    unweighted, full, light = fitted_with(None), fitted_with(1.0), fitted_with(0.000001)
    np.testing.assert_array_equal(full.weight, unweighted.weight)
    assert learned(light) < learned(full) - 0.5


def test_the_saved_model_scores_as_the_fitted_one(tmp_path):
    model = fitted()
    model.save(tmp_path)
    loaded = LexicalModel.load(tmp_path, ("spam",), DIGITS_RUNS)
    probe = ["Subscribe now!", "A calm comment about schools.", ""]
    assert np.array_equal(loaded.logits(probe), model.logits(probe))  # fitted as stored: rounded to fp16
    assert (tmp_path / LEXICAL_FILE).stat().st_size < 2 * 2**18 * 2 * 2 + 4096  # idf and one label's weights
    assert loaded.logits([]).shape == (0, 1)


def test_digits_are_read_by_their_shape_when_the_model_was_fitted_that_way():
    texts = ["Call 0800 555 0199 now to claim your prize", "Win cash, text 81303", "See you at 7 for dinner"] + HONEST
    targets = {"spam": np.array([1.0, 1.0] + [0.0] * (len(texts) - 2))}
    shaped, raw = LexicalModel.fit(texts, targets, DIGITS_EACH), LexicalModel.fit(texts, targets, DIGITS_RAW)
    assert shaped.digits == DIGITS_EACH and raw.digits == DIGITS_RAW
    unseen, seen = "Call 0161 496 0732 now", "Call 0800 555 0199 now"
    assert shaped.logits([unseen]).tolist() == shaped.logits([seen]).tolist()  # another number, the same shape
    assert raw.logits([unseen])[0, 0] < raw.logits([seen])[0, 0]  # read raw, only the training's own number counts


def test_read_by_runs_a_year_is_an_ordinary_number_and_a_long_one_is_a_phone_numbers_shape():
    read = digit_runs("Text 81303 or call 08452810075 by 2015, 7pm, £1,000")
    assert read == "Text 00000 or call 00000 by 0, 0pm, £0,0"
    texts = ["Text WIN to 81303 now", "Call 08452810075 to claim", "Back in 1998 the mill closed", "We lost 3 games"]
    targets = {"spam": np.array([1.0, 1.0, 0.0, 0.0])}
    each, runs = LexicalModel.fit(texts, targets, DIGITS_EACH), LexicalModel.fit(texts, targets, DIGITS_RUNS)
    year, code = "It happened in 2019", "It happened in 55123"
    # Read digit by digit, a year shares "0000" with the spam's numbers; read by runs it does not.
    assert each.logits([year])[0, 0] > runs.logits([year])[0, 0]
    assert runs.logits([code])[0, 0] > runs.logits([year])[0, 0]
    with pytest.raises(ValueError, match="unknown digit reading 'words'"):
        LexicalModel.fit(texts, targets, "words")


def test_read_round_a_round_number_is_a_count_and_a_phone_number_keeps_its_long_shape():
    read = digit_runs_round("Grew by 12000 to 1000000000 in 2015; call 08712404000 or text 81303 or 21870000")
    assert read == "Grew by 0 to 0 in 0; call 00000 or text 00000 or 00000"
    texts = ["Text WIN to 81303 now", "Call 08452810075 to claim", "Back in 1998 the mill closed", "We lost 3 games"]
    targets = {"spam": np.array([1.0, 1.0, 0.0, 0.0])}
    runs, rounded = LexicalModel.fit(texts, targets, DIGITS_RUNS), LexicalModel.fit(texts, targets, DIGITS_ROUND)
    count, code = "The town grew by 12000", "The town grew by 55123"
    assert rounded.logits([count])[0, 0] < runs.logits([count])[0, 0]
    assert rounded.logits([code])[0, 0] == runs.logits([code])[0, 0] > rounded.logits([count])[0, 0]


def test_an_artifact_reads_digits_as_its_config_says(tmp_path):
    fitted().save(tmp_path)
    probe = ["Text 81303 to win", "Text 55555 to win", "Text 5 to win"]
    each, raw, runs = (LexicalModel.load(tmp_path, ("spam",), d).logits(probe) for d in DIGIT_READINGS_IN_ORDER)
    assert each[0, 0] == each[1, 0] != each[2, 0] and raw[0, 0] != raw[1, 0] and runs[0, 0] == runs[1, 0] != runs[2, 0]
    # Configs before v15 recorded a flag: v14 read each digit as 0, v13 and older read them raw.
    assert recorded_digits({"digit_shapes": True}) == DIGITS_EACH and recorded_digits({}) == DIGITS_RAW
    assert recorded_digits({"digits": DIGITS_RUNS, "digit_shapes": True}) == DIGITS_RUNS


def test_blend_is_the_mean_of_both_calibrated_log_odds_and_leaves_other_labels_alone():
    encoder = np.array([[2.0, -1.0], [0.5, 3.0]])  # columns: toxicity, spam
    lexical = np.array([[4.0], [-2.0]])  # spam only
    parts = {"spam": {"encoder": {"a": 2.0, "b": 1.0}, "lexical": {"a": 0.5, "b": -1.0}}}
    mixed = blend(encoder, ("toxicity", "spam"), lexical, ("spam",), parts)
    assert mixed[:, 0].tolist() == [2.0, 0.5]
    assert mixed[:, 1].tolist() == [((2 * -1 + 1) + (0.5 * 4 - 1)) / 2, ((2 * 3 + 1) + (0.5 * -2 - 1)) / 2]


def test_the_hashing_is_the_one_the_shipped_weights_were_trained_with():
    # The artifact stores weights by bucket, not by n-gram: if scikit-learn ever hashed differently, every
    # weight would land on other n-grams and the score would be noise. pyproject bounds the version; this pins it.
    assert WORDS.transform(["subscribe"]).indices.tolist() == [225279]
    assert sorted(CHARACTERS.transform(["fr"]).indices.tolist()) == [114840, 176914, 203979, 233821, 238500, 246567]


def test_character_ngrams_counted_a_word_at_a_time_are_exactly_sklearns(monkeypatch):
    """The per-word cache must give the bits sklearn gives for the whole text, or the shipped weights would read
    other counts: repeated words, runs of whitespace, case that lowercases to more letters, final sigma, emoji."""
    from models import lexical

    texts = (
        [
            "Check out my channel!!  Check   out\tmy\nchannel, fr33 iPhone www.example.com/a?b=1",
            "ΟΔΟΣ Σίσυφος ΣΑΣ. İstanbul İİ, Straße STRASSE",
            "😀 emoji👍🏽 ok a I I I",
            "",
            "   ",
            "x" * 300,
        ]
        + SPAM
        + HONEST
    )

    def same(texts: list[str]) -> None:
        expected, got = CHARACTERS.transform(texts), character_counts(texts)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        assert np.array_equal(got.indptr, expected.indptr) and np.array_equal(got.indices, expected.indices)
        assert np.array_equal(got.data, expected.data)

    monkeypatch.setattr(lexical, "_word_ngrams", {})
    monkeypatch.setattr(lexical, "_cached_ngrams", 0)
    same(texts)  # every word new
    assert "channel," in lexical._word_ngrams and "x" * 300 not in lexical._word_ngrams  # too long to keep
    assert lexical._cached_ngrams == sum(len(indices) for indices, _ in lexical._word_ngrams.values())
    same(texts[::-1])  # every word cached, in another order
    same([""])
    same(["", " "])
    # A full cache is emptied and fills again with the words now in use; every call still counts the same.
    monkeypatch.setattr(lexical, "_word_ngrams", {})
    monkeypatch.setattr(lexical, "_cached_ngrams", 0)
    monkeypatch.setattr(lexical, "CACHED_NGRAMS", 60)
    same(texts)
    same(texts)
    assert 0 < lexical._cached_ngrams <= 60
    assert lexical._cached_ngrams == sum(len(indices) for indices, _ in lexical._word_ngrams.values())
    same(["subscribe subscribe"])
    assert "subscribe" in lexical._word_ngrams


def test_the_shipped_scorer_blends_its_spam_score_with_the_lexical_model(scorer):
    assert scorer.lexical is not None and scorer.lexical.labels == ("spam",)
    texts = ["The mayor's plan leaves the east side out again, and the council knows it.", "Check out my channel!"]
    embeddings, order = scorer.encoder.embed(texts)  # rows come back sorted by length: `order` says whose
    head = np.zeros((len(texts), len(scorer.labels)))
    head[order] = (embeddings @ scorer.weight.T + scorer.bias).float().numpy()
    lexical = scorer.lexical.logits(texts)
    j = scorer.labels.index("spam")
    part = scorer.blend_parts["spam"]
    encoder_side = part["encoder"]["a"] * head[:, j] + part["encoder"]["b"]
    mean = (encoder_side + part["lexical"]["a"] * lexical[:, 0] + part["lexical"]["b"]) / 2
    calibration = scorer.config.raw["calibration"]["spam"]
    expected = 1 / (1 + np.exp(-(calibration["a"] * mean + calibration["b"])))
    scored = scorer.score(texts)
    assert np.allclose([r["spam"] for r in scored], expected, atol=1e-4)
    assert scored[0]["spam"] < scorer.thresholds["spam"] <= scored[1]["spam"]
    t = scorer.labels.index("toxicity")  # toxicity is the encoder's alone
    toxicity = scorer.config.raw["calibration"]["toxicity"]
    alone = 1 / (1 + np.exp(-(toxicity["a"] * head[:, t] + toxicity["b"])))
    assert np.allclose([r["toxicity"] for r in scored], alone, atol=1e-4)
    with pytest.raises(ValueError, match="lexical logits"):
        scorer.probabilities(embeddings)  # the spam calibration belongs to the blend, never to the head alone


def test_a_long_comment_gets_each_passages_own_lexical_score_and_is_judged_by_the_worst(scorer):
    filler = "The council met on Tuesday to discuss the budget for the new library and the park. " * 20
    text = filler + "Check out my channel and subscribe for daily videos!! " + filler
    pieces = passages(text, scorer.passage_words)
    assert len(pieces) > 3
    whole = scorer.score([text])[0]["spam"]
    each = [r["spam"] for r in scorer.score(pieces)]
    assert whole == pytest.approx(max(each), abs=1e-5)
    assert sorted(each)[-2] < scorer.thresholds["spam"] <= whole  # one passage is spam, the rest are not


def test_a_long_comment_scores_as_its_worst_passage_of_the_size_its_artifact_records(scorer):
    calm = "The council met on Tuesday to discuss the budget for the new library. " * 30  # 13 words a sentence
    text = calm + "You are a pathetic fool and everyone here knows it. " + calm
    for size in (25, 80):  # whole sentences, as many as fit in the size
        assert all(len(p.split()) <= size and p.endswith(".") for p in passages(text, size))
    assert max(len(p.split()) for p in passages(text, 80)) == 78  # six 13-word sentences; a seventh would not fit
    assert len(passages(text, 25)) > 5 * len(passages(text, 80))
    one_sentence = "word " * 250 + "end."
    assert len(one_sentence) > LONG_TEXT_CHARS and passages(one_sentence, 80) == [one_sentence]  # never cut inside

    def sized(words: int | None) -> Scorer:
        raw = {k: v for k, v in scorer.config.raw.items() if k != "passage_words"}
        raw |= {"passage_words": words} if words is not None else {}
        return Scorer(scorer.encoder, scorer.weight, scorer.bias, replace(scorer.config, raw=raw), scorer.lexical)

    before_v21 = sized(None)
    assert before_v21.passage_words == PASSAGE_WORDS_BEFORE_V21 == 25  # its thresholds were fitted to those
    worst = {}
    for size_scorer in (before_v21, sized(80)):
        whole = size_scorer.score([text])[0]["toxicity"]
        each = [r["toxicity"] for r in size_scorer.score(passages(text, size_scorer.passage_words))]
        assert whole == pytest.approx(max(each), abs=1e-5)
        worst[size_scorer.passage_words] = whole
    assert worst[25] != pytest.approx(worst[80], abs=1e-4)  # the two sizes are told apart by the scores


def test_a_comment_splits_into_sentences_of_three_words_or_more_and_titles_do_not_end_one():
    pitch = "this song is so addicting. the hook is dope and catchy. I'm getting popular fast because i rap real.."
    assert sentences(pitch + "thumbs up if you like") == [
        "this song is so addicting.",
        "the hook is dope and catchy.",
        "I'm getting popular fast because i rap real..",
        "thumbs up if you like",
    ]
    assert sentences("Dr. Pielke said so on his blog. Mr. Smith read it, e.g. the second part.") == [
        "Dr. Pielke said so on his blog.",
        "Mr. Smith read it, e.g. the second part.",
    ]
    assert sentences("Great read! Thanks.\nVisit my page for more") == []  # one sentence of three words: the whole
    assert sentences("One long sentence about the council budget. " * 30) == []  # over LONG_TEXT_CHARS: passages do it
    assert len("One long sentence about the council budget. " * 30) > LONG_TEXT_CHARS


def test_the_most_suspicious_sentence_is_the_one_the_n_gram_model_scores_highest_per_comment():
    model = fitted()
    texts = [
        "Good reporting on the plant. The numbers surprised me. Check out my channel and subscribe!",
        "Check out my channel!",  # one sentence: nothing to pick
        "My neighbour worked there for years. Subscribe to my channel for more videos",
    ]
    picked, owners = most_suspicious(texts, model, "spam")
    assert picked == ["Check out my channel and subscribe!", "Subscribe to my channel for more videos"]
    assert owners == [0, 2]
    assert most_suspicious(["Check out my channel!"], model, "spam") == ([], [])


def test_a_sentence_gate_keeps_only_picked_sentences_the_n_gram_model_calibrates_at_or_above_it():
    model = fitted()
    texts = [
        "Good reporting on the plant. The numbers surprised me. Check out my channel and subscribe!",
        "My neighbour worked there for years. The council should publish the budget before the vote.",
    ]
    picked, _ = most_suspicious(texts, model, "spam")
    pitch, calm = model.logits(picked)[:, 0]
    assert pitch > 0 > calm
    # Calibrated as the blend calibrates the n-gram model: here a * logit + b with a = 2, b = -1, below the raw logit.
    parts = {"spam": {"lexical": {"a": 2.0, "b": -1.0}, "encoder": {"a": 1.0, "b": 0.0}}}
    at_calm = 2.0 * float(calm) - 1.0
    between = at_calm + 0.01  # just above the calm sentence's calibrated log-odds
    assert most_suspicious(texts, model, "spam", parts, between) == (picked[:1], [0])
    assert most_suspicious(texts, model, "spam", parts, at_calm) == (picked, [0, 1])  # at it: kept
    assert most_suspicious(texts, model, "spam", parts, float(calm)) == (picked[:1], [0])  # calibrated, not raw
    assert most_suspicious(texts, model, "spam", parts, None) == (picked, [0, 1])  # no gate: every one
    assert sentence_counts(calm, parts["spam"], None) and not sentence_counts(calm, parts["spam"], between)
    with pytest.raises(ValueError, match="needs the blend"):
        most_suspicious(texts, model, "spam", None, between)


def test_a_gated_scorer_encodes_an_ordinary_comments_sentence_no_more_and_a_pitch_as_before():
    # fp32: the calls below batch different pieces, and in bf16 (auto on a CPU with AMX) a batch's packing moves
    # a score by up to ~1e-4, which would blur the exact comparisons.
    scorer = models.load(precision="fp32")
    honest = "The council met on Tuesday. They voted on the park budget. Residents can read the minutes online."
    pitch = "The mayor should resign over this. No excuses. Free gift cards for the first 100 people who message me!"
    raw = {k: v for k, v in scorer.config.raw.items() if k != "sentence_labels"}
    whole_only = Scorer(scorer.encoder, scorer.weight, scorer.bias, replace(scorer.config, raw=raw), scorer.lexical)

    def with_gate(gate: float | None) -> Scorer:
        config = replace(scorer.config, raw=scorer.config.raw | {"sentence_gate": gate})
        return Scorer(scorer.encoder, scorer.weight, scorer.bias, config, scorer.lexical)

    gated, ungated = with_gate(-5.0), with_gate(None)
    [calm_sentence], _ = most_suspicious([honest], scorer.lexical, "spam")
    [pitch_sentence], _ = most_suspicious([pitch], scorer.lexical, "spam")
    parts = scorer.blend_parts["spam"]
    assert not sentence_counts(scorer.lexical.logits([calm_sentence])[0, 0], parts, -5.0)
    assert sentence_counts(scorer.lexical.logits([pitch_sentence])[0, 0], parts, -5.0)

    encoded: list[str] = []
    embed = scorer.encoder.embed

    def counting(texts: list[str], batch_size: int = 32):  # type: ignore[no-untyped-def]
        encoded.extend(texts)
        return embed(texts, batch_size)

    scorer.encoder.embed = counting
    try:
        gated_honest, gated_pitch = gated.score([honest, pitch])
    finally:
        del scorer.encoder.embed  # the instance attribute: the class's method again
    assert encoded == [honest, pitch, pitch_sentence]  # the calm sentence is never encoded
    encoded.clear()
    scorer.encoder.embed = counting
    try:
        ungated_honest, ungated_pitch = ungated.score([honest, pitch])
    finally:
        del scorer.encoder.embed
    assert encoded == [honest, pitch, calm_sentence, pitch_sentence]  # without a gate, every picked sentence
    assert gated_honest == pytest.approx(whole_only.score([honest])[0], abs=1e-5)  # the comment as a whole
    assert ungated_honest["spam"] > gated_honest["spam"]  # the calm sentence alone had raised it, a little
    assert gated_pitch == pytest.approx(ungated_pitch, abs=1e-5)  # the pitch still counts
    assert gated_pitch["spam"] >= scorer.thresholds["spam"] > gated_honest["spam"]


def test_training_calibrates_on_the_scores_the_gated_scorer_gives_the_service(scorer):
    """Trained.with_sentences (calibration and thresholds are fitted to it) and Scorer.score must gate alike."""
    import torch

    from models.train import TRAINED_LABELS, ModerationNet, Trained

    pitch = "The mayor should resign over this. No excuses. Free gift cards for the first 100 people who message me!"
    texts = ["The council met on Tuesday. They voted on the park budget. Residents can read the minutes online.", pitch]
    [pitch_sentence], _ = most_suspicious([pitch], scorer.lexical, "spam")
    lexical_side = scorer.blend_parts["spam"]["lexical"]
    at_pitch = lexical_side["a"] * float(scorer.lexical.logits([pitch_sentence])[0, 0]) + lexical_side["b"]
    net = ModerationNet(scorer.encoder, len(TRAINED_LABELS))
    with torch.no_grad():
        net.head.weight.copy_(scorer.weight)
        net.head.bias.copy_(scorer.bias)
    calibration = scorer.config.raw["calibration"]
    spam = TRAINED_LABELS.index("spam")
    served = {}
    for gate in (at_pitch, at_pitch + 0.01):  # the pitch kept, then skipped
        trained = Trained(net, calibration, scorer.lexical, scorer.blend_parts, ("spam",), gate)
        config = replace(scorer.config, raw=scorer.config.raw | {"sentence_gate": gate})
        gated = Scorer(scorer.encoder, scorer.weight, scorer.bias, config, scorer.lexical)
        served[gate] = [result["spam"] for result in gated.score(texts)]
        # The training path runs the Hugging Face model, the service the packed one: equal to within their rounding.
        assert trained.probabilities(texts, 256)[:, spam] == pytest.approx(served[gate], abs=0.01)
    assert served[at_pitch][1] > served[at_pitch + 0.01][1] + 0.3  # the gate decided the pitch's score


def test_sentence_rows_train_each_comments_picked_sentence_alone_on_that_labels_target_only():
    from models.data import Row
    from models.train import sentence_rows

    rows = [
        Row(
            "Good reporting on the plant. The numbers surprised me. Check out my channel and subscribe!",
            "yt",
            {"spam": 1.0},
        ),
        # honest, with one sentence in spam's words: that one is what the scorer will score alone
        Row("The council should publish the budget. I watched the new video of the vote.", "sms", {"spam": 0.0}),
        Row("You idiot. Nobody asked for your opinion here.", "wiki", {"toxicity": 1.0}),  # no spam target
        Row("Check out my channel!", "yt", {"spam": 1.0}, group="Psy"),  # one sentence: nothing to add
    ]
    assert sentence_rows(rows, fitted(), ("spam",)) == [
        Row("Check out my channel and subscribe!", "yt", {"spam": 1.0}),
        Row("I watched the new video of the vote.", "sms", {"spam": 0.0}),
    ]
    with pytest.raises(ValueError, match="needs the lexical model"):
        sentence_rows(rows, None, ("spam",))


def test_the_shipped_scorer_takes_spam_as_the_higher_of_the_comment_and_its_most_suspicious_sentence(scorer):
    assert scorer.sentence_labels == ("spam",)
    pitch = "Free gift cards for the first 100 people who message me!"
    text = "The mayor should resign over this. No excuses. " + pitch  # written before v18 was trained
    [picked], _ = most_suspicious([text], scorer.lexical, "spam")
    assert picked == pitch
    with_sentence, alone = scorer.score([text, pitch])
    raw = {k: v for k, v in scorer.config.raw.items() if k != "sentence_labels"}
    whole_only = Scorer(scorer.encoder, scorer.weight, scorer.bias, replace(scorer.config, raw=raw), scorer.lexical)
    [whole] = whole_only.score([text])
    assert with_sentence["spam"] == pytest.approx(max(whole["spam"], alone["spam"]), abs=1e-5)
    assert whole["spam"] < scorer.thresholds["spam"] <= with_sentence["spam"]  # the pitch at the end is caught
    # Only spam: the other labels are the whole comment's.
    others = [label for label in scorer.labels if label != "spam"]
    assert all(with_sentence[label] == pytest.approx(whole[label], abs=1e-5) for label in others)
    # An honest comment of several sentences stays below the threshold.
    honest = "The council met on Tuesday. They voted on the park budget. Residents can read the minutes online."
    assert scorer.score([honest])[0]["spam"] < scorer.thresholds["spam"]


def test_an_artifact_with_sentence_labels_but_no_n_gram_model_to_pick_them_is_refused(scorer):
    with pytest.raises(ValueError, match="sentence labels"):
        Scorer(scorer.encoder, scorer.weight, scorer.bias, scorer.config, None)
