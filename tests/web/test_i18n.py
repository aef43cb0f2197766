"""The UI's translations: one file per language with the same keys, and every key the code names
(``t("key")``, ``tOr("key", …)``, keys in ``"…"`` arguments of a ternary) exists in them."""

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).parents[2] / "src" / "photochanger" / "web" / "static"
LANGUAGES = ["en", "ru"]
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`')


def keys(language: str) -> list[str]:
    """The keys of ``i18n/<language>.js`` (an ``export default {key: "text", …}`` object), in order."""
    source = (STATIC / "i18n" / f"{language}.js").read_text(encoding="utf-8")
    body = source[source.index("export default {") :]
    return re.findall(r"(?:^|[{,\s])([A-Za-z_][A-Za-z0-9_]*)\s*:", STRING.sub('""', body))


def code_keys() -> tuple[set[str], set[str]]:
    """Literal keys the scripts pass to ``t``/``tOr`` (directly or as a branch of a ternary), and
    the prefixes of keys built in template literals (``t(`status_${status}`)``)."""
    literal, prefixes = set(), set()
    for script in STATIC.rglob("*.js"):
        if script.parent.name == "i18n":
            continue
        text = script.read_text(encoding="utf-8")
        for call in re.finditer(r"\b(?:t|tOr)\(([^(),]*)", text):
            literal.update(re.findall(r'"([a-z0-9_]+)"', call.group(1)))
            prefixes.update(re.findall(r"`([a-z0-9_]+)\$\{", call.group(1)))
    return literal, prefixes


def test_every_language_file_has_the_same_keys_once():
    english = keys("en")
    assert len(english) > 200
    assert len(english) == len(set(english)), "a key twice in en.js"
    for language in LANGUAGES[1:]:
        other = keys(language)
        assert len(other) == len(set(other)), f"a key twice in {language}.js"
        assert set(other) - set(english) == set(), f"{language}.js has keys en.js lacks"
        assert set(english) - set(other) == set(), f"{language}.js lacks these keys"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_the_code_names_is_translated(language):
    known = set(keys(language))
    literal, prefixes = code_keys()
    assert len(literal) > 150 and len(prefixes) > 5
    assert literal - known == set()
    assert {prefix for prefix in prefixes if not any(key.startswith(prefix) for key in known)} == set()
