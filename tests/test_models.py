"""The model library on its own: loading offline, scoring, long texts, and the train command end to end."""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import models
from models.explain import explain, shapley_values, units, without
from models.scorer import CONFIG_FILE
from models.sentences import PASSAGE_WORDS
from tests.conftest import civility

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
TOXIC = "You are a pathetic idiot and a worthless piece of garbage."
SHIPPED_SENTENCE_GATE = -5.0  # models/sentences.py says why
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


def test_a_pitch_closing_an_on_topic_comment_counts_as_the_sentence_training_picked(scorer):
    from models.sentences import most_suspicious

    text = (
        "The council vote on the library budget was closer than I expected. My daughter uses that branch every"
        " week and the staff are wonderful. Anyway if anyone needs cheap web hosting visit my site hostdeals dot net."
    )
    # Training calibrated on the sentence most_suspicious picks; the scorer picks in its own single n-gram pass.
    picked, owners = most_suspicious([text], scorer.lexical, "spam")
    assert owners == [0] and picked[0].startswith("Anyway if anyone needs cheap web hosting")
    with_sentence = scorer.score([text])[0]["spam"]
    assert with_sentence == pytest.approx(scorer.score([picked[0]])[0]["spam"], abs=0.005)  # judged by its pitch
    assert with_sentence >= scorer.thresholds["spam"]
    # Beside a short comment and a long one of many passages (each with sentences of its own), the same.
    assert scorer.score(["Nice.", text, FILLER])[1]["spam"] == pytest.approx(with_sentence, abs=0.005)


def test_a_long_text_without_sentence_breaks_is_still_scored_whole(scorer):
    [result] = scorer.score(["word " * 5000])
    assert set(result) == set(scorer.labels)


def test_a_stereotype_about_women_is_an_identity_attack_and_naming_women_is_not(scorer):
    # v6 scored the first 0.009: Davidson's raters called misogyny "offensive", never hate
    attack, mention = scorer.score(
        ["Women are too emotional to be in charge of anything.", "Women's soccer deserves more coverage in this paper."]
    )
    threshold = scorer.thresholds["identity_attack"]
    assert attack["identity_attack"] >= threshold > mention["identity_attack"]
    assert mention["toxicity"] < scorer.thresholds["toxicity"]


def test_a_group_named_in_an_opinion_or_a_question_is_no_attack_unless_the_sentence_attacks_it(scorer):
    # v8 read "<group> + a predicate" as an attack: 0.87, 0.93 and 0.73 on identity_attack for the mentions
    mentions = [
        "Why are Muslims so underrepresented in local government?",
        "I don't think women should have to choose between career and family.",
        "Disabled people still can't get into half the shops downtown.",
        "Women should earn as much as the men they work beside.",  # v9: 0.61, above its threshold
    ]
    attacks = ["Why are Muslims always so violent?", "In my opinion, Black people are just less intelligent."]
    thresholds = scorer.thresholds
    for text, scores in zip(mentions, scorer.score(mentions), strict=True):
        assert scores["identity_attack"] < thresholds["identity_attack"], text
        assert scores["toxicity"] < thresholds["toxicity"], text
    assert all(s["identity_attack"] >= thresholds["identity_attack"] for s in scorer.score(attacks))


def test_a_reader_asking_to_share_a_notice_is_not_spam_but_a_channel_plug_is(scorer):
    # v6 scored the first 0.92, from YouTube's "share this video"
    notice, plug = scorer.score(
        [
            "Please share this so the family can find their missing dog.",
            "Please share this video and subscribe to my channel for more!",
        ]
    )
    assert notice["spam"] < scorer.thresholds["spam"] <= plug["spam"]


def test_the_same_praise_and_introduction_are_spam_only_with_an_ask_to_follow_the_writer(scorer):
    praise = "Really enjoyed this piece. I'm a 70 year old retired teacher and I agree with every word."
    plug = "Really enjoyed this piece. I'm a 22 year old photographer, follow me on Instagram @lenslife.jo!"
    honest, promotion = scorer.score([praise, plug])
    assert honest["spam"] < scorer.thresholds["spam"] <= promotion["spam"]


def test_abuse_of_an_official_is_toxic_but_no_identity_attack(scorer):
    # v7 scored the first 0.66 on identity_attack, above its threshold, and "Politicians are all crooks." 0.92:
    # any abuse of an official read as an identity attack
    abuse = scorer.score(["These city planners are clueless morons.", "What an idiot this reporter is."])
    assert all(a["identity_attack"] < scorer.thresholds["identity_attack"] for a in abuse)
    assert all(a["toxicity"] >= scorer.thresholds["toxicity"] for a in abuse)


def test_telling_someone_their_kind_does_not_belong_is_an_identity_attack(scorer):
    # v7 scored these 0.38 and 0.27: the group is never named, and no slur is used
    attacks = scorer.score(
        ["People like you should go back to where you came from.", "We don't want foreigners in our neighbourhood."]
    )
    assert all(a["identity_attack"] >= scorer.thresholds["identity_attack"] for a in attacks)


def test_a_reader_who_subscribed_is_not_spam(scorer):
    # v7 scored it 0.86, from YouTube's "subscribe to my channel"
    (reader,) = scorer.score(["Subscribed to the newsletter, thanks for the heads-up."])
    assert reader["spam"] < scorer.thresholds["spam"]


def test_years_and_counts_are_not_spam_but_a_prize_number_to_call_is(scorer):
    # v14 read every digit as 0, so a year looked like part of a phone number: 0.14 for the mill, 0.10 for the budget
    honest = scorer.score(
        [
            "My grandfather worked at the mill from 1962 to 1991.",
            "The budget went from 1200 to 4500 dollars per pupil.",
            "The council voted 7 to 2 on Tuesday; the 2024 budget passes next week.",
        ]
    )
    assert all(s["spam"] < 0.05 for s in honest)
    (prize,) = scorer.score(["Congratulations! You have won a 500 voucher. Text WIN to 80182 or call 07781234567 now."])
    assert prize["spam"] >= scorer.thresholds["spam"]


def test_a_round_number_is_a_count_not_a_phone_number(scorer):
    # v15 read any run of five digits or more as a phone number's shape and held the first at 0.79
    counts = scorer.score(
        [
            "Population grew by 12000 between 2010 and 2020.",
            "The city spent 250000 dollars on the new bridge.",
            "1000000000 views.",
        ]
    )
    assert all(s["spam"] < 0.1 for s in counts)
    (prize,) = scorer.score(["Call 08712404000 now to claim your 2000 prize"])
    assert prize["spam"] >= scorer.thresholds["spam"]


def test_praise_of_the_site_with_no_link_is_spam_and_praise_of_the_story_is_not(scorer):
    # Blog comment spam of the classic kind, its link in the author's URL; v16 held none of these 5 (and 1 of 5
    # more like them). They were written before the training rows that praise the site and share no sentence with them.
    site = scorer.score(
        [
            "Nice post. I was checking constantly this blog and I am impressed! Extremely useful info specially the"
            " last part. I care for such information a lot. Thank you and good luck.",
            "Hello there! This is my first visit to your blog! We are a group of volunteers starting a new project in"
            " a community in the same niche. Your blog provided us valuable information.",
            "Wow, awesome blog layout! How long have you been blogging for? You make blogging look easy.",
            "I have been browsing online more than three hours today, yet I never found any interesting article like"
            " yours. It is pretty worth enough for me.",
            "Hey would you mind sharing which blog platform you're using? I'm looking to start my own blog soon.",
        ]
    )
    assert sum(s["spam"] >= scorer.thresholds["spam"] for s in site) >= 4
    story = scorer.score(
        [
            "Great article, the section on the water treatment plant explained a lot.",
            "Thanks for covering the school board meeting, none of the other papers did.",
            "Nice piece. I went to that bakery for twenty years and I'll miss it.",
            "Excellent write-up on the election results, especially the precinct map.",
            "Thank you for this. My father served on that ship and never talked about it.",
            "I have read this paper for forty years and this is some of its best work.",
        ]
    )
    assert all(s["spam"] < 0.1 for s in story)


def test_empty_input_scores_nothing(scorer):
    assert scorer.score([]) == []


