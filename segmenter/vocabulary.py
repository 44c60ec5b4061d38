"""Vocabularies for the ``clip-vocab`` captioner and the phrases built from them.

A vocabulary file is plain text in sections::

    [objects]
    dog
    person: people        # an irregular plural after a colon
    [colours]
    red
    [sizes]
    small
    [counts]
    two

``#`` starts a comment. ``default`` is the general vocabulary shipped with amber-eval;
``amber`` takes the objects from AMBER's 418 benchmark words (``relation.json``) and the
attributes from ``default``; that choice is recorded as benchmark vocabulary, because naming
exactly the benchmark's objects inflates its scores.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from amber_eval.errors import InputError

SECTIONS = ("objects", "colours", "sizes", "counts")
_ALIASES = {"colors": "colours", "object": "objects", "numbers": "counts"}
DEFAULT_TEMPLATES = ("a {object}", "a {attr} {object}", "{count} {objects}")
PLACEHOLDERS = ("{object}", "{objects}", "{attr}", "{count}")


@dataclass(frozen=True)
class Vocabulary:
    """Object words (with plurals) and attribute words; ``source`` says where they came from."""

    objects: tuple[str, ...]
    plurals: tuple[str, ...]
    colours: tuple[str, ...]
    sizes: tuple[str, ...]
    counts: tuple[str, ...]
    source: str
    sha256: str
    benchmark: bool = False

    @property
    def attributes(self) -> tuple[str, ...]:
        return self.colours + self.sizes


def pluralize(word: str) -> str:
    """A regular English plural of the last word (``bus`` -> ``buses``, ``city`` -> ``cities``)."""
    head, _, last = word.rpartition(" ")
    prefix = head + " " if head else ""
    if last.endswith(("s", "x", "z", "ch", "sh")):
        plural = last + "es"
    elif last.endswith("y") and len(last) > 1 and last[-2] not in "aeiou":
        plural = last[:-1] + "ies"
    else:
        plural = last + "s"
    return prefix + plural


def parse_vocabulary(text: str, source: str) -> Vocabulary:
    """Parse the sectioned text format; errors name ``source`` and the line."""
    sections: dict[str, list[str]] = {name: [] for name in SECTIONS}
    plurals: list[str] = []
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip().lower()
            name = _ALIASES.get(name, name)
            if name not in sections:
                raise InputError(
                    f"{source}:{number}: unknown section [{name}] (use {', '.join(SECTIONS)})"
                )
            current = name
            continue
        if current is None:
            raise InputError(f"{source}:{number}: a word before any [section]")
        word, _, plural = line.partition(":")
        word = " ".join(word.split()).lower()
        if not word:
            raise InputError(f"{source}:{number}: empty word")
        if word in sections[current]:
            continue
        sections[current].append(word)
        if current == "objects":
            plurals.append(" ".join(plural.split()).lower() or pluralize(word))
    if not sections["objects"]:
        raise InputError(f"{source}: no [objects] words")
    return Vocabulary(
        objects=tuple(sections["objects"]),
        plurals=tuple(plurals),
        colours=tuple(sections["colours"]),
        sizes=tuple(sections["sizes"]),
        counts=tuple(sections["counts"]),
        source=source,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def default_vocabulary_text() -> str:
    from importlib.resources import files

    return (
        files("amber_eval.segmenter")
        .joinpath("resources", "vocabulary.txt")
        .read_text(encoding="utf-8")
    )


def load_vocabulary(name: str, *, data_dir: str | None = None) -> Vocabulary:
    """``default``, ``amber`` (needs AMBER's data) or a vocabulary file path."""
    if name == "default":
        return parse_vocabulary(default_vocabulary_text(), "default")
    if name == "amber":
        from amber_eval.data import load_benchmark

        base = parse_vocabulary(default_vocabulary_text(), "default")
        words = sorted(load_benchmark(data_dir).vocabulary)
        text = "[objects]\n" + "\n".join(words) + "\n"
        for section in ("colours", "sizes", "counts"):
            text += f"[{section}]\n" + "\n".join(getattr(base, section)) + "\n"
        vocabulary = parse_vocabulary(text, "amber")
        return Vocabulary(**{**vocabulary.__dict__, "benchmark": True})
    path = Path(name).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            f"vocabulary {name!r}: no such file (use default, amber or a vocabulary file)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read vocabulary {path}: {exc}") from None
    return parse_vocabulary(text, str(path))


@dataclass(frozen=True)
class Phrase:
    """A caption candidate for one object of the vocabulary."""

    text: str
    object_index: int


def object_phrases(vocabulary: Vocabulary, index: int, templates: tuple[str, ...]) -> list[str]:
    """Every phrase of object ``index`` from ``templates`` (duplicates dropped, order kept)."""
    obj, objs = vocabulary.objects[index], vocabulary.plurals[index]
    phrases: list[str] = []
    for template in templates:
        attrs: tuple[str, ...] = vocabulary.attributes if "{attr}" in template else ("",)
        counts: tuple[str, ...] = vocabulary.counts if "{count}" in template else ("",)
        for attr in attrs:
            for count in counts:
                text = (
                    template.replace("{objects}", objs)
                    .replace("{object}", obj)
                    .replace("{attr}", attr)
                    .replace("{count}", count)
                )
                text = " ".join(text.split())
                if text.startswith("a ") and text[2:3] in "aeiou" and text[2:3]:
                    text = "an " + text[2:]
                if text not in phrases:
                    phrases.append(text)
    return phrases


def check_templates(templates: tuple[str, ...]) -> None:
    for template in templates:
        if "{object}" not in template and "{objects}" not in template:
            raise InputError(f"phrase template {template!r} needs {{object}} or {{objects}}")
