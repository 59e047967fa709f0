"""Where the project's data lives, and the one way it is read."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"


@cache
def load_yaml(relative: str) -> Any:
    """The content of ``data/<relative>``, read once; a malformed file names itself."""
    path = DATA_DIR / relative
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: {error}") from None