def test_load_refuses_a_directory_without_an_artifact(tmp_path):
    with pytest.raises(FileNotFoundError):
        models.load(tmp_path)


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason="shared training data not present")
def test_train_and_evaluate_commands_build_and_measure_an_artifact_from_a_small_sample(tmp_path):
    from models.card import HATE_WORD_GROUPS
    from models.data import HATE_WORD

    out = tmp_path / "tiny"
    env = dict(os.environ)
    labels = tmp_path / "labels.csv"  # as `civility export-labels` writes it
    labels.write_text(
        "text,label,target,reason,comment_id,site_id,decided_at,source\n"
        "Buy cheap pills at pills.example,1,spam,spam,c1,1,2026-11-26T00:00:00,moderators\n"
        "A fair and careful article,0,toxicity,approved,c2,1,2026-11-26T00:00:00,moderators\n"
    )
    args = ["--out", str(out), "--cap-scale", "0.01", "--epochs", "1", "--labels", str(labels), "--balance-identity"]
    args += ["--balance-hate-word"]  # adds rows, so evaluate must draw the same split to measure what training did
    args += ["--counterfactual-pairing", "0.3"]  # off in the shipped recipe; here the term must train end to end
    trained = civility("train", "--data-dir", str(DATA_DIR), *args, env=env)
    assert trained.returncode == 0, trained.stderr
    config = json.loads((out / CONFIG_FILE).read_text())
    assert config["version"] == "tiny" and config["training_files"] and config["training"]["balance_identity"]
    assert config["training"]["balance_hate_word"]
    assert config["training"]["counterfactual_pairing"] == 0.3
    assert config["training"]["promotion_pairs"] and not config["training"]["tweet_spam_targets"]  # the shipped recipe
    assert "olid_offenseval2019_tweets.csv" not in config["training_files"]  # no licence: never shipped
    assert "labels.csv" in config["training_files"]
    assert set(config["calibration"]) == set(config["labels"]) == set(config["thresholds"])
    assert config["lexical"]["labels"] == ["spam"] and (out / "lexical.safetensors").is_file()
    assert set(config["lexical"]["blend"]["spam"]) == {"encoder", "lexical"} and config["lexical"]["digits"] == "round"
    assert sum(f.stat().st_size for f in out.iterdir()) < 30 * 1024 * 1024
    model = models.load(out)
    assert model.version == "tiny" and set(model.score(["hello"])[0]) == set(config["labels"])
    assert model.lexical is not None and model.lexical.digits == "round"
    assert config["sentence_labels"] == ["spam"] == config["training"]["sentence_labels"]
    assert model.sentence_labels == ("spam",)
    assert config["sentence_gate"] == config["training"]["sentence_gate"] == SHIPPED_SENTENCE_GATE
    assert model.sentence_gate == SHIPPED_SENTENCE_GATE
    assert config["passage_words"] == config["training"]["passage_words"] == PASSAGE_WORDS == model.passage_words

    # Training measures the saved artifact in fp32 (its threshold rule says so); on a CPU with native bf16, `auto`
    # would score in bf16 and move a tiny model's ROC-AUC by about 0.01, so the two are compared at one precision.
    fp32 = env | {"CIVILITY_MODEL_PRECISION": "fp32"}
    evaluated = civility("evaluate", "--data-dir", str(DATA_DIR), "--artifact", str(out), env=fp32)
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads((out / "evaluation.json").read_text())
    assert report["fixed"]["precision"] == "fp32"
    test_split = report["fixed"]["test_split"]
    assert {"toxicity", "spam"} <= set(test_split["model"])
    # Thresholds are fitted to the artifact's scores as the service takes them, so training's own measure of the
    # test split is the one `evaluate` makes (before, training read 128 tokens a comment: v19's toxicity 0.942
    # there against 0.940 as served).
    for label in ("toxicity", "spam"):
        at_training, evaluated_all = config["metrics"]["test_split"][label]["all"], test_split["model"][label]["all"]
        assert abs(at_training["roc_auc"] - evaluated_all["roc_auc"]) < 0.005, label
        assert at_training["n"] == evaluated_all["n"] and at_training["recall"] == evaluated_all["recall"]
    assert "as the service scores" in config["threshold_rule"]
    peer = test_split["alt-profanity-check"]["all"]
    gap = peer["ours_minus_peer_roc_auc"]
    assert abs(gap["difference"] - (test_split["model"]["toxicity"]["all"]["roc_auc"] - peer["roc_auc"])) < 2e-4
    assert gap["ci95"][0] <= gap["difference"] <= gap["ci95"][1]
    assert "olid_offenseval2019_tweets.csv" in report["fixed"]["unseen_sources"]["model"]["toxicity"]
    assert report["fixed"]["identity"]["non_toxic_naming_identity"]["n"] > 0
    by_source = report["fixed"]["identity"]["by_source"]
    assert (
        sum(rates["naming_identity"]["n"] for rates in by_source.values())
        == (report["fixed"]["identity"]["non_toxic_naming_identity"]["n"])
    )
    with open(DATA_DIR / "olid_offenseval2019_tweets.csv", newline="", encoding="utf-8") as handle:
        olid = list(csv.DictReader(handle))
    targets = [r["subtask_c"] for r in olid if r["subtask_b"] == "TIN"]
    by_target = report["fixed"]["identity_attack_by_target"]
    assert {kind: by_target[kind]["n"] for kind in ("IND", "GRP", "OTH")} == dict(Counter(targets))
    assert all(0 <= by_target[kind]["flagged"] <= 1 for kind in ("IND", "GRP", "OTH"))
    assert 0 <= by_target["grp_vs_ind_roc_auc"] <= 1
    card = (out / "MODEL_CARD.md").read_text()
    assert "## Identity terms" in card and "## Sources never seen in training" in card
    low, high = gap["ci95"]
    assert f"| {peer['roc_auc']:.3f} | {gap['difference']:+.3f} ({low:+.3f} to {high:+.3f}) |" in card
    assert "| source | naming an identity: n | FPR | naming none: n | FPR |" in card
    assert "**Beside the encoder**, for `spam`" in card and "**The most suspicious sentence**, for `spam`" in card
    assert f"calibrated log-odds of at least\n{SHIPPED_SENTENCE_GATE}; below that the comment scores as a whole" in card
    assert f"score as their worst passage of about {PASSAGE_WORDS} words" in card
    assert f"| one person (IND) | {by_target['IND']['n']} |" in card
    # OLID's clean tweets saying "hate", beside those that don't, and the offensive ones likewise.
    hate_word = report["fixed"]["hate_word"]
    says_hate = [bool(HATE_WORD.search(r["text"])) for r in olid if r["subtask_a"] == "NOT"]
    assert hate_word["clean_hate"]["n"] == sum(says_hate)
    # Those not saying it are the OLID rows of the unseen-source sample, scored once for both tables.
    unseen_olid = report["fixed"]["unseen_sources"]["model"]["toxicity"]["olid_offenseval2019_tweets.csv"]
    assert 0 < hate_word["offensive_no_hate"]["n"] <= unseen_olid["positives"]
    assert 0 < hate_word["clean_no_hate"]["n"] <= unseen_olid["n"] - unseen_olid["positives"]
    assert all(
        0 <= hate_word[g][label] <= hate_word[g]["n"]
        for g in HATE_WORD_GROUPS
        for label in ("toxicity", "identity_attack")
    )
    clean = hate_word["clean_hate"]
    assert f'| clean, saying "hate" | {clean["n"]} | {clean["toxicity"]} ({clean["toxicity"] / clean["n"]:.3f})' in card

    # One fold run alone, at its own size, is kept apart from the full table; a misspelt fold fails at once.
    sms = "sms_spam_collection.csv (message style)"
    alone = ["--loso-only", sms, "--loso-epochs", "1", "--loso-cap-scale", "0.01"]
    evaluated = civility("evaluate", "--data-dir", str(DATA_DIR), "--artifact", str(out), *alone, env=env)
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads((out / "evaluation.json").read_text())
    [run] = report["leave_one_source_out_selected"]
    assert (run["training"]["epochs"], run["training"]["cap_scale"]) == (1, 0.01)
    [fold] = run["folds"]
    assert fold["held_out"] == sms and fold["label"] == "spam" and 0 <= fold["roc_auc"] <= 1
    assert "leave_one_source_out" not in report  # no full table was asked for
    card = (out / "MODEL_CARD.md").read_text()
    assert "## Leave one source out, selected folds" in card and f"| {sms} | spam | {fold['n']} |" in card
    before = (out / "evaluation.json").read_text()
    misspelt = civility("evaluate", "--data-dir", str(DATA_DIR), "--artifact", str(out), "--loso-only", "sms", env=env)
    assert misspelt.returncode == 2 and "no fold named 'sms'" in misspelt.stderr and sms in misspelt.stderr
    assert (out / "evaluation.json").read_text() == before


def test_the_train_commands_switches_turn_the_shipped_recipes_parts_off_and_on():
    from models.train import TrainConfig
    from service.cli import parser, train_config

    base = ["train", "--data-dir", "d", "--out", "o"]
    unset = parser().parse_args(base)
    assert unset.promotion_pairs is None and unset.tweet_spam_targets is None  # TrainConfig's defaults apply
    assert unset.linkless_tweets_as_ham is None and train_config(unset).linkless_tweets_as_ham
    assert unset.praise_pairs is None and train_config(unset).praise_pairs
    assert train_config(parser().parse_args([*base, "--no-praise-pairs"])).praise_pairs is False
    assert unset.hate_word_rows is None and train_config(unset).hate_word_rows is False  # tried after v19, not shipped
    assert train_config(parser().parse_args([*base, "--hate-word-rows"])).hate_word_rows is True
    assert unset.insult_contrast_rows is None and train_config(unset).insult_contrast_rows is False  # not shipped
    assert train_config(parser().parse_args([*base, "--insult-contrast-rows"])).insult_contrast_rows is True
    assert train_config(parser().parse_args([*base, "--clean-passage-rows"])).clean_passage_rows is True
    assert train_config(parser().parse_args([*base, "--no-clean-passage-rows"])).clean_passage_rows is False
    assert unset.spliced_passage_rows is None and train_config(unset).spliced_passage_rows is False  # not shipped
    assert train_config(parser().parse_args([*base, "--spliced-passage-rows"])).spliced_passage_rows is True
    assert train_config(unset).row_weights == {}  # every row weighs 1 in the shipped recipe
    weighted = parser().parse_args([*base, "--hate-word-rows", "--row-weight", "hate_word_rows=0.3"])
    assert train_config(weighted).row_weights == {"hate_word_rows": 0.3}
    dashed = parser().parse_args([*base, "--hate-word-rows", "--row-weight", "hate-word-rows=0.3"])
    assert train_config(dashed).row_weights == {"hate_word_rows": 0.3}  # spelt as its switch is
    # A weight of 1 is every row's: the recipe must read as the one without it, not as another recipe.
    plain = parser().parse_args([*base, "--hate-word-rows", "--row-weight", "hate_word_rows=1"])
    assert train_config(plain).row_weights == {}
    for bad in ("hate_word_rows", "hate_word_rows=0", "hate_word_rows=1.5", "hate_word_rows=x", "=0.3"):
        with pytest.raises(SystemExit):
            parser().parse_args([*base, "--row-weight", bad])
    for bad in ("hate_word_rows=1e-300", "hate_rows=0.3"):  # 1e-300 would be 0 in the float32 loss
        with pytest.raises(SystemExit):
            parser().parse_args([*base, "--hate-word-rows", "--row-weight", bad])

    flipped = parser().parse_args(
        [*base, "--no-promotion-pairs", "--tweet-spam-targets", "--no-linkless-tweets-as-ham"]
    )
    assert flipped.promotion_pairs is False and flipped.tweet_spam_targets is True
    assert train_config(flipped).linkless_tweets_as_ham is False
    assert train_config(unset).lexical_labels == ("spam",) and train_config(unset).promotion_pairs
    assert train_config(unset).sentence_labels == ("spam",)
    assert train_config(unset).sentence_gate == SHIPPED_SENTENCE_GATE
    assert train_config(parser().parse_args([*base, "--sentence-gate", "none"])).sentence_gate is None
    assert train_config(parser().parse_args([*base, "--sentence-gate", "-4"])).sentence_gate == -4.0
    for bad in ("low", "inf", "-inf", "nan"):
        with pytest.raises(SystemExit):
            parser().parse_args([*base, "--sentence-gate", bad])
    assert train_config(unset).passage_words == PASSAGE_WORDS
    assert train_config(parser().parse_args([*base, "--passage-words", "40"])).passage_words == 40
    for bad in ("0", "-3", "2.5", "many"):
        with pytest.raises(SystemExit):
            parser().parse_args([*base, "--passage-words", bad])
    assert train_config(unset).max_length == TrainConfig(version="x").max_length == 128  # the shipped recipe's
    assert train_config(parser().parse_args([*base, "--train-max-length", "256"])).max_length == 256
    for bad in ("0", "257", "512", "1.5", "long"):  # past 256 the scorer would never read what training did
        with pytest.raises(SystemExit):
            parser().parse_args([*base, "--train-max-length", bad])
    assert train_config(unset).counterfactual_pairing == 0  # off in the shipped recipe
    assert train_config(parser().parse_args([*base, "--counterfactual-pairing", "0.3"])).counterfactual_pairing == 0.3
    with pytest.raises(SystemExit):  # a negative weight would reward the gap it is meant to close
        parser().parse_args([*base, "--counterfactual-pairing", "-1"])
    without_lexical = train_config(parser().parse_args([*base, "--no-lexical"]))
    assert without_lexical.lexical_labels == () and without_lexical.sentence_labels == ()  # nothing picks them
    assert without_lexical.sentence_gate is None  # no sentence to gate: the recipe must not record one


def test_the_train_command_refuses_row_weights_that_contradict_the_recipe_before_reading_any_data(capsys):
    from service.cli import main

    base = ["train", "--data-dir", "/nonexistent", "--out", "/nonexistent/out"]
    # Not added by the recipe: the weight would fall on no row.
    assert main([*base, "--row-weight", "hate_word_rows=0.3"]) == 2
    assert "hate_word_rows, which this recipe does not add (add --hate-word-rows)" in capsys.readouterr().err
    twice = [*base, "--hate-word-rows", "--row-weight", "hate_word_rows=0.3", "--row-weight", "hate-word-rows=0.5"]
    assert main(twice) == 2
    assert "gives hate_word_rows more than once" in capsys.readouterr().err


def test_an_artifact_from_before_the_lexical_model_is_measured_with_its_own_recipe(tmp_path):
    from models.evaluate import loso_config_for

    (tmp_path / CONFIG_FILE).write_text(json.dumps({"training": {"seed": 13, "promotion_pairs": False}}))
    config = loso_config_for(tmp_path, epochs=1, cap_scale=0.3)
    assert config.lexical_labels == () and config.promotion_pairs is False and config.cap_scale == 0.3
    assert config.praise_pairs is False and config.linkless_tweets_as_ham is False  # both came with v17
    assert config.sentence_labels == ()  # came with v18: older calibrations were fitted to whole comments
    assert config.sentence_gate is None  # came after v19: every picked sentence was encoded before
    assert config.passage_words == 25  # came after v20: its thresholds were fitted to 25-word passages
    assert config.clean_passage_rows is False and config.spliced_passage_rows is False  # came after v21
    assert config.hate_word_rows is False and config.insult_contrast_rows is False  # came after v19
    (tmp_path / CONFIG_FILE).write_text(json.dumps({"training": {"lexical_labels": ["spam"]}}))
    v13 = loso_config_for(tmp_path, epochs=1, cap_scale=0.3)
    assert v13.lexical_labels == ("spam",) and v13.lexical_digits == "raw"  # v13 read digits raw
    (tmp_path / CONFIG_FILE).write_text(json.dumps({"training": {"lexical_digit_shapes": True}}))
    assert loso_config_for(tmp_path, epochs=1, cap_scale=0.3).lexical_digits == "each"  # v14
    (tmp_path / CONFIG_FILE).write_text(json.dumps({"training": {"lexical_digits": "runs"}}))
    assert loso_config_for(tmp_path, epochs=1, cap_scale=0.3).lexical_digits == "runs"


