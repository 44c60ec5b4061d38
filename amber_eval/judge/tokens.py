"""Yes/No and whitespace tokens of any tokenizer, and the greedy-equivalent decision.

A token is a Yes (No) variant when its text, with whitespace and the word-boundary markers
``▁`` (sentencepiece) and ``Ġ`` (byte-level BPE) stripped and lower-cased, is exactly ``yes``
(``no``). It is a whitespace token when that stripping leaves nothing. Ids are read from the
tokenizer at run time; nothing is hard-coded.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

# Byte-level BPE shows bytes as printable characters: space, newline, tab, carriage return.
_BYTE_LEVEL_SPACES = {"Ġ": " ", "Ċ": "\n", "ĉ": "\t", "č": "\r"}
_BYTE_TOKEN = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


def token_text(token: str) -> str:
    """The visible text of a vocabulary entry with the space markers turned into spaces."""
    byte = _BYTE_TOKEN.match(token)
    if byte is not None:
        value = int(byte.group(1), 16)
        return chr(value) if value < 128 else token
    text = token.replace("▁", " ")
    for marker, space in _BYTE_LEVEL_SPACES.items():
        text = text.replace(marker, space)
    return text


def classify(token: str) -> str:
    """``"yes"``, ``"no"``, ``"space"`` or ``"other"`` for one vocabulary entry."""
    core = token_text(token).strip().lower()
    if core == "yes":
        return "yes"
    if core == "no":
        return "no"
    if core == "":
        return "space"
    return "other"


@dataclass(frozen=True)
class YesNoVocab:
    """The Yes/No variants, whitespace tokens and the probe token of one tokenizer."""

    yes_ids: tuple[int, ...]
    no_ids: tuple[int, ...]
    space_ids: frozenset[int]
    probe_id: int
    vocab_size: int
    tokens: dict[int, str]

    def kind(self, token_id: int) -> str:
        if token_id in self.yes_set:
            return "yes"
        if token_id in self.no_set:
            return "no"
        if token_id in self.space_ids:
            return "space"
        return "other"

    @property
    def yes_set(self) -> frozenset[int]:
        return frozenset(self.yes_ids)

    @property
    def no_set(self) -> frozenset[int]:
        return frozenset(self.no_ids)


def yes_no_vocab(tokenizer: Any) -> YesNoVocab:
    """Scan ``tokenizer``'s vocabulary (special tokens never count as Yes/No or whitespace)."""
    vocab: dict[str, int] = tokenizer.get_vocab()
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    yes: list[int] = []
    no: list[int] = []
    space: set[int] = set()
    tokens: dict[int, str] = {}
    for token, token_id in vocab.items():
        if token_id in special:
            continue
        kind = classify(token)
        if kind == "yes":
            yes.append(token_id)
        elif kind == "no":
            no.append(token_id)
        elif kind == "space":
            space.add(token_id)
        if kind != "other":
            tokens[token_id] = token
    if not yes or not no:
        raise ValueError("the tokenizer has no Yes or no No token; it cannot answer Yes/No")
    size = max(vocab.values()) + 1
    return YesNoVocab(
        yes_ids=tuple(sorted(yes)),
        no_ids=tuple(sorted(no)),
        space_ids=frozenset(space),
        probe_id=_probe_token(tokenizer, vocab, space),
        vocab_size=size,
        tokens=tokens,
    )


def _probe_token(tokenizer: Any, vocab: dict[str, int], space: set[int]) -> int:
    """The single-space token: ``▁`` or ``Ġ`` when present, else how " " tokenizes."""
    for marker in ("▁", "Ġ"):
        if marker in vocab and vocab[marker] in space:
            return vocab[marker]
    encoded = tokenizer.encode(" ", add_special_tokens=False)
    for token_id in encoded:
        if token_id in space:
            return int(token_id)
    if space:
        return min(space)
    raise ValueError("the tokenizer has no whitespace token to use as the probe")


def bf16_step(value: float) -> float:
    """The spacing of bfloat16 numbers around ``value`` (8 significant bits)."""
    magnitude = abs(value)
    if magnitude == 0 or not math.isfinite(magnitude):
        return 2.0**-133
    return 2.0 ** (math.floor(math.log2(magnitude)) - 7)


@dataclass(frozen=True)
class Readout:
    """P(yes), the margin and whether it is a near-tie, from one position's logits."""

    p_yes: float
    margin: float
    near_tie: bool


def readout(logits: Any, vocab: YesNoVocab) -> Readout:
    """P(yes) = softmax over the Yes/No variants; margin = best Yes minus best No logit.

    A near-tie is a margin within two bfloat16 steps of the larger of the two logits.
    """
    import torch

    row = logits.float()
    yes = row[list(vocab.yes_ids)]
    no = row[list(vocab.no_ids)]
    both = torch.cat([yes, no])
    probs = torch.softmax(both, dim=0)
    p_yes = float(probs[: len(vocab.yes_ids)].sum())
    best_yes = float(yes.max())
    best_no = float(no.max())
    margin = best_yes - best_no
    step = bf16_step(max(abs(best_yes), abs(best_no)))
    return Readout(p_yes=p_yes, margin=margin, near_tie=abs(margin) <= 2 * step)
