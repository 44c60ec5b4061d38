"""The AMBER score, the upstream printed text and the strict JSON of a mixed response file."""

from __future__ import annotations

import pytest
from test_scoring_helpers import make_benchmark, make_similarity

from amber_eval.data.benchmark import Dimension
from amber_eval.scoring import Response, amber_score, format_upstream, score_responses
from amber_eval.scoring.generative import score_generative


def test_amber_score_rounds_half_up() -> None:
    # (100 - 12.1 + 66.8) / 2 = 77.35: Python's round gives 77.3 on the float, half up 77.4.
    assert round((100 - 12.1 + 66.8) / 2, 1) == 77.3
    assert amber_score(12.1, 66.8) == 77.4
    assert amber_score(10.0, 80.0) == 85.0
    assert amber_score(None, 80.0) is None
    assert amber_score(10.0, None) is None


def test_format_upstream_tabs_trailing_spaces_and_last_block() -> None:
    text = format_upstream(
        {
            "generative": {"CHAIR": 1.0, "Cover": 2.5, "Hal": 100.0, "Cog": 0.0},
            "relation": {"Accuracy": 50.0, "Precision": 0.0, "Recall": 12.3, "F1": 0.0},
        }
    )
    assert text == (
        "Generative Task:\nCHAIR:\t\t 1.0\nCover:\t\t 2.5\nHal:\t\t 100.0\nCog:\t\t 0.0 \n\n"
        "Relation:\nAccuracy:\t 50.0\nPrecision:\t 0.0\nRecall:\t\t 12.3\nF1:\t\t 0.0\n"
    )
    assert format_upstream(
        {"action": {"Accuracy": 1.0, "Precision": 1.0, "Recall": 1.0, "F1": 1.0}}
    ).endswith("F1:\t\t 1.0 \n\n")


@pytest.fixture
def mixed(nltk_data_dir, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AMBER_EVAL_CACHE", str(tmp_path))
    bench = make_benchmark(
        {1: (("dog", "grass"), ("cat",)), 2: (("sky",), ("horse",))},
        {
            3: (Dimension.EXISTENCE, False),
            4: (Dimension.STATE, True),
            5: (Dimension.RELATION, False),
        },
    )
    responses = [
        Response(1, "A dog lies on the lawn. A cat sits nearby."),
        Response(2, "Dogs run under the sky."),
        Response(3, "No"),
        Response(4, "Yes"),
        Response(5, "No"),
    ]
    return bench, responses


def test_mixed_file_strict_json_has_amber_and_items(mixed) -> None:  # type: ignore[no-untyped-def]
    bench, responses = mixed
    result = score_responses(
        responses, eval_type="a", rules="strict", benchmark=bench, similarity=make_similarity()
    )
    first, second = result.items[0], result.items[1]
    # 1: dog covers dog, lawn covers grass, cat is hallucinated (Cog hit).
    assert first.nouns == ("dog", "lawn", "cat")
    assert first.covered == {"dog": "dog", "lawn": "grass"}
    assert first.hallucinated == ("cat",)
    # 2: strict mode reads "Dogs" as "dog" (not a truth object of item 2): hallucinated.
    assert second.nouns == ("dog", "sky")
    assert second.hallucinated == ("dog",)
    data = result.to_json()
    # CHAIR 2 of 5 nouns = 40; Cover 3 of 3 = 100; Hal 2 of 2 = 100; Cog 1 of 2 = 50.
    gen = data["generative"]
    assert (gen["CHAIR"], gen["Cover"], gen["Hal"], gen["Cog"], gen["n"]) == (
        40.0,
        100.0,
        100.0,
        50.0,
        2,
    )
    assert data["overall"]["F1"] == 100.0
    assert data["AMBER"] == 80.0  # (100 - 40 + 100) / 2
    assert list(data)[-3:] == ["AMBER", "always_no", "coverage"]
    assert data["coverage"] == {"expected": 5, "scored": 5, "missing": 0, "fraction": 1.0}
    question = result.items[2].to_json()
    assert question == {
        "id": 3,
        "image": "AMBER_1.jpg",
        "dimension": "existence",
        "raw": "No",
        "parsed": "no",
        "truth": "no",
        "kind": "question",
    }


def test_mixed_file_official_drops_capitalised_plural(mixed) -> None:  # type: ignore[no-untyped-def]
    bench, responses = mixed
    result = score_responses(
        responses, eval_type="a", rules="official", benchmark=bench, similarity=make_similarity()
    )
    # Upstream lemmatizes "Dogs" to "Dogs": not in the vocabulary, so item 2 is clean.
    assert result.items[1].nouns == ("sky",)
    assert result.items[1].hallucination_free
    # CHAIR 1/(0.001+3+1) = 24.99 -> 25.0; Hal 100 - 1/2.001*100 = 50.02 -> 50.0
    assert result.blocks["generative"]["CHAIR"] == 25.0
    assert result.blocks["generative"]["Hal"] == 50.0
    assert "AMBER" not in result.to_json()


def test_score_generative_by_item_id(mixed) -> None:  # type: ignore[no-untyped-def]
    bench, _ = mixed
    result = score_generative(
        {2: "A dog under the sky.", 1: "Grass."},
        rules="strict",
        benchmark=bench,
        similarity=make_similarity(),
    )
    assert [r.id for r in result.items] == [2, 1]
    # 2: dog hallucinated, sky covered; 1: grass covered. CHAIR 1/3, Cover 2/3, Hal 1/2.
    assert result.block["CHAIR"] == pytest.approx(100 / 3)
    assert result.block["Cover"] == pytest.approx(200 / 3)
    assert result.block["Hal"] == 50.0