def test_spans_point_at_the_words_that_drive_the_score(scorer):
    text = "The council did fine work on the budget, you pathetic idiot."
    spans = explain(scorer, text, ["toxicity"])["toxicity"]
    assert spans, "an insult should move the toxicity score"
    top = text[spans[0]["begin"] : spans[0]["end"]]
    assert top.strip(".") in {"idiot", "pathetic"}
    assert all(0 < s["score"] <= 1 for s in spans)
    assert spans == sorted(spans, key=lambda s: -s["score"])


def test_spans_share_out_a_score_that_several_insults_each_carry_alone(scorer):
    # Each insult here keeps the comment toxic without the others, so no single word's removal moves the
    # score much (v10: at most 0.013 of 0.844); occlusion showed nothing for it. Shapley shares must.
    text = "You are a pathetic idiot and a worthless piece of garbage. Shut your stupid mouth."
    spans = explain(scorer, text, ["toxicity"])["toxicity"]
    highlighted = {text[s["begin"] : s["end"]].strip(".") for s in spans}
    assert len(highlighted & {"pathetic", "idiot", "worthless", "garbage", "stupid"}) >= 3, highlighted
    assert not highlighted & {"a", "and", "of", "are"}


def test_shapley_shares_add_up_to_the_score_the_words_carry(scorer):
    text = "The council did fine work on the budget, you pathetic idiot."
    spans = units(text)
    values = shapley_values(scorer, text, spans)
    whole, emptied = scorer.score([text, without(text, spans, set(range(len(spans))))])
    for label in scorer.labels:
        assert sum(v[label] for v in values) == pytest.approx(whole[label] - emptied[label], abs=1e-3)
    assert values == shapley_values(scorer, text, spans), "the same comment must get the same spans"


def test_a_hugging_face_classifier_directory_loads_with_its_labels_mapped(tmp_path):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from models.encoder import base_model_dir

    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        id2label={0: "toxic", 1: "obscene", 2: "sarcasm"}, label2id={"toxic": 0, "obscene": 1, "sarcasm": 2},
        problem_type="multi_label_classification",
    )  # fmt: skip
    BertForSequenceClassification(config).save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(str(base_model_dir()), local_files_only=True).save_pretrained(tmp_path)
    scorer = models.load(tmp_path)
    assert scorer.labels == ("toxicity", "profanity") and scorer.precision == "fp32"  # the audit trail names it
    [result] = scorer.score(["some text"])
    assert set(result) == {"toxicity", "profanity"} and all(0 <= v <= 1 for v in result.values())
    # A checkpoint saved in bf16 runs in bf16, and says so.
    halved = tmp_path / "bf16"
    models.load(tmp_path).model.to(torch.bfloat16).save_pretrained(halved)
    AutoTokenizer.from_pretrained(str(tmp_path), local_files_only=True).save_pretrained(halved)
    assert models.load(halved).precision == "bf16"


def test_spans_of_a_long_comment_are_found_inside_its_worst_passage(scorer):
    calm = FILLER[: FILLER.index(". ", 1200) + 1]  # whole sentences: a long passage is weighed sentence by sentence
    text = calm + " " + TOXIC + " " + calm
    spans = explain(scorer, text, ["toxicity"])["toxicity"]
    start = text.index(TOXIC)
    assert spans and all(start <= s["begin"] < s["end"] <= start + len(TOXIC) for s in spans)


def test_packed_inference_matches_the_padded_transformer_forward(scorer):
    """The packed fast path (no padding, per-sequence attention) computes what Hugging Face's forward does."""
    import torch

    from models.encoder import Encoder

    texts = ["Thanks for the report.", "You are an idiot. " * 80, "ok", "The council voted 5-2 on the park plan " * 3]
    encoder = Encoder(max_length=scorer.config.max_length)
    encoder.model.load_state_dict(scorer.encoder.model.state_dict())
    encoder.to_precision("fp32")
    assert encoder.packed is not None
    packed, packed_map = encoder.embed(texts, batch_size=3)
    encoder.packed = None
    padded, padded_map = encoder.embed(texts, batch_size=3)
    assert packed_map == padded_map and len(packed_map) > len(texts)  # the long text has two windows
    assert torch.allclose(packed, padded, atol=1e-5)


def test_packed_rows_are_padded_by_under_16_below_256_and_take_few_shapes():
    """A comment is not padded to the next power of two (85 rows to 128), yet the shapes the CPU kernels are
    built for stay few: one per 16 rows below 256, one per 256 above."""
    from models.packed import rounded_rows

    padded = {rows: rounded_rows(rows) for rows in range(1, 2049)}
    assert all(0 <= padded[rows] - rows < 16 for rows in range(16, 256))
    assert all(0 <= padded[rows] - rows < 256 for rows in range(256, 2049))
    assert len({padded[rows] for rows in range(1, 256)}) == 16  # 16, 32, ..., 256
    assert len(set(padded.values())) == 16 + 7  # and 512, ..., 2048


def test_fp32_packs_rows_to_a_multiple_of_4_and_bf16_and_int8_to_16(scorer):
    """fp32's sgemm caches no kernel per shape, so its filler stays under 4 rows; oneDNN's bf16 and int8 kernels
    are cached per shape and keep the multiple of 16. The rows are counted where the first product receives them."""
    import torch

    from models.encoder import Encoder
    from models.packed import rounded_rows

    assert [rounded_rows(rows, 4) for rows in (1, 4, 5, 85, 255, 256, 257)] == [4, 4, 8, 88, 256, 256, 512]
    ids = Encoder(max_length=scorer.config.max_length).tokenizer(
        ["The council voted 5-2 on the park plan, and residents were not asked."]
    )["input_ids"]
    real = len(ids[0])
    assert real % 16 and real % 4  # padded to either multiple, the rows differ
    rows_in, embeddings = {}, {}
    for precision in ("fp32", "bf16", "int8"):
        encoder = Encoder(max_length=scorer.config.max_length)  # fresh: bf16 rounds the weights it converts
        encoder.to_precision(precision)
        assert encoder.packed is not None
        first = encoder.packed.dense[0]["qkv"]

        def counted(x: torch.Tensor, first=first, precision=precision) -> torch.Tensor:
            rows_in[precision] = x.shape[0]
            return first(x)

        encoder.packed.dense[0]["qkv"] = counted
        embeddings[precision] = encoder.packed.embed(ids)
    assert rows_in == {"fp32": rounded_rows(real, 4), "bf16": rounded_rows(real, 16), "int8": rounded_rows(real, 16)}
    # Fewer filler rows, the same embedding: filler never reaches a real row.
    padded_to_16 = Encoder(max_length=scorer.config.max_length)
    padded_to_16.to_precision("fp32")
    assert padded_to_16.packed is not None
    padded_to_16.packed.small_multiple = 16
    assert torch.allclose(embeddings["fp32"], padded_to_16.packed.embed(ids), atol=1e-6)


def test_bf16_scores_stay_within_a_hundredth_of_fp32(scorer):
    texts = ["Thanks for the careful reporting.", "Shut your stupid mouth, you pathetic idiot.", "WIN an iPhone now!"]
    fp32 = models.load(precision="fp32").score(texts)
    bf16 = models.load(precision="bf16").score(texts)
    for a, b in zip(fp32, bf16, strict=True):
        assert max(abs(a[label] - b[label]) for label in a) < 0.01


def test_int8_scores_a_comment_the_same_alone_and_in_a_batch_and_near_fp32(scorer):
    """Per-token activation scales: the comments batched beside one cannot move its score (they did with torch's
    dynamic quantization, whose one scale per call decided 22 of 320 test comments differently)."""
    texts = [
        "Thanks for the careful reporting.",
        "Shut your stupid mouth, you pathetic idiot.",
        "WIN an iPhone now! Call 0800 123 4567 to claim.",
        "The council voted 5-2 on the park plan. " * 40,  # several windows and passages
        "Great article. Subscribe to my channel for more videos like this!",
    ]
    from models.packed import Int8Dense

    int8 = models.load(precision="int8")
    assert int8.precision == "int8" and int8.encoder.packed is not None
    assert all(isinstance(dense, Int8Dense) for layer in int8.encoder.packed.dense for dense in layer.values())
    batched = int8.score(texts)
    # Within 1e-5, not bit for bit: outside the exact int32 products, torch's GELU computes the elements at its
    # thread chunks' ends with scalar erf, and where the chunks end depends on the rows in the call. A per-call
    # activation scale moved a score here by 0.009.
    for alone, beside in zip([int8.score([text])[0] for text in texts], batched, strict=True):
        assert max(abs(alone[label] - beside[label]) for label in alone) <= 1e-5
    fp32 = models.load(precision="fp32").score(texts)
    for a, b in zip(fp32, batched, strict=True):
        assert max(abs(a[label] - b[label]) for label in a) < 0.05
    decided = [{label for label, p in row.items() if p >= scorer.thresholds.get(label, 0.5)} for row in fp32]
    assert decided == [{label for label, p in row.items() if p >= scorer.thresholds.get(label, 0.5)} for row in batched]


def test_an_int8_dense_layer_quantizes_each_row_on_its_own():
    import torch

    from models.packed import Int8Dense

    generator = torch.Generator().manual_seed(0)
    weight, bias = torch.randn(96, 64, generator=generator), torch.randn(96, generator=generator)
    x = torch.randn(20, 64, generator=generator)
    x[3] *= 50  # one loud row must not coarsen the others' steps
    x[7] = 0  # an all-zero row: its step must not divide by zero
    dense = Int8Dense(weight, bias)
    out = dense(x)
    exact = torch.nn.functional.linear(x, weight, bias)
    error = torch.linalg.norm(out - exact, dim=1) / torch.linalg.norm(exact - bias, dim=1).clamp(min=1e-9)
    assert error[[i for i in range(20) if i != 7]].max() < 0.02  # each row on its own, the quiet ones included
    assert torch.equal(out[7], bias)
    assert torch.equal(dense(x[:3]), out[:3]) and torch.equal(dense(x[4:5]), out[4:5])


def test_auto_precision_is_bf16_then_int8_where_torch_has_int8_kernels_else_fp32(monkeypatch):
    import models.encoder
    from models.packed import Int8Dense

    encoder = models.encoder.Encoder()
    for bf16, vnni, expected in (
        (True, True, "bf16"),
        (True, False, "bf16"),
        (False, True, "int8"),
        (False, False, "fp32"),
    ):
        monkeypatch.setattr(models.encoder, "cpu_has_native_bf16", lambda bf16=bf16: bf16)
        monkeypatch.setattr(models.encoder, "cpu_has_int8_kernels", lambda vnni=vnni: vnni)
        assert encoder.to_precision("auto") == expected
        assert encoder.packed is not None
        assert all(
            isinstance(d, Int8Dense) == (expected == "int8") for layer in encoder.packed.dense for d in layer.values()
        )
    monkeypatch.setattr(models.encoder.PackedBert, "supports", staticmethod(lambda model: False))
    monkeypatch.setattr(models.encoder, "cpu_has_int8_kernels", lambda: True)
    assert encoder.to_precision("auto") == "fp32"  # int8 runs only in the packed encoder
    with pytest.raises(ValueError, match="int8"):
        encoder.to_precision("int8")


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision"):
        models.load(precision="int3")


def test_tweet_formatting_is_added_only_to_non_tweet_comments_and_never_teaches_spam():
    from models import data

    comments = [data.Row(f"comment number {i}", "wikipedia_talk_toxicity_cat.csv", {"toxicity": i % 2, "spam": 0.0})
                for i in range(400)]  # fmt: skip
    untouched = [  # rows that would be formatted if they were eligible: each has a toxicity target and no spam
        data.Row("@a you idiot", "davidson_hate_offensive_tweets.csv", {"toxicity": 1.0, "spam": 0.0}),
        data.Row("Love this song", "youtube_spam_collection_4videos.csv", {"toxicity": 0.0, "spam": 0.0}),
        data.Row("A fair article", "moderator_labels", {"toxicity": 0.0, "spam": 0.0}),
        data.Row("Win a prize http://x.example", "functional_templates", {"toxicity": 0.0, "spam": 1.0}),
    ]
    assert data.with_platform_formatting(untouched, rate=1.0, seed=1) == untouched
    out = data.with_platform_formatting(comments, rate=0.3, seed=1)
    formatted = [(before, after) for before, after in zip(comments, out, strict=True) if before.text != after.text]
    assert 80 < len(formatted) < 160  # about 30%
    for before, after in formatted:
        assert before.text in after.text and ("@" in after.text or "http://t.co/" in after.text or "#" in after.text)
        assert after.targets == {"toxicity": before.targets["toxicity"]}  # the toxicity target kept, spam dropped
    assert data.with_platform_formatting(comments, rate=0.3, seed=1) == out  # reproducible


