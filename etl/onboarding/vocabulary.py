"""Variable names -> groups of indicators.yaml, by the vocabulary in vocabulary.yaml.

Each mapping says how sure it is: sure when every word of the name is understood,
unsure (written commented out, with the words not understood) otherwise, none for a
name that is not a count of residents or names no group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from etl.sources.id_map import normalise

VOCABULARY = Path(__file__).with_name("vocabulary.yaml")


@dataclass(frozen=True)
class Mapping:
    variable: str
    terms: tuple[str, ...]  # empty: not mapped
    sure: bool
    reason: str  # why not sure / not mapped


@cache
def _vocabulary() -> dict:
    return yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))


def _bounded(pattern: str) -> re.Pattern:
    return re.compile(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])")


def classify(variable: str) -> Mapping:
    """How ``variable`` maps to the catalogue (see module doc)."""
    vocab = _vocabulary()
    text = normalise(variable)
    for pattern, reason in vocab["not_a_count"].items():
        if _bounded(pattern).search(text):
            return Mapping(variable, (), False, " ".join(reason.split()))
    terms = []
    for entry in vocab["terms"]:
        match = _bounded(entry["pattern"]).search(text)
        if match:
            terms.append(entry["term"])
            text = f"{text[: match.start()]} {text[match.end() :]}"
    text, totals = _bounded(vocab["total"]).subn(" ", text)
    text = _bounded(vocab["filler"]).sub(" ", text)
    leftover = text.split()
    if not terms and totals and not leftover:
        terms = ["total"]
    if not terms and leftover:
        return Mapping(variable, (), False, f"words not understood: {' '.join(leftover)}")
    if not terms:
        return Mapping(variable, (), False, "no group of the catalogue recognised")
    if {"germans", "foreigners"} <= set(terms):
        return Mapping(variable, tuple(terms), False, "names both Germans and foreigners")
    if leftover:
        return Mapping(variable, tuple(terms), False, f"words not understood: {' '.join(leftover)}")
    return Mapping(variable, tuple(terms), True, "")
