"""The model library on its own: loading offline, scoring, long texts, and the train command end to end."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import models
from models.scorer import CONFIG_FILE, HEADS_FILE
from tests.conftest import civility

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
TOXIC = "You are a pathetic idiot and a worthless piece of garbage."
FILLER = "The council met on Tuesday to discuss the budget for the new library and the park. " * 30


def test_scores_every_label_of_the_artifact_as_a_probability(scorer):
    results = scorer.score(["A thoughtful comment about local schools.", TOXIC])
    assert [set(r) for r in results] == [set(scorer.labels)] * 2
    assert all(0.0 <= p <= 1.0 for r in results for p in r.values())
    assert results[1]["toxicity"] > results[0]["toxicity"]


def test_a_long_comment_is_judged_by_its_worst_part(scorer):
    middle = FILLER[:1200] + " " + TOXIC + " " + FILLER[:1200]
    clean_long, toxic_at_the_end, toxic_in_the_middle = scorer.score([FILLER, FILLER + TOXIC, middle])
    assert len(scorer.encoder.tokenizer(FILLER)["input_ids"]) > scorer.encoder.max_length
    assert toxic_at_the_end["toxicity"] > clean_long["toxicity"] + 0.3
    assert toxic_in_the_middle["toxicity"] > clean_long["toxicity"] + 0.3


def test_a_long_text_without_sentence_breaks_is_still_scored_whole(scorer):
    [result] = scorer.score(["word " * 5000])
    assert set(result) == set(scorer.labels)


def test_empty_input_scores_nothing(scorer):
    assert scorer.score([]) == []


def test_load_refuses_a_directory_without_an_artifact(tmp_path):
    with pytest.raises(FileNotFoundError):
        models.load(tmp_path)


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason="shared training data not present")
def test_train_command_builds_a_loadable_artifact_from_a_small_sample(tmp_path):
    out = tmp_path / "tiny"
    result = civility(
        "train", "--data-dir", str(DATA_DIR), "--out", str(out), "--cap-scale", "0.01", env=dict(os.environ)
    )
    assert result.returncode == 0, result.stderr
    config = json.loads((out / CONFIG_FILE).read_text())
    assert config["version"] == "tiny" and config["training_files"]
    assert (out / HEADS_FILE).stat().st_size < 100_000
    trained = models.load(out)
    assert trained.version == "tiny"
    assert set(trained.score(["hello"])[0]) == set(config["labels"])