def test_each_fold_leaves_its_source_out_and_never_trains_on_a_source_the_artifact_may_not_ship():
    from models import data
    from models.evaluate import folds

    def row(source: str, group: str = "") -> data.Row:
        return data.Row(f"a text from {source} {group}", source, {"toxicity": 0.0, "spam": 0.0}, group=group)

    rows = [row(s.file) for s in data.SOURCES if not s.file.startswith("youtube")]
    rows += [row("youtube_spam_collection_4videos.csv", video) for video in ("Psy", "Eminem")]
    by_name = {name: (label, rest, held) for name, label, rest, held in folds(rows)}
    assert by_name["olid_offenseval2019_tweets.csv"][0] == "toxicity"
    assert by_name["youtube video Psy"][0] == by_name["sms_spam_collection.csv (message style)"][0] == "spam"
    for name, (_, rest, held) in by_name.items():
        assert held and not {r.text for r in held} & {r.text for r in rest}, name
        assert all(r.source != "olid_offenseval2019_tweets.csv" for r in rest), name  # no licence: never trained
    assert {r.group for r in by_name["youtube video Psy"][1] if r.group} == {"Eminem"}


def test_the_functional_cases_decode_their_slurs_and_label_condemnation_as_no_attack():
    from models import data

    rows = data.functional_rows()
    slurs = data.slurs()
    assert len(slurs) == len(data.SLURS_ROT13) and all(s.isascii() and s == s.lower() for s in slurs)
    attacks = [r for r in rows if r.stratum == "slur_attack"]
    condemned = [r for r in rows if r.stratum == "slur_condemned"]
    assert attacks and all(r.targets["identity_attack"] == r.targets["toxicity"] == 1.0 for r in attacks)
    assert condemned and all(r.targets["toxicity"] == 0.0 and "profanity" not in r.targets for r in condemned)
    assert all(any(s in r.text.lower() or data.plural(s) in r.text.lower() for s in slurs) for r in attacks + condemned)
    # every group attacked without a slur is also named, as often, in sentences that attack no one
    neutral = [r for r in rows if r.stratum == "group_neutral"]
    assert len(neutral) == len([r for r in rows if r.stratum == "group_attack"]) == len(data.GROUPS) * 14
    assert all(r.targets["identity_attack"] == r.targets["toxicity"] == 0.0 for r in neutral)
    gender = [r for r in rows if r.stratum == "gender_attack"]
    assert len(gender) == len(data.GENDERS) * len(data.GENDER_ATTACKS)
    assert all(r.targets["identity_attack"] == r.targets["toxicity"] == 1.0 for r in gender)
    origin = [r for r in rows if r.stratum == "origin_attack"]
    assert len(origin) == len(data.PLACES) * len(data.ORIGIN_ATTACKS)
    assert all(r.targets["identity_attack"] == r.targets["toxicity"] == 1.0 for r in origin)
    # abuse of an official or a profession is toxic, and names no identity
    abuse = [r for r in rows if r.stratum == "abuse_not_identity"]
    assert len(abuse) == len(data.ROLES) * len(data.ROLE_ABUSE) + len(data.ROLE_GROUPS) * len(
        data.ROLE_GROUP_ABUSE
    ) + len(data.PERSONAL_ABUSE)
    assert all(r.targets["toxicity"] == 1.0 and r.targets["identity_attack"] == 0.0 for r in abuse)
    demands = [r for r in rows if r.stratum == "demand_not_identity"]
    criticism = [r for r in rows if r.stratum == "civil_criticism"]
    assert demands and all(r.targets == {"identity_attack": 0.0, "spam": 0.0} for r in demands)
    assert criticism and all(r.targets["toxicity"] == r.targets["identity_attack"] == 0.0 for r in criticism)
    assert not any(group.lower() in r.text.lower() for r in abuse + demands + criticism for group in data.GROUPS)
    spam_kinds = {r.stratum for r in rows if r.targets["spam"] == 1.0}
    assert spam_kinds == {"blog_spam", "self_promotion", "testimonial_spam", "prize_scam"}
    once, thrice = data.template_rows(), data.template_rows(spam_repeats=3)
    extra = [r for r in thrice if r not in once or thrice.count(r) > 1]
    repeated = [r for r in rows if r.targets["spam"] == 1.0 or r.stratum == "honest_comment"]
    assert len(thrice) - len(once) == 2 * len(repeated)
    # only the spam rows repeat, and the honest comments in spam's words that balance them
    assert extra and all(r.targets["spam"] == 1.0 or r.stratum == "honest_comment" for r in extra)
    assert any(r.stratum == "honest_comment" for r in extra)


def test_slur_plurals_are_english_and_every_plural_template_uses_them():
    from models import data

    assert [data.plural(w) for w in ("puppy", "monkey", "white trash", "bigot")] == [
        "puppies", "monkeys", "white trash", "bigots"
    ]  # fmt: skip
    assert not any("{s}s" in t or "{S}s" in t for t in data.SLUR_ATTACKS)  # "-ys" and "trashs" came from these
    plural_templates = [t for t in data.SLUR_ATTACKS if "{ss}" in t or "{SS}" in t]
    attacks = {r.text for r in data.functional_rows() if r.stratum == "slur_attack"}
    for slur in data.slurs():
        many = data.plural(slur)
        for template in plural_templates:
            assert template.format(ss=many, SS=many[0].upper() + many[1:]) in attacks


def test_self_promotion_rows_differ_from_their_honest_pairs_only_in_the_ask():
    from models import data

    pairs = data.promotion_rows()
    assert pairs == data.promotion_rows()  # reproducible
    asks = [ask.format(**fills) for ask in data.PROMO_ASKS for fills in data.PROMO_FILLS]
    opinions = data.PROMO_OPINIONS
    spam = [text for text, is_spam in pairs if is_spam]
    honest = [text for text, is_spam in pairs if not is_spam]
    assert len(spam) == len(honest)
    assert all(any(t.lower().endswith(a.lower()) for a in asks) for t in spam)
    assert all(any(t.lower().endswith(o.lower()) for o in opinions) for t in honest)

    def used(parts: list[str], texts: list[str]) -> set[str]:
        return {p for p in parts if any(p.lower() in t.lower() for t in texts)}

    # praise and a writer's introduction occur on both sides, so neither can be learned as spam
    openers = list(data.PROMO_OPENERS)
    introductions = [i.format(**fills) for i in data.PROMO_INTRODUCTIONS for fills in data.PROMO_FILLS]
    assert used(openers, spam) == used(openers, honest) == set(openers)
    assert used(introductions, spam) & used(introductions, honest)
    assert not set(spam) & {r.text for r in data.functional_rows()}  # off unless asked for
    rows = {r.text: r for r in data.functional_rows(["promotion_pairs"])}
    assert all(rows[t].targets["spam"] == 1.0 and rows[t].stratum == "self_promotion" for t in spam)
    assert all(rows[t].targets["spam"] == 0.0 and rows[t].stratum == "honest_comment" for t in honest if t in rows)


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason="shared training data not present")
def test_without_tweet_spam_targets_the_tweets_nobody_judged_for_spam_carry_none_and_nothing_else_changes():
    from models import data

    guessed = data.load_rows(DATA_DIR, shipped_only=False, cap_scale=0.05)
    unknown = data.load_rows(DATA_DIR, shipped_only=False, cap_scale=0.05, tweet_spam_targets=False)
    assert [r.text for r in guessed] == [r.text for r in unknown]
    davidson = "davidson_hate_offensive_tweets.csv"
    assert all(r.targets["spam"] == 0.0 for r in guessed if r.source == davidson)
    for before, after in zip(guessed, unknown, strict=True):
        if before.source in data.TWEET_SOURCES:
            assert "spam" not in after.targets
            assert after.targets == {k: v for k, v in before.targets.items() if k != "spam"}
        else:
            assert after == before


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason="shared training data not present")
def test_linkless_tweets_stay_ham_while_tweets_with_a_link_carry_no_spam_target():
    from models import data

    rows = data.load_rows(
        DATA_DIR, shipped_only=False, cap_scale=0.05, tweet_spam_targets=False, linkless_tweets_as_ham=True
    )
    tweets = [r for r in rows if r.source == "davidson_hate_offensive_tweets.csv"]  # OLID's rows have no spam target
    linked = [r for r in tweets if data.LINK.search(r.text)]
    plain = [r for r in tweets if not data.LINK.search(r.text)]
    assert linked and plain and all(r in linked for r in tweets if "http://t.co/" in r.text)
    assert all("spam" not in r.targets for r in linked)
    assert all(r.targets["spam"] == 0.0 for r in plain)
    everything_else = [r for r in rows if r.source not in data.TWEET_SOURCES]
    assert everything_else == [
        r for r in data.load_rows(DATA_DIR, shipped_only=False, cap_scale=0.05) if r.source not in data.TWEET_SOURCES
    ]
    assert data.LINK.search("see bit.ly/x2") and data.LINK.search("www.example.org") and not data.LINK.search("i.e. no")


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason="shared training data not present")
def test_the_self_promotion_parts_are_not_copied_from_the_youtube_corpus():
    from models import data

    youtube = (DATA_DIR / "youtube_spam_collection_4videos.csv").read_text(encoding="utf-8").lower()
    for fills in data.PROMO_FILLS:
        for value in (fills["name"], fills["handle"], fills["url"]):
            assert value.lower() not in youtube, value
    for text, _ in data.promotion_rows():
        assert text.lower() not in youtube


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason="shared training data not present")
def test_the_scam_templates_share_no_phone_number_or_shortcode_with_the_sms_corpus():
    from models import data

    sms = (DATA_DIR / "sms_spam_collection.csv").read_text(encoding="utf-8")
    # The corpus writes numbers without separators: compare digits with each number written in it.
    corpus_numbers = set(re.findall(r"\d{4,}", sms))
    for _, phone, shortcode in data.PRIZE_FILLS:
        for number in (re.sub(r"\D", "", phone), shortcode):
            assert not any(number in n for n in corpus_numbers), number
    assert any("87121" in n for n in corpus_numbers)  # the first templates' shortcode would have been caught
    assert not any("150p" in t for t in data.PRIZE_SCAMS)


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason="shared training data not present")
def test_a_sources_sample_does_not_depend_on_which_other_sources_are_loaded():
    from models import data

    shipped = data.load_rows(DATA_DIR, shipped_only=True, cap_scale=0.05)
    everything = data.load_rows(DATA_DIR, shipped_only=False, cap_scale=0.05)
    assert len(everything) > len(shipped)  # OLID loaded too, and it comes before the spam sources
    for source in {r.source for r in shipped}:
        assert [r.text for r in shipped if r.source == source] == [r.text for r in everything if r.source == source]


def test_moderators_labels_do_not_move_the_sources_test_rows():
    from models import data

    sources = ("sms_spam_collection.csv", "youtube_spam_collection_4videos.csv")  # sorted after "moderator_labels"
    rows = [data.Row(f"{s} {i}", s, {"toxicity": i % 2}, stratum=str(i % 2)) for s in sources for i in range(40)]
    labels = [data.Row(f"label {i}", "moderator_labels", {"toxicity": 1.0}, stratum="x") for i in range(30)]
    _, _, test = data.split(rows, (0.1, 0.15))
    _, _, test_with_labels = data.split(rows + labels, (0.1, 0.15))
    assert test and [r for r in test_with_labels if r.source != "moderator_labels"] == test


