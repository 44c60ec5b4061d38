"""Generative scoring (CHAIR, Cover, Hal, Cog) of free-text descriptions.

The per-description algorithm follows the upstream scorer step by step (see docs/scoring.md);
``strict`` switches on the two fixes of strict mode: case-insensitive vocabulary matching and
the hallucination-word rule (a noun that is exactly a hallucination word or one of its associated
words is always a hallucinated mention).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from amber_eval.scoring.records import DescriptionRecord
from amber_eval.scoring.similarity import SimilarityTable
from amber_eval.terms import RULES

if TYPE_CHECKING:
    from amber_eval.data.benchmark import Benchmark


@dataclass(frozen=True)
class Vocabulary:
    """What the generative rules read from AMBER: association words, safe words, V."""

    association: Mapping[str, tuple[str, ...]]
    safe_words: frozenset[str]
    words: frozenset[str] = field(init=False)
    lowered: Mapping[str, str] = field(init=False)
    safe_lowered: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        words = set(self.association)
        for associated in self.association.values():
            words.update(associated)
        object.__setattr__(self, "words", frozenset(words))
        # Strict mode maps a lowercased noun back to its vocabulary spelling ("tv" -> "TV").
        object.__setattr__(self, "lowered", {w.lower(): w for w in sorted(words)})
        object.__setattr__(self, "safe_lowered", frozenset(w.lower() for w in self.safe_words))

    @classmethod
    def from_benchmark(cls, benchmark: Benchmark) -> Vocabulary:
        return cls(association=benchmark.association, safe_words=benchmark.safe_words)

    def keep(self, nouns: Iterable[str], *, strict: bool) -> list[str]:
        """Step 1's vocabulary filter (case-insensitive in strict mode)."""
        if strict:
            return [self.lowered[n.lower()] for n in nouns if n.lower() in self.lowered]
        return [n for n in nouns if n in self.words]

    def is_safe(self, noun: str, *, strict: bool) -> bool:
        if strict:
            return noun.lower() in self.safe_lowered
        return noun in self.safe_words


def _candidates(
    objects: Sequence[str], association: Mapping[str, tuple[str, ...]]
) -> list[tuple[str, int]]:
    """Associated words of each object in order, then the objects; each with its target."""
    listed: list[tuple[str, int]] = []
    for position, word in enumerate(objects):
        listed.extend((associated, position) for associated in association.get(word, ()))
    listed.extend((word, position) for position, word in enumerate(objects))
    return listed


def score_description(
    item_id: int,
    image: str,
    nouns: Sequence[str],
    truth: Sequence[str],
    hallu: Sequence[str],
    vocabulary: Vocabulary,
    similar: Callable[[str, str], bool],
    *,
    strict: bool,
) -> DescriptionRecord:
    """Score one description from its extracted nouns (before the vocabulary filter)."""
    kept = vocabulary.keep(nouns, strict=strict)
    safe = _candidates(truth, vocabulary.association)
    halls = _candidates(hallu, vocabulary.association)
    safe_index = _first_positions(safe)
    hallu_index = _first_positions(halls)
    truth_flags = [False] * len(truth)
    hallu_flags = [False] * len(hallu)
    skipped: list[str] = []
    covered: dict[str, str] = {}
    hallucinated: list[str] = []

    for noun in kept:
        if vocabulary.is_safe(noun, strict=strict):  # step a
            skipped.append(noun)
            continue
        if noun in safe_index:  # step b
            target = safe[safe_index[noun]][1]
            truth_flags[target] = True
            covered[noun] = truth[target]
            continue
        is_hallu_word = noun in hallu_index
        if is_hallu_word:  # step c
            hallu_flags[halls[hallu_index[noun]][1]] = True
        for word, target in halls:  # step d
            if similar(noun, word):
                hallu_flags[target] = True
                break
        if not (strict and is_hallu_word):
            hit = next(((w, t) for w, t in safe if similar(noun, w)), None)  # step e
            if hit is not None:
                truth_flags[hit[1]] = True
                covered[noun] = truth[hit[1]]
                continue
        hallucinated.append(noun)  # step f

    return DescriptionRecord(
        id=item_id,
        image=image,
        nouns=tuple(kept),
        skipped=tuple(skipped),
        covered=covered,
        cog=tuple(word for word, flag in zip(hallu, hallu_flags, strict=True) if flag),
        hallucinated=tuple(hallucinated),
        chair_score=len(hallucinated),
        chair_num=len(kept),
        cover_score=sum(truth_flags),
        cover_num=len(truth),
        cog_score=sum(hallu_flags),
        cog_num=len(hallu),
        hallucination_free=not hallucinated,
    )


def _first_positions(candidates: Sequence[tuple[str, int]]) -> dict[str, int]:
    first: dict[str, int] = {}
    for position, (word, _) in enumerate(candidates):
        first.setdefault(word, position)
    return first


