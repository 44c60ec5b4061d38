"""Fitting LaTeX tables to the page: column width estimates, the cut of a wide layout into
stacked tabulars, wrapped labels and intervals set under their values."""

from __future__ import annotations

from collections.abc import Mapping

from amber_eval.reporting.layouts import Column

#: LaTeX tables are set in ``\\footnotesize`` with 3 pt column padding and a label column of
#: ``LATEX_LABEL_WIDTH`` (labels wrap); a layout wider than ``LATEX_TEXT_WIDTH`` (a standard
#: one-column article's 345 pt) is set as several tabulars one above the other, cut at column
#: groups into parts of even width, so no ``\\resizebox`` is needed.
LATEX_TEXT_WIDTH = 345.0
LATEX_LABEL_WIDTH = "2.2cm"
_PAD_PT = 6.0
_LABEL_PT = 62.6 + _PAD_PT  # 2.2 cm and its padding


def latex_column_width(column: Column, *, with_ci: bool) -> float:
    """An upper estimate, in pt, of a column's width in ``\\footnotesize``: its header, a bold
    ``100.0`` or, with intervals, ``[100.0, 100.0]`` in ``\\scriptsize`` under it; padding
    included. (Measured with pdflatex: ``CHAIR$\\downarrow$`` 31.4 pt, bold ``100.0``
    21.6 pt, the interval 45.9 pt.)"""
    header = sum(3.0 if ch in "Ij" else 6.2 if ch.isupper() else 4.1 for ch in column.header)
    header += 7.0 if column.ranked and column.lower_is_better else 0.0
    value = 46.0 if with_ci and not column.is_count else 21.6
    return max(header, value) + _PAD_PT


TEX_UNDER = r"\\"


def tex_label(text: str) -> str:
    """A label cell (escaped LaTeX) that wraps within the label column's width: at spaces,
    hyphens, and after the underscores and slashes of long names (``llava15_sent_mock``)."""
    breakable = text.replace(r"\_", r"\_\allowbreak{}").replace("/", r"/\allowbreak{}")
    return rf"\parbox[t]{{{LATEX_LABEL_WIDTH}}}{{\raggedright {breakable}}}"


def tex_stacked(cell: str) -> str:
    """A value with its interval under it, both centred."""
    return rf"\begin{{tabular}}[t]{{@{{}}c@{{}}}}{cell}\end{{tabular}}"


def latex_parts(
    columns: tuple[Column, ...], *, with_ci: bool = False, width: float = LATEX_TEXT_WIDTH
) -> list[tuple[Column, ...]]:
    """``columns`` cut into consecutive parts that each fit ``width`` beside the label column,
    at group boundaries where a group fits in a part (a wider group is cut where it must),
    as few parts as that takes and of about even width."""
    room = width - _LABEL_PT
    sizes = {c.key: latex_column_width(c, with_ci=with_ci) for c in columns}
    fewest = _fill(columns, sizes, room)
    target = sum(sizes.values()) / len(fewest)
    while target < room:  # the narrowest room that still takes no more parts
        even = _fill(columns, sizes, target)
        if len(even) == len(fewest):
            return even
        target += 2.0
    return fewest


def _fill(
    columns: tuple[Column, ...], sizes: Mapping[str, float], room: float
) -> list[tuple[Column, ...]]:
    parts: list[list[Column]] = [[]]
    used = 0.0
    for group in column_groups(columns):
        if parts[-1] and used + sum(sizes[c.key] for c in group) > room:
            parts.append([])
            used = 0.0
        for column in group:
            if parts[-1] and used + sizes[column.key] > room:
                parts.append([])
                used = 0.0
            parts[-1].append(column)
            used += sizes[column.key]
    return [tuple(part) for part in parts if part]


def column_groups(columns: tuple[Column, ...]) -> list[list[Column]]:
    """Consecutive columns under the same group; a column without a group stands alone."""
    groups: list[list[Column]] = []
    for column in columns:
        if column.group and groups and groups[-1][0].group == column.group:
            groups[-1].append(column)
        else:
            groups.append([column])
    return groups