def test_praise_of_the_site_is_paired_with_the_same_opener_and_a_remark_on_the_story():
    from models import data

    pairs = data.praise_rows()
    assert pairs == data.praise_rows()  # reproducible
    spam = [text for text, is_spam in pairs if is_spam]
    honest = [text for text, is_spam in pairs if not is_spam]
    assert len(spam) == len(honest)
    assert all(any(r.lower() in t.lower() for r in data.PRAISE_OF_THE_SITE) for t in spam)
    assert all(any(r.lower() in t.lower() for r in data.REMARKS_ON_THE_STORY) for t in honest)
    # Each spam row's twin opens the same way, so praise itself is no sign of spam; and no row has a link.
    for (spam_text, first), (honest_text, second) in zip(pairs[::2], pairs[1::2], strict=True):
        assert first and not second
        opener = next(o for o in data.PRAISE_OPENERS if spam_text.lower().startswith(o.lower()))
        assert honest_text.lower().startswith(opener.lower())
    assert not any(data.LINK.search(text) for text, _ in pairs)
    assert not set(spam) & {r.text for r in data.functional_rows(["promotion_pairs"])}  # off unless asked for
    rows = {r.text: r for r in data.functional_rows(["praise_pairs"])}
    assert all(rows[t].targets["spam"] == 1.0 and rows[t].stratum == "site_praise_spam" for t in spam)
    assert all(rows[t].targets["spam"] == 0.0 and rows[t].stratum == "honest_comment" for t in honest)


def test_hate_said_of_things_is_no_attack_and_said_of_the_reader_attacks_no_identity():
    from models import data

    shipped = data.functional_rows(["promotion_pairs", "praise_pairs"])
    assert not any("Mondays" in r.text for r in shipped)  # off unless asked for
    rows = {r.text: r for r in data.functional_rows(["hate_word_rows"])}
    things = [r for r in rows.values() if r.stratum == "hate_not_people"]
    assert len(things) == len(data.HATED_THINGS) * len(data.HATING_THINGS) + len(data.TALK_OF_HATE)
    assert all(set(r.targets.values()) == {0.0} for r in things)
    assert set(rows["I hate Mondays."].targets.values()) == {0.0}
    reader = rows["Everyone here hates you, you idiot."]
    assert reader.stratum == "abuse_not_identity"
    assert reader.targets["toxicity"] == 1.0 and reader.targets["identity_attack"] == 0.0
    # No thing hated is a group of people: those rows would teach that hating a group is fine.
    assert not any(data.IDENTITY_PATTERN.search(r.text) for r in things)


def test_ordinary_insults_in_the_slur_frames_are_toxic_but_attack_no_identity(monkeypatch):
    from models import data

    assert not any(r.stratum == "insult_in_slur_frame" for r in data.functional_rows())  # off unless asked for
    rows = {r.text: r for r in data.functional_rows(["insult_contrast_rows"])}
    insults = [r for r in rows.values() if r.stratum == "insult_in_slur_frame"]
    assert len(insults) == len(data.ORDINARY_INSULTS) * len(data.INSULT_FRAMES)
    assert all(r.targets == {"toxicity": 1.0, "identity_attack": 0.0, "profanity": 0.0, "spam": 0.0} for r in insults)
    # The same frames carry the slurs, labelled as identity attacks: that contrast is the point of the rows.
    assert rows["you're a muppet"].targets["identity_attack"] == 0.0
    slur = data.slurs()[0]
    assert rows[f"you're a {slur}"].targets["identity_attack"] == 1.0
    assert "you're an idiot" in rows and not any(re.search(r"\ba [aeiou]", r.text) for r in insults)
    # No insult names or slurs an identity.
    words = {w for r in insults for w in re.findall(r"[a-z-]+", r.text.lower())}
    assert not words & set(data.slurs()) and not any(data.IDENTITY_PATTERN.search(r.text) for r in insults)
    # bench/insult_probe.py measures the rows on insults no row has: none of its sentences may be a training row.
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "bench"))
    from insult_probe import probe_sentences

    every = data.template_rows(3, data.OPTIONAL_ROWS)
    trained = " ".join(r.text.lower() for r in every)
    assert "halfwit" not in trained and "dimwit" not in trained
    probes = [text for texts in probe_sentences().values() for text in texts]
    insult_recipe = data.template_rows(3, ["promotion_pairs", "praise_pairs", "insult_contrast_rows"])
    assert len(probes) == 33 and not set(probes) & {r.text for r in insult_recipe}
    assert set(probes) & {r.text for r in every} == {"I hate Mondays."}  # the "hate" rows' own example
    from models.card import template_counts  # the card counts them only in a recipe that had them

    assert template_counts(["insult_contrast_rows"])["insult_in_slur_frame"] == len(insults)
    assert "insult_in_slur_frame" not in template_counts()


def test_each_optional_row_set_is_named_by_the_recipe_switch_that_adds_it():
    from dataclasses import replace

    from models import data
    from models.train import TrainConfig, optional_rows

    shipped = TrainConfig(version="t")
    assert all(isinstance(getattr(shipped, name), bool) for name in data.OPTIONAL_ROWS)
    assert optional_rows(shipped) == ["promotion_pairs", "praise_pairs"]
    switched = replace(shipped, praise_pairs=False, hate_word_rows=True)
    assert optional_rows(switched) == ["promotion_pairs", "hate_word_rows"]
    # Each set adds rows of its own, and a misspelt or unknown name fails rather than adding nothing.
    base = {r.text for r in data.functional_rows()}
    assert all({r.text for r in data.functional_rows([name])} - base for name in data.OPTIONAL_ROWS)
    with pytest.raises(ValueError, match="hate_words"):
        data.functional_rows(["hate_words"])


def test_the_hand_written_seed_redraws_which_rows_a_cheapened_run_keeps_and_nothing_else():
    from dataclasses import replace

    from models.train import TrainConfig, sampled_templates

    cheap = replace(TrainConfig(version="t"), cap_scale=0.3)
    own = [r.text for r in sampled_templates(cheap)]
    assert [r.text for r in sampled_templates(replace(cheap, hand_written_seed=cheap.seed))] == own  # unset: the seed
    control = [r.text for r in sampled_templates(replace(cheap, hand_written_seed=cheap.seed + 100))]
    assert len(control) == len(own) and len(set(control) ^ set(own)) > len(own) // 4  # the same count, other rows
    # In full every row is kept, whatever the draw: only their order differs.
    full = TrainConfig(version="t")
    redrawn = [r.text for r in sampled_templates(replace(full, hand_written_seed=full.seed + 100))]
    assert sorted(redrawn) == sorted(r.text for r in sampled_templates(full))


def test_a_row_weight_reaches_exactly_its_sets_rows_and_survives_formatting_and_sentence_rows():
    from dataclasses import replace

    from models import data
    from models.train import TrainConfig, sampled_templates, sentence_rows

    hate_only = {r.text for r in data.functional_rows(["hate_word_rows"])} - {r.text for r in data.functional_rows()}
    config = replace(TrainConfig(version="t"), hate_word_rows=True, row_weights={"hate_word_rows": 0.3})
    rows = sampled_templates(config)
    light = {r.text for r in rows if r.weight != 1.0}
    assert light == hate_only and {r.weight for r in rows if r.text in light} == {0.3}
    # Without a weight the same rows weigh 1, as every row did before weights existed.
    assert all(r.weight == 1.0 for r in sampled_templates(replace(config, row_weights={})))
    # A light row keeps its weight when given tweet formatting, and so does its sentence trained alone.
    row = data.Row("I hate Mondays. So slow. Win a prize at example.com now!", "x", {"spam": 0.0}, weight=0.3)
    formatted = data.with_platform_formatting([replace(row, targets={"toxicity": 0.0, "spam": 0.0})], 1.0, 13)
    assert formatted[0].text != row.text and formatted[0].weight == 0.3

    class FirstSentence:  # stands in for the n-gram model: picks each text's first sentence
        labels = ("spam",)

    import models.train as train_module

    def first(texts, lexical, label):
        return [t.split(". ")[0] for t in texts], list(range(len(texts)))

    original, train_module.most_suspicious = train_module.most_suspicious, first
    try:
        alone = sentence_rows([row], FirstSentence(), ("spam",))  # type: ignore[arg-type]
    finally:
        train_module.most_suspicious = original
    assert [(r.text, r.weight) for r in alone] == [("I hate Mondays", 0.3)]
    # A weight for a set the recipe does not add, an unknown set or a weight out of (0, 1] fails, not ignored.
    with pytest.raises(ValueError, match="does not add"):
        data.functional_rows([], {"hate_word_rows": 0.3})
    with pytest.raises(ValueError, match="hate_words"):
        data.functional_rows(["hate_word_rows"], {"hate_words": 0.3})
    for weight in (0.0, 1e-300, 1.5):  # 1e-300 would be 0 in the float32 loss
        with pytest.raises(ValueError, match="must be from 1e-06 to 1"):
            data.functional_rows(["hate_word_rows"], {"hate_word_rows": weight})


def test_a_rows_weight_scales_its_share_of_the_loss_and_weights_of_one_change_nothing():
    import torch

    from models.train import batch_loss

    logits = torch.tensor([[2.0, -1.0], [0.5, 0.0], [-3.0, 1.0]], requires_grad=True)
    y = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # the second row says nothing of the second label
    each = torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none")
    # Weights of one give the mean over the labels each row has, bit for bit as before weights existed.
    assert torch.equal(batch_loss(logits, y, mask, torch.ones(3, 1)), (each * mask).sum() / mask.sum())
    batch_loss(logits, y, mask, torch.tensor([[1.0], [0.25], [1.0]])).backward()
    weighted = logits.grad.clone()
    logits.grad = None
    batch_loss(logits, y, mask, torch.ones(3, 1)).backward()
    # A quarter-weight row moves its logits a quarter as far; the others, and the divisor (the count), are unchanged.
    assert torch.allclose(weighted[1], 0.25 * logits.grad[1]) and torch.equal(weighted[[0, 2]], logits.grad[[0, 2]])


def test_a_lighter_row_pulls_the_score_toward_its_target_less():
    import torch

    from models.data import Row
    from models.encoder import Encoder
    from models.train import ModerationNet, TrainConfig, fit, freeze_lower_layers, logits_of

    # The same texts taught toxic at weight 1 and clean at `weight`: the lighter the clean rows, the more toxic.
    texts = [f"The parade went down {street} at noon." for street in ("Elm", "Oak", "Main", "High", "Mill", "Pine")]

    def toxicity_after_training(weight: float) -> float:
        torch.manual_seed(13)
        net = ModerationNet(Encoder(max_length=32), 4)
        freeze_lower_layers(net, 2)
        toxic = [Row(t, "s", {"toxicity": 1.0}) for t in texts]
        clean = [Row(t, "s", {"toxicity": 0.0}, weight=weight) for t in texts]
        fit(net, toxic + clean, TrainConfig("t", epochs=10, batch_size=4, max_length=32), log=False)
        return float(torch.sigmoid(torch.from_numpy(logits_of(net, texts, 32)[:, 0])).mean())

    lighter, even = toxicity_after_training(0.2), toxicity_after_training(1.0)
    assert lighter > even + 0.15, (lighter, even)


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason="shared training data not present")
def test_the_hand_written_rows_scale_with_the_caps_in_training_and_in_every_fold(monkeypatch):
    from dataclasses import replace

    from models import data, evaluate
    from models.train import TrainConfig, sampled_templates

    config = TrainConfig(version="t")
    full = data.template_rows(spam_repeats=3, optional=["promotion_pairs", "praise_pairs"])  # the shipped recipe's
    assert len(sampled_templates(config)) == len(full)
    small = replace(config, cap_scale=0.05)
    assert len(sampled_templates(small)) == int(len(full) * 0.05)

    class Trained(Exception):
        """Raised where the fold would start training."""

    def build(config, train_rows, valid_rows, log):  # stands in for training: only what it is given matters
        seen.append([r for r in train_rows if r.source.endswith("_templates")])
        raise Trained

    seen: list[list[data.Row]] = []
    monkeypatch.setattr(evaluate, "build", build)
    with pytest.raises(Trained):
        evaluate.leave_one_source_out(DATA_DIR, small, log=False)
    assert seen == [sampled_templates(small)]


