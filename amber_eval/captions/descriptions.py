"""An MLLM's own descriptions as region captions (``captions import --from descriptions``).

AMBER's generative items (ids 1..1004) ask a model to describe ``AMBER_<id>.jpg``. Cut into
sentences (or clauses), each description becomes a list of captions, one "region" per piece, so
that the region-caption protocol (captions -> Yes/No prompts -> a judge) runs on the model's own
words:

>>> description_captions("The image features a dog. It sits on GRASS near a red car.")
['the image features a dog', 'it sits on GRASS near a red car']
>>> description_captions("A man rides a bike, while a woman walks; TV on.", split="clause")
['a man rides a bike', 'while a woman walks', 'TV on']

Rules: pieces end at ``.``, ``!`` or ``?`` followed by white space, and at line breaks; list
markers (``-``, ``*``, ``1.``) at the start of a line are dropped; ``split="clause"`` also cuts
at ``;``, ``:`` and at a comma before *and*, *but*, *or*, *while*, *whereas*, *which*, *where*,
*who* or *with*. Closing punctuation is removed (the prompt template adds its own). The first
letter is lower-cased unless the first word is an acronym (two or more capitals, as ``TV``), has
capitals after its first letter (``McDonald``) or is the pronoun ``I``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from amber_eval.captions.records import ImageCaptions, Region
from amber_eval.errors import InputError
from amber_eval.scoring.responses import Scorable

Split = Literal["sentence", "clause"]
SPLITS: tuple[Split, ...] = ("sentence", "clause")
#: AMBER's description items: ids 1..1004, the description of ``AMBER_<id>.jpg``.
DESCRIPTION_IDS = range(1, 1005)

_LIST_MARKER = re.compile(r"^\s*(?:[-*\u2022]+|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_CLAUSE_BREAK = re.compile(
    r"\s*[;:]\s+|,\s+(?=(?:and|but|or|while|whereas|which|where|who|with)\b)", re.IGNORECASE
)
_CLOSING = " \t.!?,;:"


@dataclass(frozen=True)
class DescriptionCaptions:
    """Captions made from a response file's descriptions.

    ``images`` holds one entry per description, in id order (an empty description gives an
    image without regions); ``left_out`` counts the file's Yes/No answers (ids above 1004),
    which are not descriptions.
    """

    images: tuple[ImageCaptions, ...]
    left_out: int


def caption_case(text: str) -> str:
    """``text`` with its first letter lower-cased, unless the first word must keep capitals.

    >>> caption_case("The dog"), caption_case("TV screen"), caption_case("I see"), caption_case("A")
    ('the dog', 'TV screen', 'I see', 'a')
    """
    word = re.match(r"[^\W\d_]+(?:'[^\W\d_]+)?", text)
    if word is None:
        return text
    letters = word.group(0)
    if letters == "I" or letters.startswith("I'") or any(c.isupper() for c in letters[1:]):
        return text
    return text[0].lower() + text[1:]


def description_captions(text: str, *, split: Split = "sentence") -> list[str]:
    """The captions of one description: one per sentence (or clause), see the module rules."""
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}: use sentence or clause")
    pieces: list[str] = []
    for line in text.splitlines():
        line = _LIST_MARKER.sub("", line)
        for sentence in _SENTENCE_END.split(line):
            parts = _CLAUSE_BREAK.split(sentence) if split == "clause" else [sentence]
            pieces.extend(parts)
    captions = (piece.strip().rstrip(_CLOSING).strip() for piece in pieces)
    return [caption_case(caption) for caption in captions if caption]


def image_of(item_id: int) -> str:
    """The AMBER image a description id describes (``12`` -> ``AMBER_12.jpg``)."""
    return f"AMBER_{item_id}.jpg"


def descriptions_as_captions(
    responses: Iterable[Scorable], *, split: Split = "sentence", source: str = "responses"
) -> DescriptionCaptions:
    """Turn AMBER responses (``{id, response}``) into one caption-dump entry per description.

    Ids 1..1004 are descriptions of ``AMBER_<id>.jpg``; ids above 1004 (Yes/No answers) are left
    out and counted. An id below 1, a repeated id or a file without descriptions raises
    :class:`InputError` naming ``source`` and the id.
    """
    by_id: dict[int, list[str]] = {}
    left_out = 0
    for response in responses:
        if response.id < DESCRIPTION_IDS.start:
            raise InputError(f"{source}: id {response.id} is not an AMBER id (ids start at 1)")
        if response.id not in DESCRIPTION_IDS:
            left_out += 1
            continue
        if response.id in by_id:
            raise InputError(f"{source}: id {response.id} appears more than once")
        by_id[response.id] = description_captions(response.response, split=split)
    if not by_id:
        raise InputError(
            f"{source}: no descriptions (AMBER ids 1..1004); "
            "a Yes/No answer file has no descriptions to import"
        )
    images = tuple(
        ImageCaptions(image_of(item_id), None, None, tuple(Region(c) for c in by_id[item_id]))
        for item_id in sorted(by_id)
    )
    return DescriptionCaptions(images, left_out)
