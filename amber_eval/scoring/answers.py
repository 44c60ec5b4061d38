"""Reading a Yes/No answer: exact in official mode, the first word in strict mode."""

from __future__ import annotations

import re

from amber_eval.scoring.records import Parsed

# Strict grammar: the first word decides, case-insensitively, after any non-word characters.
STRICT_ANSWER = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)


def parse_official(raw: object) -> Parsed:
    """Exactly ``Yes`` or exactly ``No`` (case-sensitive, no stripping); anything else unknown.

    Takes any value, so a missing or non-string answer of a stored record reads as unknown.
    """
    if raw == "Yes":
        return "yes"
    if raw == "No":
        return "no"
    return "unknown"


def parse_strict(raw: str) -> Parsed:
    """``^\\W*(yes|no)\\b`` case-insensitive: ``yes.``, ``**Yes**``, `` No, there is not``."""
    match = STRICT_ANSWER.match(raw)
    if match is None:
        return "unknown"
    return "yes" if match.group(1).lower() == "yes" else "no"


def decision_text(parsed: object, raw: str) -> str:
    """The response a judge's answer stands for: exactly ``Yes`` or ``No`` when it was read as a
    decision, else the raw text (which official mode then counts as the upstream does, and strict
    mode reports as a parse failure).

    So a run's responses do not depend on how the judge was asked: a generated ``"No."`` and a
    scored ``No`` token are the same response.

    >>> decision_text("no", "No."), decision_text("unknown", "Maybe")
    ('No', 'Maybe')
    """
    if parsed == "yes":
        return "Yes"
    if parsed == "no":
        return "No"
    return raw


def official_reading(parsed: object, raw: object) -> Parsed:
    """How the upstream reads the response that a judge answer stands for (see
    :func:`decision_text`): the decision itself, or ``unknown`` for an unparseable answer."""
    return parse_official(decision_text(parsed, "" if raw is None else str(raw)))


def parse_answer(raw: str, mode: str) -> Parsed:
    return parse_official(raw) if mode == "official" else parse_strict(raw)
