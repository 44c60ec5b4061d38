"""COCO compressed RLE ``counts`` strings, decoded without pycocotools (to validate dumps).

The format (pycocotools' ``rleToString``): each run length is a signed number written as
5-bit groups, least significant first, one character per group (``chr(48 + group)``, with
0x20 set while more groups follow and 0x10 the sign of the last one); from the third run on
each number is stored as the difference to the run two before it.
"""

from __future__ import annotations


def decode_counts(counts: str) -> list[int]:
    """The run lengths of a compressed ``counts`` string; ``ValueError`` when it is not one."""
    runs: list[int] = []
    position = 0
    length = len(counts)
    while position < length:
        value = 0
        shift = 0
        more = True
        while more:
            if position >= length:
                raise ValueError("the counts string ends in the middle of a number")
            code = ord(counts[position]) - 48
            if not 0 <= code < 64:
                raise ValueError(
                    f"character {counts[position]!r} at position {position} is not an RLE "
                    "character (they run from '0' to 'o')"
                )
            value |= (code & 0x1F) << shift
            more = bool(code & 0x20)
            position += 1
            shift += 5
            if not more and code & 0x10:
                value |= -1 << shift
        if len(runs) > 2:
            value += runs[-2]
        if value < 0:
            raise ValueError(f"run {len(runs) + 1} has a negative length ({value})")
        runs.append(value)
    return runs


def counts_problem(counts: str, height: int, width: int) -> str | None:
    """Why ``counts`` is not the compressed RLE of a ``height x width`` mask, or None."""
    try:
        runs = decode_counts(counts)
    except ValueError as exc:
        return str(exc)
    total = sum(runs)
    if total != height * width:
        return f"the runs cover {total} pixels, the mask has {height} x {width} = {height * width}"
    return None
