"""The bot's words: every sentence it says comes from ``data/conversation/messages.yml``."""

from __future__ import annotations

from typing import Any

from bot import paths

MESSAGES_FILE = "conversation/messages.yml"


def _entry(key: str) -> Any:
    data = paths.load_yaml(MESSAGES_FILE)
    value: Any = data
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(f"{MESSAGES_FILE}: no message {key!r}")
        value = value[part]
    return value


def _clean(text: str) -> str:
    # Folded YAML keeps a line break only where the file has an empty line or a literal "\n".
    return "\n".join(" ".join(line.split()) for line in str(text).split("\n")).strip()


def say(key: str, **values: Any) -> str:
    """The message ``key`` (dots reach into groups: "pushback.emergency"), filled in."""
    entry = _entry(key)
    if isinstance(entry, list):
        entry = entry[int(values.pop("variant", 0)) % len(entry)]
    return _clean(entry).format(**values)


def variants(key: str) -> int:
    entry = _entry(key)
    return len(entry) if isinstance(entry, list) else 1
