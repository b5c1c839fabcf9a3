"""The span estimator on scorers whose true Shapley values are known, so no model is needed."""

from __future__ import annotations

import pytest

from models.explain import explain, shapley_values, units

INSULTS = {"pathetic", "idiot", "worthless", "fool"}


class AdditiveScorer:
    """Each word adds its weight: every word's Shapley value is exactly its weight."""

    def __init__(self, weights: dict[str, float]) -> None:
        self.weights = weights

    def score(self, texts: list[str], batch_size: int = 32) -> list[dict[str, float]]:
        return [{"toxicity": sum(self.weights.get(w.strip(".,"), 0.0) for w in t.split())} for t in texts]


class AnyInsultScorer:
    """0.9 when any insult is present, else 0.1: each insult suffices alone, so none is necessary."""

    def __init__(self) -> None:
        self.texts_scored = 0

    def score(self, texts: list[str], batch_size: int = 32) -> list[dict[str, float]]:
        self.texts_scored += len(texts)
        hit = [any(w.strip(".,").lower() in INSULTS for w in t.split()) for t in texts]
        return [{"toxicity": 0.9 if h else 0.1, "insult": 0.8 if h else 0.0} for h in hit]


def test_an_additive_score_is_shared_out_exactly_word_by_word():
    text = "you rude little fool."
    values = shapley_values(AdditiveScorer({"rude": 0.3, "little": 0.05, "fool": 0.5}), text, units(text))
    assert [v["toxicity"] for v in values] == pytest.approx([0.0, 0.3, 0.05, 0.5])


def test_insults_that_each_suffice_alone_share_the_score_and_other_words_get_none():
    text = "You are a pathetic idiot and a worthless fool."
    spans = units(text)
    values = [v["toxicity"] for v in shapley_values(AnyInsultScorer(), text, spans)]
    words = [text[b:e].strip(".") for b, e in spans]
    assert sum(values) == pytest.approx(0.8)
    assert all(value == 0 for word, value in zip(words, values, strict=True) if word not in INSULTS)
    assert all(value > 0.1 for word, value in zip(words, values, strict=True) if word in INSULTS)
    highlighted = {
        text[s["begin"] : s["end"]].strip(".") for s in explain(AnyInsultScorer(), text, ["toxicity"])["toxicity"]
    }
    assert highlighted == INSULTS


def test_a_one_word_comment_gets_the_whole_share_and_an_empty_one_gets_no_spans():
    assert explain(AnyInsultScorer(), "idiot", ["toxicity"])["toxicity"] == [{"begin": 0, "end": 5, "score": 0.8}]
    assert explain(AnyInsultScorer(), "   ", ["toxicity"]) == {"toxicity": []}


def test_a_long_comment_is_explained_in_the_passages_its_scorer_scores():
    from models.explain import passage_bounds

    calm = "The council met on Tuesday to discuss the budget for the new library and the park. " * 14
    text = calm + "You are a pathetic fool. " + calm
    assert len(passage_bounds(text, 25)) > len(passage_bounds(text, 80)) > 1
    # A passage of up to 64 words is weighed word by word, a longer one (4 sentences here) sentence by sentence.
    expected = {25: {"pathetic", "fool."}, 80: {"You are a pathetic fool."}}
    for words in (25, 80):
        sized = CallRecordingScorer(words)
        spans = explain(sized, text, ["toxicity"])["toxicity"]
        assert {text[s["begin"] : s["end"]] for s in spans} == expected[words]
        assert sized.calls[0] == len(passage_bounds(text, words))  # the passages are picked among at its size


class CallRecordingScorer(AnyInsultScorer):
    """AnyInsultScorer that says its passage size, as the artifact's scorer does, and records each call's size."""

    def __init__(self, passage_words: int) -> None:
        super().__init__()
        self.passage_words = passage_words
        self.calls: list[int] = []

    def score(self, texts: list[str], batch_size: int = 32) -> list[dict[str, float]]:
        self.calls.append(len(texts))
        return super().score(texts, batch_size)


def test_labels_whose_worst_passage_is_the_same_are_explained_in_one_pass():
    calm = "The council met on Tuesday to discuss the budget for the new library and the park. " * 14
    text = calm + "You are a pathetic fool. " + calm
    one, two = AnyInsultScorer(), AnyInsultScorer()
    by_label = explain(two, text, ["toxicity", "insult"])
    explain(one, text, ["toxicity"])
    assert one.texts_scored == two.texts_scored
    start = text.index("You are a pathetic")
    assert {text[s["begin"] : s["end"]] for s in by_label["insult"]} == {"You are a pathetic fool."}
    assert all(start <= s["begin"] for s in by_label["toxicity"])


def test_the_explainer_reads_a_long_comment_in_the_scorers_own_passages():
    from models.explain import passage_bounds
    from models.scorer import passages

    text = (
        "Rates rose 3.5 percent, says example.com today. Dr. Smith disagrees!\n\nWhy? "
        + "The council met on Tuesday to discuss the budget for the new library. " * 20
        + "\nA last line without a stop"
    )
    for words in (1, 25, 80):
        bounds = passage_bounds(text, words)
        assert [" ".join(text[b:e].split()) for b, e in bounds] == [" ".join(p.split()) for p in passages(text, words)]
