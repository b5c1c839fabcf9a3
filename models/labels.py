"""The labels the moderation model can score, in their canonical order."""

LABELS: tuple[str, ...] = (
    "toxicity",
    "severe_toxicity",
    "insult",
    "threat",
    "identity_attack",
    "profanity",
    "spam",
)