@dataclass
class GenerativeTally:
    """The sums behind CHAIR, Cover, Hal and Cog; ``*_num`` and ``n`` start at ``start``."""

    chair_num: float
    cover_num: float
    cog_num: float
    n: float
    chair_score: float = 0
    cover_score: float = 0
    cog_score: float = 0
    free: float = 0
    """Descriptions without a hallucinated mention."""

    @classmethod
    def empty(cls, start: float) -> GenerativeTally:
        return cls(chair_num=start, cover_num=start, cog_num=start, n=start)

    def add(self, record: DescriptionRecord) -> None:
        """One description, counted in the upstream's order of operations."""
        self.chair_score += record.chair_score
        self.chair_num += record.chair_num
        self.cover_score += record.cover_score
        self.cover_num += record.cover_num
        self.cog_score += record.cog_score
        self.cog_num += record.cog_num
        if record.hallucination_free:
            self.free += 1
        self.n += 1


def generative_block(
    records: Sequence[DescriptionRecord], *, rules: str
) -> dict[str, float | None]:
    """CHAIR, Cover, Hal, Cog over ``records`` (in response order), under ``rules``."""
    # official: the upstream's float counters, *_num starting at 0.001, added in response order
    tally = GenerativeTally.empty(0.001 if rules == "official" else 0)
    for record in records:
        tally.add(record)
    return generative_metrics(tally, rules=rules)


def generative_metrics(tally: GenerativeTally, *, rules: str) -> dict[str, float | None]:
    """The generative block of ``tally``: the one aggregation of ``metrics.json`` and of the
    bootstrap's resamples (official: rounded, from the 0.001 counters; strict: unrounded, None
    for an empty denominator)."""
    if rules == "official":
        return {
            "CHAIR": round(tally.chair_score / tally.chair_num * 100, 1),
            "Cover": round(tally.cover_score / tally.cover_num * 100, 1),
            "Hal": round(100 - tally.free / tally.n * 100, 1),
            "Cog": round(tally.cog_score / tally.cog_num * 100, 1),
        }
    n = int(tally.n)
    return {
        "CHAIR": _percent(tally.chair_score, tally.chair_num),
        "Cover": _percent(tally.cover_score, tally.cover_num),
        "Hal": _percent(n - tally.free, n),
        "Cog": _percent(tally.cog_score, tally.cog_num),
        "n": n,
        "yes_ratio": None,
        "parse_failure_rate": None,
    }


def _percent(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator * 100


@dataclass(frozen=True)
class GenerativeScore:
    """The generative block and the per-description records."""

    block: dict[str, float | None]
    items: tuple[DescriptionRecord, ...]


def score_generative(
    descriptions: Mapping[int, str],
    *,
    rules: str = "strict",
    benchmark: Benchmark | None = None,
    similarity: SimilarityTable | None = None,
    spacy_model: str | None = None,
    noun_cache: bool = True,
    progress: Callable[[int], None] | None = None,
) -> GenerativeScore:
    """Score descriptions keyed by generative item id (1..1004), in the mapping's order.

    ``benchmark`` defaults to :func:`amber_eval.data.load_benchmark`; ``similarity`` to
    :func:`load_similarity` of ``spacy_model`` (default ``en_core_web_lg``).
    """
    from amber_eval.errors import InputError
    from amber_eval.scoring.nouns import extract_nouns_many

    if rules not in RULES:
        raise ValueError(f"rules must be 'strict' or 'official', not {rules!r}")
    if benchmark is None:
        from amber_eval.data import load_benchmark

        benchmark = load_benchmark()
    unknown = [i for i in descriptions if i not in benchmark.generative]
    if unknown:
        raise InputError(
            f"ids {unknown[:10]} are not generative items (valid ids: 1..{len(benchmark.generative)})"
        )
    vocabulary = Vocabulary.from_benchmark(benchmark)
    ids = list(descriptions)
    pending = None
    if similarity is None and ids:
        from amber_eval.scoring.similarity import DEFAULT_SPACY_MODEL, start_similarity

        # Computed (if not cached) in a helper process while the nouns are extracted here.
        pending = start_similarity(spacy_model or DEFAULT_SPACY_MODEL, vocabulary=vocabulary.words)
    try:
        noun_lists = extract_nouns_many(
            [descriptions[i] for i in ids], cache=noun_cache, progress=progress
        )
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    if pending is not None:
        similarity = pending.result()
    similar = similarity.similar if similarity is not None else _never
    strict = rules == "strict"
    records = []
    for item_id, forms in zip(ids, noun_lists, strict=True):
        item = benchmark.generative[item_id]
        records.append(
            score_description(
                item_id,
                item.image,
                noun_forms(forms, strict=strict),
                item.truth,
                item.hallu,
                vocabulary,
                similar,
                strict=strict,
            )
        )
    return GenerativeScore(block=generative_block(records, rules=rules), items=tuple(records))


def noun_forms(forms: Sequence[tuple[str, str]], *, strict: bool) -> list[str]:
    """The upstream lemmas (official) or the lemmas of the lowercased tokens (strict)."""
    return [lower if strict else lemma for lemma, lower in forms]


def _never(a: str, b: str) -> bool:
    return False
