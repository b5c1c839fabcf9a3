"""Where the shipped artifacts live and which one is the default."""

from pathlib import Path

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
DEFAULT_VERSION = "v21"


def default_artifact_dir() -> Path:
    return ARTIFACTS_DIR / DEFAULT_VERSION
