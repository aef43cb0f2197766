"""Prompt templates: a slot's prompt may name what the booth sent.

Syntax: ``{name}`` is the booth's form field ``name`` (``time``, ``user_id``, ``id``, ``profile``,
``status``, ``name``, ``model``, ``version`` from DSLR Remote Pro, or any field a survey or QR scan
adds); ``{query.team}`` is the query parameter ``team`` of the booth's URL; ``{name|our guest}``
gives a default used when the value is missing or empty. ``{{`` and ``}}`` are literal braces.

Values are guest input: control and format characters are removed, whitespace is collapsed, and
each value is cut to :data:`MAX_VALUE_CHARS` characters before it reaches a provider.
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping

PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z0-9_][A-Za-z0-9_.\-]{0,63})(?:\|([^{}]{0,200}))?\}(?!\})")
MAX_VALUE_CHARS = 100
#: Fields DSLR Remote Pro sends with every photo (``hash`` and ``password`` are never offered).
BOOTH_FIELDS = ("time", "user_id", "id", "profile", "status", "name", "model", "version")


def placeholders(template: str) -> list[tuple[str, str | None]]:
    """``(field, default)`` of every placeholder in ``template``, in order."""
    return [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(template)]


def unknown_fields(template: str, known: Iterable[str]) -> list[str]:
    """Placeholders without a default whose field is not in ``known`` (sorted, unique)."""
    names = set(known)
    return sorted({field for field, default in placeholders(template) if default is None and field not in names})


def clean(value: str) -> str:
    """A guest's value made safe for a prompt: no control/format characters, whitespace
    collapsed, at most :data:`MAX_VALUE_CHARS` characters."""
    kept = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in value)
    return " ".join(kept.split())[:MAX_VALUE_CHARS].strip()


def render(template: str, fields: Mapping[str, str], query: Mapping[str, str]) -> str:
    """``template`` with every placeholder replaced by the cleaned value (or its default, or
    nothing); ``query`` holds the URL's parameters."""

    def value(match: re.Match) -> str:
        field, default = match.group(1), match.group(2)
        raw = query.get(field.removeprefix("query.")) if field.startswith("query.") else fields.get(field)
        cleaned = clean(raw) if raw else ""
        return cleaned or clean(default or "")

    return PLACEHOLDER.sub(value, template).replace("{{", "{").replace("}}", "}")
