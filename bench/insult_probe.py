"""toxicity, identity_attack and profanity of an artifact on sentences written to probe what the hand-written rows
teach, none of them a training row: personal insults (is the frame read as an identity attack?), attacks on a
group with a slur or in plain words (do they stay attacks?), clean comments, and sentences saying "hate" of
things (clean) and of people (toxic). The figures behind TrainConfig.insult_contrast_rows and the "hate" rows at
weight 0.3 (the weight-1 figures in TrainConfig.hate_word_rows came from a first set, of which HATE_CLEAN keeps
the first two). One
exception: "I hate Mondays." is also one of the "hate" rows (TrainConfig.hate_word_rows), kept to show what a model
without them makes of it.

    python bench/insult_probe.py [--artifact DIR] [--precision fp32]

"halfwit" and "dimwit" are in no training row on purpose: they measure the insult rows rather than repeat them.
Last line: key=value pairs (the highest identity_attack on the insults, the lowest on the attacks, the highest
toxicity on the clean "hate" sentences, the lowest on the toxic ones).
"""

from __future__ import annotations

import argparse
import warnings

from models.data import slurs

INSULTS = (
    "You halfwit.",
    "Read the article again before commenting, you dimwit.",
    "Only a nincompoop would believe this.",
    "What a total numbskull this commenter is.",
    "Shut up, you pompous windbag.",
    "you absolute plank",
    "Typical halfwit, always whining about the referee.",
    "get lost you dimwit",
)
# Slurs in sentences no slur row has, then attacks with no slur; slurs are filled in from models.data.slurs().
SLUR_ATTACKS = (
    "Nobody wants a {0} living next door.",
    "My new neighbour is a {1}, disgusting.",
    "the {5}s run this town now",
    "Another {7} took my job.",
)
PLAIN_ATTACKS = (
    "Muslims are a plague on this country.",
    "Women are too stupid to vote.",
    "Gay people shouldn't be allowed near children.",
    "Jews control the media, everyone knows it.",
)
CLEAN = (
    "I hate Mondays.",
    "As a gay man, I thought the article was fair.",
    "The referee was useless today.",
    "Great reporting, thank you.",
)
# Saying "hate" of things (clean) and of people (toxic): the figures behind TrainConfig.hate_word_rows and
# row_weights. Written before the weighted "hate" rows were trained, none a training row; the first two are the
# examples TrainConfig.hate_word_rows quotes.
HATE_CLEAN = (
    "I hate how slow the new ticket machines are.",
    "Everyone in my office hates the open-plan layout.",
    "I hate it when the bus is late again.",
    "My daughter hates broccoli but loves this restaurant.",
    "Hate to say it, but the council got this one right.",
    "I hated the ending of that film.",
    "The hate crime charges were dropped on Friday, the article says.",
    "We hate losing to them every single year.",
)
HATE_ATTACKS = (
    "I hate Muslims and I want them gone.",
    "Honestly I hate gay people, keep them away from my kids.",
    "I hate women who think they can do a man's job.",
    "I hate you and your stupid opinions.",
    "Everyone on this site hates you, crawl back under your rock.",
)


def probe_sentences() -> dict[str, list[str]]:
    named = slurs()
    return {
        "insult": list(INSULTS),
        "attack": [t.format(*named) for t in SLUR_ATTACKS] + list(PLAIN_ATTACKS),
        "clean": list(CLEAN),
        "hate_clean": list(HATE_CLEAN),
        "hate_attack": list(HATE_ATTACKS),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", help="artifact directory (default: the shipped one)")
    parser.add_argument("--precision", default="fp32", help="auto, fp32, bf16 or int8 (default fp32)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import models

    scorer = models.load(args.artifact, precision=args.precision)
    print(f"{scorer.version} ({scorer.precision})")
    worst: dict[str, float] = {}
    for kind, texts in probe_sentences().items():
        scores = scorer.score(texts)
        for index, row in enumerate(scores):
            # The slur sentences are printed by number only, so the output does not put slurs on screen.
            shown = texts[index] if kind != "attack" or index >= len(SLUR_ATTACKS) else f"slur sentence {index + 1}"
            print(
                f"{kind:11} toxicity {row['toxicity']:.2f} identity_attack {row['identity_attack']:.2f}"
                f" profanity {row['profanity']:.2f}  {shown}"
            )
        attack = [row["identity_attack"] for row in scores]
        worst[kind] = max(attack) if kind != "attack" else min(attack)
        toxicity = [row["toxicity"] for row in scores]
        worst[f"{kind}_toxicity"] = min(toxicity) if kind == "hate_attack" else max(toxicity)
    print(
        f"insult_identity_attack_max={worst['insult']:.2f} attack_identity_attack_min={worst['attack']:.2f}"
        f" hate_clean_toxicity_max={worst['hate_clean_toxicity']:.2f}"
        f" hate_attack_toxicity_min={worst['hate_attack_toxicity']:.2f}"
    )


if __name__ == "__main__":
    main()