def test_the_folds_retrain_with_the_artifacts_own_recipe_at_the_requested_size(tmp_path):
    from models.evaluate import loso_config_for

    training = {"trainable_layers": 2, "epochs": 2, "cap_scale": 1.0, "encoder_lr": 1e-5, "extra_labels": "x.csv"}
    (tmp_path / CONFIG_FILE).write_text(json.dumps({"training": training | {"a_future_setting": 1}}))
    config = loso_config_for(tmp_path, epochs=1, cap_scale=0.3)
    assert (config.trainable_layers, config.encoder_lr, config.epochs, config.cap_scale) == (2, 1e-5, 1, 0.3)
    assert config.extra_labels is None  # moderators' labels are not a source with a fold
    assert config.balance_identity is False  # a recipe recorded before the option existed ran without it
    (tmp_path / CONFIG_FILE).write_text(json.dumps({"training": training | {"balance_identity": True}}))
    assert loso_config_for(tmp_path, epochs=1, cap_scale=0.3).balance_identity is True
    assert config.balance_hate_word is False
    (tmp_path / CONFIG_FILE).write_text(json.dumps({"training": training | {"balance_hate_word": True}}))
    assert loso_config_for(tmp_path, epochs=1, cap_scale=0.3).balance_hate_word is True
    (tmp_path / CONFIG_FILE).write_text(json.dumps({"training": training | {"sentence_gate": -4.0}}))
    assert loso_config_for(tmp_path, epochs=1, cap_scale=0.3).sentence_gate == -4.0


def test_folds_run_alone_join_their_recipes_entry_and_replace_only_the_same_folds():
    from dataclasses import replace

    from models.evaluate import merged_runs
    from models.train import TrainConfig

    cheap, full = TrainConfig(version="loso", epochs=1, cap_scale=0.3), TrainConfig(version="loso")
    runs = merged_runs([], full, [{"held_out": "a", "roc_auc": 0.9}, {"held_out": "b", "roc_auc": 0.8}])
    runs = merged_runs(runs, cheap, [{"held_out": "a", "roc_auc": 0.7}])
    runs = merged_runs(runs, replace(full), [{"held_out": "b", "roc_auc": 0.95}])
    assert [run["training"]["cap_scale"] for run in runs] == [1.0, 0.3]
    assert runs[0]["folds"] == [{"held_out": "a", "roc_auc": 0.9}, {"held_out": "b", "roc_auc": 0.95}]
    assert runs[1]["folds"] == [{"held_out": "a", "roc_auc": 0.7}]
    assert json.loads(json.dumps(runs)) == runs  # stored as evaluation.json stores it
    # stored before a switch existed (it ran with it off): the same recipe as a run with it off
    without = replace(full, sentence_rows=False)
    stored = merged_runs([], without, [])[0]["training"]
    older = [{"training": {k: v for k, v in stored.items() if k != "sentence_rows"}, "folds": []}]
    assert len(merged_runs(older, without, [{"held_out": "c", "roc_auc": 0.9}])) == 1
    assert len(merged_runs(older, replace(full, sentence_rows=True), [{"held_out": "c", "roc_auc": 0.9}])) == 2


def test_a_fold_run_that_differs_only_in_the_passage_size_measured_the_same_recipe():
    from dataclasses import replace

    from models.card import passage_lines, recipe_differences
    from models.evaluate import merged_runs
    from models.train import TrainConfig

    # A fold scores a comment's first training tokens and never a passage: a run stored before the passage size
    # was recorded (so 25 words) measured what a recipe at 80 measures.
    v21 = TrainConfig(version="loso", epochs=1, cap_scale=0.3)
    stored = merged_runs([], replace(v21, passage_words=25), [])[0]["training"]
    older = [{"training": {k: v for k, v in stored.items() if k != "passage_words"}, "folds": [{"held_out": "a"}]}]
    merged = merged_runs(older, v21, [{"held_out": "b"}])
    assert len(merged) == 1 and merged[0]["folds"] == [{"held_out": "a"}, {"held_out": "b"}]
    assert recipe_differences(older[0]["training"], merged[0]["training"]) == []
    assert recipe_differences(older[0]["training"], merged[0]["training"] | {"sentence_gate": -4.0}) != []
    # the card says which size an artifact's thresholds were fitted to: 25 for one that records none
    assert "worst passage of about 25 words" in " ".join(passage_lines({}))
    assert "worst passage of about 80 words" in " ".join(passage_lines({"passage_words": 80}))
    # A recipe that trains on passages reads them in training too: there the size makes another recipe.
    on_passages = replace(v21, spliced_passage_rows=True)
    trained_25 = merged_runs([], replace(on_passages, passage_words=25), [{"held_out": "a"}])
    assert len(merged_runs(trained_25, on_passages, [{"held_out": "b"}])) == 2
    assert recipe_differences(trained_25[0]["training"], merged_runs([], on_passages, [])[0]["training"]) == [
        "`passage_words` 25 (the artifact: 80)"
    ]


def test_the_identity_false_positive_rate_is_also_compared_within_each_source():
    import numpy as np

    from models.data import Row
    from models.evaluate import identity_probe
    from models.train import TRAINED_LABELS

    # One source flags every non-toxic comment, the other none: overall, naming an identity looks 3x as risky
    # (its comments come mostly from the first), while within each source it makes no difference.
    texts = [("a", "gay people marched today", 0.9), ("a", "gay couples wed", 0.9), ("a", "the rain fell", 0.9)]
    texts += [("b", "muslim neighbours cooked", 0.1), ("b", "the bus was late", 0.1), ("b", "a quiet day", 0.1)]
    texts += [("b", "what a lovely talk", 0.1), ("b", "dreadful idiot", 0.9)]
    rows = [Row(text, source, {"toxicity": float(text == "dreadful idiot")}) for source, text, _ in texts]
    probs = np.zeros((len(rows), len(TRAINED_LABELS)))
    probs[:, TRAINED_LABELS.index("toxicity")] = [score for *_, score in texts]
    probe = identity_probe(rows, probs, threshold=0.5)
    assert probe["non_toxic_naming_identity"]["false_positive_rate"] == round(2 / 3, 4)
    assert probe["non_toxic"]["false_positive_rate"] == round(3 / 7, 4)
    assert probe["by_source"] == {
        "a": {
            "naming_identity": {"n": 2, "false_positive_rate": 1.0},
            "naming_none": {"n": 1, "false_positive_rate": 1.0},
        },
        "b": {
            "naming_identity": {"n": 1, "false_positive_rate": 0.0},
            "naming_none": {"n": 3, "false_positive_rate": 0.0},
        },
    }


def test_a_left_out_sources_clean_comments_are_counted_flagged_by_whether_they_name_an_identity():
    import numpy as np

    from models.card import loso_summary
    from models.data import Row
    from models.evaluate import held_out_identity_fpr

    texts = [("Gay couples wed in the town hall.", 0, 0.8), ("Muslim families cooked for the fair.", 0, 0.2)]
    texts += [("The bus was late again.", 0, 0.9), ("A quiet day at the library.", 0, 0.1)]
    texts += [("Lovely weather for the parade.", 0, 0.3), ("You gay idiot.", 1, 0.95)]
    rows = [Row(text, "wikipedia_toxicity_identity_testsubset.csv", {"toxicity": float(y)}) for text, y, _ in texts]
    rows.append(Row("Black and white photos of the mill.", "x_templates", {"toxicity": 0.0}))  # hand-written: never
    scores = np.array([p for *_, p in texts] + [0.99])
    identity = held_out_identity_fpr(rows, scores, threshold=0.67)
    assert identity == {
        "naming_identity": {"n": 2, "flagged": 1, "false_positive_rate": 0.5},
        "naming_none": {"n": 3, "flagged": 1, "false_positive_rate": round(1 / 3, 4)},
    }
    fold = {"held_out": "wikipedia_toxicity_identity_testsubset.csv", "label": "toxicity", "roc_auc": 0.95}
    line = loso_summary([fold | {"identity": identity}])[-1]
    assert line.endswith("naming an identity 1 of 2 (0.500), naming none 1 of 3 (0.333).")


def test_bias_aucs_catch_a_model_that_scores_naming_an_identity_as_toxic():
    from models.data import Row
    from models.evaluate import bias_aucs

    def row(text: str, toxic: int) -> Row:
        return Row(text, "wikipedia_toxicity_identity_testsubset.csv", {"toxicity": float(toxic)})

    rows = [
        row("You are an idiot.", 1),
        row("Shut up, moron.", 1),
        row("Gay people are a disease.", 1),
        row("Nice article about the park.", 0),
        row("Thanks for the update.", 0),
        row("I am a proud gay man.", 0),
        row("My neighbour is Muslim.", 0),
        Row("I am gay.", "identity_templates", {"toxicity": 0.0}),  # synthetic rows are never measured
    ]
    fair = bias_aucs(rows, np.array([0.9, 0.8, 0.95, 0.1, 0.2, 0.1, 0.15, 0.99]))
    assert fair == {"subgroup_auc": 1.0, "bpsn_auc": 1.0, "bnsp_auc": 1.0, "background_auc": 1.0}
    # The same ranking among comments naming no identity, but naming one pushes the score up: only the
    # measures that mix the two kinds fall.
    biased = bias_aucs(rows, np.array([0.9, 0.8, 0.95, 0.1, 0.2, 0.85, 0.92, 0.0]))
    assert biased["background_auc"] == 1.0
    assert biased["bpsn_auc"] == 0.25  # of the four toxic-vs-mention pairs, only 0.9 over 0.85 is ordered right
    assert biased["subgroup_auc"] == 1.0 and biased["bnsp_auc"] == 1.0


def toxicity_row(text: str, toxic: int, source: str = "wikipedia_talk_toxicity_cat.csv") -> Any:
    from models.data import Row

    return Row(text, source, {"toxicity": float(toxic)}, stratum=str(toxic))


def check_given_back(kept: list[Any], added: list[Any], pattern: Any) -> tuple[float, float]:
    """Every row given back is clean, matches `pattern` and was not kept; returns the toxic share among the rows
    matching it once given back, and the kept rows' overall share."""
    assert all(r.label("toxicity") == 0 and pattern.search(r.text) for r in added)
    assert not {r.text for r in added} & {r.text for r in kept}
    matching = [r for r in kept + added if pattern.search(r.text)]
    share = sum(r.label("toxicity") for r in matching) / len(matching)
    return share, sum(r.label("toxicity") for r in kept) / len(kept)


def test_the_caps_give_back_clean_comments_naming_an_identity_until_naming_one_is_no_more_toxic_than_average():
    import random

    from models.data import IDENTITY_PATTERN, balance_identity_mentions

    row = toxicity_row
    toxic = [row(f"Muslims are scum {i}", 1) for i in range(5)] + [row(f"you idiot {i}", 1) for i in range(5)]
    clean = [row(f"thanks for the edit {i}", 0) for i in range(30)]
    clean_naming = [row(f"I am a Muslim editor {i}", 0) for i in range(40)]
    kept = toxic + clean + clean_naming[:5]  # what a cap might keep: 10 toxic of 45, 5 of the 10 naming one
    added = balance_identity_mentions(toxic + clean + clean_naming, kept, random.Random(1))

    share, overall = check_given_back(kept, added, IDENTITY_PATTERN)
    assert len(added) == 13 and share <= overall  # 10/45 overall: 13 more make it 5/23
    # A source where naming an identity is already no more toxic than the rest gets nothing back.
    assert balance_identity_mentions(clean_naming, clean_naming[:5] + toxic[5:] + clean, random.Random(1)) == []


