"""Official mode reproduces the upstream scorer's printed output on the parity fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amber_eval.scoring import load_similarity, score_generative

EXPECTED_BLOCK_NAMES = {
    "Generative Task": "generative",
    "Descriminative Task": "overall",
    "Exsitence": "existence",
    "Attribute": "attribute",
    "State": "state",
    "Number": "number",
    "Action": "action",
    "Relation": "relation",
}


def parse_expected(text: str) -> dict[str, dict[str, float]]:
    """The upstream's printed text as {block: {metric: value}}."""
    blocks: dict[str, dict[str, float]] = {}
    current: dict[str, float] | None = None
    for line in text.splitlines():
        if not line.strip():
            continue
        head, _, value = line.partition(":")
        if not value.strip():
            current = blocks.setdefault(EXPECTED_BLOCK_NAMES[head], {})
            continue
        assert current is not None
        current[head] = float(value.strip())
    return blocks


@pytest.fixture(scope="module", autouse=True)
def _shared_cache(tmp_path_factory):  # type: ignore[no-untyped-def]
    """One noun cache for the module: the first test fills it, the others read it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AMBER_EVAL_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="module")
def parity_similarity(parity_dir: Path, benchmark, tmp_path_factory):  # type: ignore[no-untyped-def]
    return load_similarity(
        str(parity_dir / "glove50-amber-vocab"),
        vocabulary=benchmark.vocabulary,
        cache_dir=tmp_path_factory.mktemp("similarity"),
    )


def test_score_generative_matches_descriptions_fixture(
    parity_dir: Path, benchmark, parity_similarity, nltk_data_dir
) -> None:
    entries = json.loads((parity_dir / "descriptions.json").read_text())
    descriptions = {entry["id"]: entry["response"] for entry in entries}
    result = score_generative(
        descriptions, rules="official", benchmark=benchmark, similarity=parity_similarity
    )
    expected = parse_expected((parity_dir / "expected" / "descriptions.g.txt").read_text())
    assert result.block == expected["generative"]
    assert len(result.items) == 1004
    assert result.items[0].id == 1


CASES = [
    ("descriptions", "g"),
    ("all_yes", "a"),
    ("answers_exact", "d"),
    ("answers_messy", "d"),
    ("answers_attribute_only", "da"),
]


@pytest.mark.parametrize(("stem", "eval_type"), CASES)
def test_official_mode_reproduces_every_printed_number(
    stem: str,
    eval_type: str,
    parity_dir: Path,
    benchmark,
    parity_similarity,
    nltk_data_dir,
) -> None:
    from amber_eval.scoring import read_responses, score_responses

    expected_text = (parity_dir / "expected" / f"{stem}.{eval_type}.txt").read_text()
    result = score_responses(
        read_responses(parity_dir / f"{stem}.json"),
        eval_type=eval_type,
        rules="official",
        benchmark=benchmark,
        similarity=parity_similarity,
    )
    assert result.to_json() == parse_expected(expected_text)
    assert list(result.blocks) == list(parse_expected(expected_text))
    assert result.upstream_text() == expected_text
    assert result.warnings == ()


def test_messy_answers_score_in_strict_mode_like_normalised_answers(
    parity_dir: Path, benchmark
) -> None:
    from amber_eval.scoring import Response, read_responses, score_responses

    messy = read_responses(parity_dir / "answers_messy.json")
    # The fixture's ten answer forms, normalised by hand.
    forms = {
        "Yes": "Yes", "yes": "Yes", "Yes.": "Yes", "Yes, it is.": "Yes", "**Yes**": "Yes",
        "No": "No", "no": "No", "No.": "No", " No": "No", "No, there is not.": "No",
    }  # fmt: skip
    assert {r.response for r in messy} == set(forms)
    # Two answers that are neither, kept as they are in both files.
    neither = {messy[0].id: "Maybe", messy[1].id: "Yesterday"}
    messy = [Response(r.id, neither.get(r.id, r.response)) for r in messy]
    normalised = [Response(r.id, neither.get(r.id, forms.get(r.response, ""))) for r in messy]
    strict_messy = score_responses(messy, eval_type="d", rules="strict", benchmark=benchmark)
    strict_normal = score_responses(normalised, eval_type="d", rules="strict", benchmark=benchmark)
    assert strict_messy.to_json() == strict_normal.to_json()
    overall = strict_messy.blocks["overall"]
    assert overall["n"] == 14216
    assert overall["parse_failure_rate"] == 2 / 14216
    # Only the two unparseable answers differ from the messy file's official reading.
    assert (
        strict_messy.blocks["overall"]["yes_ratio"] == strict_normal.blocks["overall"]["yes_ratio"]
    )
