"""UI strings in German and English, kept in ``strings.yaml`` next to this module.

German is the default (and, for now, the only visible) language. Every key carries both
languages, so switching the UI language is a matter of passing ``lang="en"`` to
``create_app``. Texts from the warehouse (indicator titles, level labels) come in
``*_de`` / ``*_en`` columns and are picked with :func:`localized_column`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

STRINGS_FILE = Path(__file__).with_name("strings.yaml")
LANGUAGES = ("de", "en")
DEFAULT_LANG = "de"


class UnknownStringError(KeyError):
    """A UI string key that is not in ``strings.yaml``."""


@lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, str]]:
    """All UI strings ``{key: {lang: text}}``; raises if a language is missing for a key."""
    data = yaml.safe_load(STRINGS_FILE.read_text(encoding="utf-8"))
    for key, texts in data.items():
        missing = [lang for lang in LANGUAGES if not isinstance(texts, dict) or lang not in texts]
        if missing:
            raise ValueError(f"{STRINGS_FILE.name}: key {key!r} lacks language(s) {missing}")
    return data


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise with the supported languages."""
    if lang not in LANGUAGES:
        raise ValueError(f"Unsupported language {lang!r}; supported: {', '.join(LANGUAGES)}")
    return lang


def t(key: str, lang: str = DEFAULT_LANG, **values: object) -> str:
    """The UI string ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``."""
    try:
        text = strings()[key][lang]
    except KeyError as exc:
        raise UnknownStringError(f"No UI string {key!r} for language {lang!r}") from exc
    return text.format(**values) if values else text


def localized_column(column: str, lang: str = DEFAULT_LANG) -> str:
    """The warehouse column holding ``column`` in ``lang``: ``("title", "de")`` → ``title_de``."""
    return f"{column}_{check_lang(lang)}"