def test_the_caps_give_back_clean_comments_saying_hate_until_saying_it_is_no_more_toxic_than_average():
    import random

    from models.data import HATE_WORD, balance_hate_word_mentions

    def row(text: str, toxic: int) -> Any:
        return toxicity_row(text, toxic, "davidson_hate_offensive_tweets.csv")

    toxic = [row(f"I hate you, you fool {i}", 1) for i in range(6)] + [row(f"shut up idiot {i}", 1) for i in range(4)]
    clean = [row(f"lovely weather today {i}", 0) for i in range(30)]
    clean_saying = [row(f"I hate Mondays and traffic {i}", 0) for i in range(40)]
    naming_someone = [row(f"I am a Muslim editor {i}", 0) for i in range(10)]  # an identity, not "hate"
    kept = toxic + clean + clean_saying[:2]  # 10 toxic of 42; 6 of the 8 saying "hate"
    added = balance_hate_word_mentions(toxic + clean + clean_saying + naming_someone, kept, random.Random(1))

    share, overall = check_given_back(kept, added, HATE_WORD)
    assert len(added) == 18 and share <= overall  # 10/42 overall: 6 toxic need 26 saying it, 18 more
    assert not HATE_WORD.search("the hat is whatever; chateau") and HATE_WORD.search("Hatred. HATERS hating")
    # A toxic row saying it that the cap dropped is never given back, nor anything when no clean one is left.
    dropped_toxic = [row(f"I hate you all {i}", 1) for i in range(20)]
    again = balance_hate_word_mentions(toxic + clean + dropped_toxic + clean_saying[:2], kept, random.Random(1))
    assert again == []


def test_the_fixed_split_draws_the_artifacts_own_sample_but_the_unseen_sources_get_nothing_given_back(tmp_path):
    """Given back, rows reshuffle the training split, which the test split must follow; the unseen sources were
    never trained on, so every artifact is measured on the same unseen rows."""
    from models import data
    from models.evaluate import fixed_split_rows

    training = {"cap_scale": 0.05, "seed": 13, "balance_identity": False, "tweet_spam_targets": False}

    def drawn(**switches: bool) -> tuple[list[data.Row], list[data.Row]]:
        (tmp_path / CONFIG_FILE).write_text(json.dumps({"training": training | switches}))
        return fixed_split_rows(tmp_path, DATA_DIR)

    plain_test, plain_unseen = drawn()
    given_test, given_unseen = drawn(balance_hate_word=True)
    rows = data.load_rows(DATA_DIR, cap_scale=0.05, seed=13, balance_hate_word=True, tweet_spam_targets=False)
    assert [r.text for r in given_test] == [r.text for r in data.split(rows, (0.1, 0.15), seed=13)[2]]
    assert [r.text for r in given_test] != [r.text for r in plain_test]
    assert plain_unseen and [r.text for r in given_unseen] == [r.text for r in plain_unseen]
    assert [r.text for r in drawn(balance_identity=True)[1]] == [r.text for r in plain_unseen]


def test_only_clean_comments_naming_an_identity_get_a_counterfactual_naming_none():
    from models.data import IDENTITY_PATTERN, NEUTRAL_PLURAL, NEUTRAL_SINGULAR, Row, counterfactuals

    rows = [
        Row("As a gay man and a Muslim I liked this piece.", "civil", {"toxicity": 0.0}),
        Row("Immigrants built this town.", "civil", {"toxicity": 0.2}),  # soft target under one half: clean
        Row("Muslims are a disease.", "identity_templates", {"toxicity": 1.0, "identity_attack": 1.0}),
        Row("Asians should go back home.", "identity_templates", {"toxicity": 0.4, "identity_attack": 1.0}),
        Row("You are an idiot, gay or not.", "civil", {"toxicity": 0.9}),
        Row("Thanks for the update on the park.", "civil", {"toxicity": 0.0}),
        Row("Subscribe to my channel, white boy!", "youtube", {"spam": 1.0}),  # says nothing about toxicity
    ]
    pairs = counterfactuals(rows, seed=13)
    assert set(pairs) == {0, 1}
    assert pairs == counterfactuals(rows, seed=13)  # the same twins in every run of a recipe
    assert not any(IDENTITY_PATTERN.search(text) for text in pairs.values())
    first = re.fullmatch(r"As a (\w+) man and a (\w+) I liked this piece\.", pairs[0])
    assert first and {first[1], first[2]} <= set(NEUTRAL_SINGULAR)  # one word for one, in the same place
    plural = re.fullmatch(r"(\w+) built this town\.", pairs[1])
    assert plural and plural[1] in NEUTRAL_PLURAL


def test_counterfactual_pairing_narrows_the_gap_between_naming_an_identity_and_naming_none():
    from dataclasses import replace

    from models.data import Row, counterfactuals
    from models.encoder import Encoder
    from models.train import ModerationNet, TrainConfig, fit, freeze_lower_layers, logits_of

    # Every toxic comment names a group, so the plain loss learns the group's name as a sign of toxicity.
    groups = ("Muslim", "gay", "Black", "Jewish", "Mexican", "Asian", "disabled", "transgender")
    toxic = [f"{g} people like you are filthy vermin, {i}" for i in range(3) for g in groups]
    clean = [f"My {g} neighbour fixed the fence on day {i}." for i in range(3) for g in groups]
    rows = [Row(t, "s", {"toxicity": 1.0}) for t in toxic] + [Row(t, "s", {"toxicity": 0.0}) for t in clean]
    pairs = counterfactuals(rows, seed=13)
    assert len(pairs) == len(clean)

    def gap(weight: float, training_rows: list[Row] = rows) -> float:
        import torch

        torch.manual_seed(13)
        net = ModerationNet(Encoder(max_length=32), 4)
        freeze_lower_layers(net, 2)
        config = TrainConfig("t", epochs=3, batch_size=16, max_length=32, counterfactual_pairing=weight)
        fit(net, training_rows, config, log=False)
        named = logits_of(net, [rows[i].text for i in pairs], 32)
        unnamed = logits_of(net, list(pairs.values()), 32)
        return float(np.abs(named[:, 0] - unnamed[:, 0]).mean())  # toxicity, the only label these rows teach

    assert gap(10.0) < 0.5 * gap(0.0)
    # A paired row at a placebo weight ties its pair next to nothing, as it teaches next to nothing else.
    light = [replace(r, weight=0.000001) if i in pairs else r for i, r in enumerate(rows)]
    assert gap(10.0, light) > 0.8 * gap(0.0, light)


def test_the_counterfactual_probe_compares_each_clean_comment_naming_an_identity_with_itself_naming_none():
    from models.data import IDENTITY_PATTERN, Row
    from models.evaluate import counterfactual_probe

    class NamesRaiseTheScore:  # a model whose only bias is the names: 0.8 with one, 0.1 without
        def score(self, texts: list[str]) -> list[dict[str, float]]:
            return [{"toxicity": 0.8 if IDENTITY_PATTERN.search(t) else 0.1} for t in texts]

    rows = [
        Row("My Muslim neighbour fixed the fence.", "s", {"toxicity": 0.0}),
        Row("Gay couples can marry here since 2014.", "s", {"toxicity": 0.0}),
        Row("Asian food is the best in town.", "s", {"toxicity": 0.0}),
        Row("Thanks for the update.", "s", {"toxicity": 0.0}),  # names nobody
        Row("Muslims are a disease.", "s", {"toxicity": 1.0}),  # not clean
        Row("I am a gay man.", "identity_templates", {"toxicity": 0.0}),  # hand-written: never measured
    ]
    probe = counterfactual_probe(NamesRaiseTheScore(), rows, threshold=0.5)
    assert probe["n"] == 3 and probe["false_positive_rate_named"] == 1.0
    assert probe["false_positive_rate_neutral"] == 0.0 and probe["share_raised"] == 1.0
    assert probe["mean_log_odds_raise"] == pytest.approx(np.log(0.8 / 0.2) - np.log(0.1 / 0.9), abs=1e-4)
    assert counterfactual_probe(NamesRaiseTheScore(), rows[3:4], 0.5) == {"n": 0}


def test_a_fold_run_kept_from_an_earlier_recipe_is_labelled_as_not_this_artifacts():
    from models.card import recipe_line

    shipped = {
        "epochs": 2,
        "cap_scale": 1.0,
        "trainable_layers": 6,
        "lexical_labels": ["spam"],
        "lexical_digits": "runs",
    }
    same = {**shipped, "version": "loso", "extra_labels": None}
    assert recipe_line(same, shipped).startswith(
        "Retrained without the held-out source with the artifact's full recipe"
    )
    # v14's recipe recorded its digit reading as a flag: compared in today's terms, not as two unrelated keys.
    v14 = {k: v for k, v in same.items() if k != "lexical_digits"} | {"lexical_digit_shapes": True, "cap_scale": 0.3}
    line = recipe_line(v14, shipped)
    assert line.startswith("Not this artifact's recipe: it differs in `lexical_digits` 'each' (the artifact: 'runs').")
    assert "with that recipe, cheapened: 2 epoch(s), caps x0.3" in line
    # v17's switches did not exist before it: an older run had them off, and reads so.
    v17 = shipped | {"linkless_tweets_as_ham": True, "praise_pairs": True}
    line = recipe_line(same, v17)
    assert "`linkless_tweets_as_ham` False (the artifact: True), `praise_pairs` False (the artifact: True)." in line
    assert recipe_line(same | {"praise_pairs": False}, shipped).startswith("Retrained without the held-out source with")


def test_the_card_lists_the_artifacts_own_fold_runs_before_those_kept_from_an_earlier_recipe(tmp_path):
    from models.card import write_card
    from models.paths import default_artifact_dir

    # The shipped artifact's config and evaluation, its kept runs ordered earlier recipe first and given one run of
    # each kind: its own recipe in full and cheapened, and an earlier recipe's.
    config = json.loads((default_artifact_dir() / CONFIG_FILE).read_text())
    evaluation = json.loads((default_artifact_dir() / "evaluation.json").read_text())
    fold = a_fold_result(evaluation)
    recipe = config["training"] | {"version": "loso"}
    evaluation["leave_one_source_out_selected"] = [
        {"training": recipe | {"sentence_labels": [], "praise_pairs": False}, "folds": [fold]},
        {"training": recipe | {"epochs": 1, "cap_scale": 0.3}, "folds": [fold]},
        {"training": recipe, "folds": [fold]},
    ]
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config))
    (tmp_path / "evaluation.json").write_text(json.dumps(evaluation))
    card = write_card(tmp_path)
    own = card.index("## Leave one source out, selected folds\n")
    cheapened = card.index("## Leave one source out, selected folds, cheapened\n")
    earlier = card.index("## Leave one source out, selected folds, an earlier recipe\n")
    assert own < cheapened < earlier
    assert "with the artifact's recipe, cheapened: 1 epoch(s), caps x0.3" in card[cheapened:earlier]
    assert card[own:earlier].count("Not this artifact's recipe") == 0
    assert card[earlier:].startswith(
        "## Leave one source out, selected folds, an earlier recipe\n\nNot this artifact's recipe: it differs in"
    )


def a_fold_result(evaluation: dict) -> dict:
    """One fold's result as the shipped evaluation stores it: of a run of selected folds, else of the full table."""
    runs = evaluation.get("leave_one_source_out_selected") or [evaluation["leave_one_source_out"]]
    return dict(runs[0]["folds"][0])


def shipped_card_inputs() -> tuple[dict, dict, dict, dict]:
    """The shipped artifact's config and evaluation, one of its fold results as a template, and its recipe cheapened."""
    from models.paths import default_artifact_dir

    config = json.loads((default_artifact_dir() / CONFIG_FILE).read_text())
    evaluation = json.loads((default_artifact_dir() / "evaluation.json").read_text())
    template = a_fold_result(evaluation)
    return config, evaluation, template, config["training"] | {"version": "loso", "epochs": 1, "cap_scale": 0.3}


def test_the_card_sets_the_artifacts_recipe_at_other_seeds_beside_its_own_and_not_as_another_recipe(tmp_path):
    from models.card import MEAN_FOLDS, write_card

    config, evaluation, template, cheap = shipped_card_inputs()
    seed = cheap["seed"]

    def folds(aucs: list[float]) -> list[dict]:
        return [
            template | {"held_out": name, "label": "toxicity", "roc_auc": auc}
            for name, auc in zip(MEAN_FOLDS, aucs, strict=True)
        ]

    evaluation["leave_one_source_out_selected"] = [
        {"training": cheap, "folds": folds([0.88, 0.80, 0.83, 0.94])},
        {"training": cheap | {"seed": seed + 1}, "folds": folds([0.86, 0.78, 0.82, 0.93])},
        # Another recipe at another seed is still another recipe: not among the seeds.
        {"training": cheap | {"seed": seed + 2, "praise_pairs": False}, "folds": folds([0.5, 0.5, 0.5, 0.5])},
    ]
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config))
    (tmp_path / "evaluation.json").write_text(json.dumps(evaluation))
    card = write_card(tmp_path)
    heading = f"## Leave one source out, selected folds, cheapened, seed {seed + 1}\n\n"
    assert heading in card
    assert card.split(heading)[1].startswith(f"At training seed {seed + 1} (the artifact's: {seed}), which also draws")
    # Its command reruns that seed, not the artifact's.
    assert f"--loso-epochs 1 --loso-cap-scale 0.3 --loso-seed {seed + 1}`)" in card.split(heading)[1].split("\n\n")[0]
    assert "Not this artifact's recipe" not in card.split(heading)[1].split("\n\n")[0]
    table = card.split("## The same recipe at 2 draws (1 epoch(s), caps x0.3)\n")[1]
    assert f"| held out | seed {seed} | seed {seed + 1} | mean | range |" in table
    assert "| davidson_hate_offensive_tweets.csv | 0.880 | 0.860 | 0.870 | 0.020 |" in table
    # The measure at each seed: (0.88 + 0.80 + 0.83 + 0.94) / 4 and (0.86 + 0.78 + 0.82 + 0.93) / 4.
    assert "| **mean of the 4 English sources with both classes** | 0.863 | 0.848 | 0.855 | 0.015 |" in table
    assert "0.500" not in table


def test_the_card_reads_a_redraw_of_the_hand_written_rows_as_a_draw_of_the_same_recipe(tmp_path):
    from models.card import MEAN_FOLDS, write_card

    config, evaluation, template, cheap = shipped_card_inputs()
    seed = cheap["seed"]
    folds = [template | {"held_out": name, "label": "toxicity", "roc_auc": 0.8} for name in MEAN_FOLDS]
    evaluation["leave_one_source_out_selected"] = [
        {"training": cheap, "folds": folds},
        {"training": cheap | {"hand_written_seed": seed + 100}, "folds": [f | {"roc_auc": 0.78} for f in folds]},
        # Drawn at the training seed, named or not, is the artifact's own draw.
        {"training": cheap | {"hand_written_seed": seed}, "folds": folds[:1]},
    ]
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config))
    (tmp_path / "evaluation.json").write_text(json.dumps(evaluation))
    card = write_card(tmp_path)
    heading = (
        f"## Leave one source out, selected folds, cheapened, seed {seed}, hand-written rows drawn at {seed + 100}"
    )
    section = card.split(heading + "\n\n")[1].split("\n\n")[0]
    assert "Not this artifact's recipe" not in section and "adds none" in section
    assert f"--loso-seed {seed} --loso-hand-written-seed {seed + 100}`)" in section
    assert card.count("## Leave one source out, selected folds, cheapened\n") == 2  # the artifact's draw, twice
    assert card.count("hand-written rows drawn at") == 2  # its heading and its column: nowhere else
    table = card.split("## The same recipe at 2 draws (1 epoch(s), caps x0.3)\n")[1]
    assert f"| held out | seed {seed} | seed {seed}, hand-written rows drawn at {seed + 100} | mean | range |" in table
    assert "| **mean of the 4 English sources with both classes** | 0.800 | 0.780 | 0.790 | 0.020 |" in table


def test_the_cards_full_leave_one_source_out_run_counts_as_the_artifacts_own_seed(tmp_path):
    from models.card import MEAN_FOLDS, write_card

    config, evaluation, template, cheap = shipped_card_inputs()
    # A full table of every toxicity fold and a spam one, built from the shipped fold result (an artifact's card
    # may carry selected folds only).
    named = [(name, "toxicity") for name in MEAN_FOLDS] + [("youtube video Psy", "spam")]
    whole = {"training": cheap, "folds": [template | {"held_out": name, "label": label} for name, label in named]}
    evaluation["leave_one_source_out"] = whole
    fold = next(f for f in whole["folds"] if f["held_out"] == "davidson_hate_offensive_tweets.csv")
    fold["roc_auc"] = 0.871
    evaluation["leave_one_source_out_selected"] = [
        {"training": cheap | {"seed": cheap["seed"] + 1}, "folds": [fold | {"roc_auc": 0.851}]}
    ]
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config))
    (tmp_path / "evaluation.json").write_text(json.dumps(evaluation))
    table = write_card(tmp_path).split("## The same recipe at 2 draws (1 epoch(s), caps x0.3)\n")[1]
    assert "| davidson_hate_offensive_tweets.csv | 0.871 | 0.851 | 0.861 | 0.020 |" in table
    # Folds run at one seed only are the full table's business, not this one's.
    assert "youtube video Psy" not in table

    # A full run of another recipe is not a seed of this one.
    evaluation["leave_one_source_out"]["training"] = cheap | {"praise_pairs": not cheap["praise_pairs"]}
    (tmp_path / "evaluation.json").write_text(json.dumps(evaluation))
    assert "## The same recipe at" not in write_card(tmp_path)


def test_the_folds_can_be_retrained_at_another_seed_from_the_command_line(tmp_path, monkeypatch, capsys):
    import models.evaluate
    from service.cli import main

    (tmp_path / CONFIG_FILE).write_text(json.dumps({"training": {"seed": 13, "epochs": 2, "cap_scale": 1.0}}))
    seen = []

    def evaluate(artifact, data_dir, loso, loso_config, loso_only):  # stands in for the hours of retraining
        seen.append(loso_config)
        return {"fixed": {"identity": {}}}

    monkeypatch.setattr(models.evaluate, "evaluate", evaluate)
    base = ["evaluate", "--data-dir", "d", "--artifact", str(tmp_path), "--loso-only", "x"]
    assert main(base) == 0 and main([*base, "--loso-seed", "14"]) == 0
    assert [c.seed for c in seen] == [13, 14] and {(c.epochs, c.cap_scale) for c in seen} == {(1, 0.3)}
    assert main([*base, "--loso-hand-written-seed", "113"]) == 0
    assert (seen[-1].seed, seen[-1].hand_written_seed) == (13, 113) and seen[0].hand_written_seed is None
    # Drawn at the training seed is the artifact's own draw, stored as it.
    assert main([*base, "--loso-hand-written-seed", "13"]) == 0 and seen[-1].hand_written_seed is None
    # In full every hand-written row is kept: there is nothing to redraw.
    assert main([*base, "--loso-cap-scale", "1", "--loso-hand-written-seed", "113"]) == 2
    assert "at --loso-cap-scale 1 every one is kept" in capsys.readouterr().err
    # Not with the full table (the artifact's own seed's), nor without folds to retrain: refused, nothing run.
    whole = ["evaluate", "--data-dir", "d", "--artifact", str(tmp_path), "--loso", "--loso-seed", "14"]
    assert main(whole) == 2 and main([*whole[:-3], "--loso-seed", "14"]) == 2
    assert main([*base[:-2], "--loso-hand-written-seed", "113"]) == 2
    assert len(seen) == 4 and "--loso-seed retrains the folds named by --loso-only" in capsys.readouterr().err


def test_clean_passage_rows_are_the_scorers_passages_of_long_comments_clean_on_every_label():
    from models.data import Row
    from models.scorer import passages
    from models.train import clean_passage_rows

    calm = " ".join(f"Paragraph {n} of the council minutes lists the budget for the library." for n in range(40))
    rude = calm + " You are an idiot."
    rows = [
        Row(calm, "wiki", {"toxicity": 0.0, "identity_attack": 0.0}, weight=2.0),
        Row(calm, "civil", {"toxicity": 0.2}),  # a soft target under 0.5 is a clean comment
        Row(rude, "wiki", {"toxicity": 1.0}),  # a toxic comment's calm passages are not known to be clean
        Row(calm, "tweets", {"toxicity": 0.0, "profanity": 1.0}),  # clean on one label is not clean
        Row("Short and calm.", "wiki", {"toxicity": 0.0}),  # scored whole: training already reads all of it
    ]
    added = clean_passage_rows(rows, 30)
    pieces = passages(calm, 30)
    assert len(pieces) > 1
    share = 1 / len(pieces)
    assert added == [
        *(Row(piece, "wiki", {"toxicity": 0.0, "identity_attack": 0.0}, weight=2 * share) for piece in pieces),
        *(Row(piece, "civil", {"toxicity": 0.2}, weight=share) for piece in pieces),
    ]


def test_spliced_passage_rows_pair_each_clean_passage_with_itself_plus_a_short_toxic_comment():
    import random

    from models.data import Row
    from models.train import spliced_passage_rows

    minutes = "The council met on Monday. It approved the library budget. The vote was 5 to 2."
    clean = [Row(minutes, "wiki", {"toxicity": 0.0}, weight=0.25)] * 40
    insults = [
        Row("Shut up, you absolute clown.", "tweets", {"toxicity": 0.8, "profanity": 0.0}),
        Row("Nobody wants your garbage here, moron.", "wiki", {"toxicity": 1.0}),
    ]
    too_short, too_long = Row("Idiot.", "wiki", {"toxicity": 1.0}), Row("You clown. " * 20, "wiki", {"toxicity": 1.0})
    rows = [*insults, too_short, too_long, *clean]
    spliced = spliced_passage_rows(clean, rows, random.Random(1), lambda text: True)
    assert len(spliced) == len(clean)
    for row in spliced:
        [insult] = [i for i in insults if i.text in row.text]  # only 20 to 200 characters: never the other two
        # the insult's target on toxicity only; the passage's share of its comment's weight
        assert row.targets == {"toxicity": insult.targets["toxicity"]} and row.weight == 0.25
        assert row.source == "wiki" and row.stratum == "spliced"
        # the passage is otherwise untouched: the insult went in whole at a break, not inside a sentence
        assert " ".join(row.text.replace(insult.text, "").split()) == minutes
        assert row.text.startswith(insult.text) or row.text.partition(insult.text)[0].endswith(". ")
    assert all(any(i.text in r.text for r in spliced) for i in insults)  # an insult is drawn per passage
    starts = {len(r.text.split(i.text)[0]) for r in spliced for i in insults if i.text in r.text}
    assert starts == {0, 27, 59, 80}  # and a break: the start, after each sentence, the end
    # Training cuts at 128 tokens: only breaks where it still reads the whole insult are drawn, else none.
    # Here it "reads" 69 characters: the whole insult fits at the start or after the first sentence only.
    early = spliced_passage_rows(clean, rows, random.Random(1), lambda text: len(text) < 70)
    assert len(early) == len(clean)
    assert {len(r.text.split(i.text)[0]) for r in early for i in insults if i.text in r.text} == {0, 27}
    assert spliced_passage_rows(clean, rows, random.Random(1), lambda text: False) == []
    assert spliced_passage_rows(clean, clean, random.Random(1), lambda text: True) == []  # nothing to splice in


def test_a_recipe_adds_the_clean_passages_their_spliced_pairs_or_both():
    from dataclasses import replace

    from models.data import Row
    from models.scorer import passages
    from models.train import TrainConfig, passage_rows

    calm = " ".join(f"Item {n} of the council minutes lists the budget for the library." for n in range(40))
    rows = [Row(calm, "wiki", {"toxicity": 0.0}), Row("You are a complete idiot, go away.", "wiki", {"toxicity": 1.0})]
    config = TrainConfig(version="test", passage_words=30)
    read_all = lambda text: True  # noqa: E731
    assert passage_rows(rows, config, read_all) == []  # the shipped recipe adds neither
    clean = passage_rows(rows, replace(config, clean_passage_rows=True), read_all)
    spliced = passage_rows(rows, replace(config, spliced_passage_rows=True), read_all)
    both = passage_rows(rows, replace(config, clean_passage_rows=True, spliced_passage_rows=True), read_all)
    assert [r.text for r in clean] == passages(calm, 30)  # at the recipe's passage size
    assert len(spliced) == len(clean) and both == clean + spliced
    assert {r.targets["toxicity"] for r in clean} == {0.0} and {r.targets["toxicity"] for r in spliced} == {1.0}
