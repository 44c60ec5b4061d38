from __future__ import annotations

from pathlib import Path

import pytest

from amber_eval.captions.coverage import caption_coverage, caption_description, coverage_json
from amber_eval.captions.dump import CaptionDump, CaptionerInfo, DumpHeader, ImageCaptions, Region
from amber_eval.captions.selection import SelectionSettings
from amber_eval.errors import InputError


def test_description_text() -> None:
    assert caption_description(["a dog", "green grass"]) == "a dog, green grass."
    assert caption_description([]) == "."


@pytest.mark.slow
def test_coverage_hand_computed(
    benchmark, parity_dir: Path, nltk_data_dir: Path, shared_cache: Path
) -> None:  # type: ignore[no-untyped-def]
    # AMBER_1: truth sky, forest, grass, person, lake, mountain, road (7); hallu cloud, sun,
    # bird, dog, flower (5). AMBER_2: 10 truth objects, 5 hallu objects.
    dump = CaptionDump(
        DumpHeader(CaptionerInfo("toy")),
        (
            ImageCaptions("AMBER_2.jpg", None, None, ()),
            ImageCaptions(
                "AMBER_1.jpg",
                None,
                None,
                (Region("a dog.", 0.2), Region("a sky", 0.9), Region("A dog", 0.1)),
            ),
        ),
    )
    result = caption_coverage(benchmark, dump, spacy_model=str(parity_dir / "glove50-amber-vocab"))
    # nouns: dog (hallucinated, a hallu object), sky (covers sky); AMBER_2 says nothing.
    assert result.images == 2
    assert result.strict["CHAIR"] == pytest.approx(50.0)  # 1 of 2 nouns
    assert result.strict["Cover"] == pytest.approx(100 / 17)  # 1 of 7 + 10 truth objects
    assert result.strict["Hal"] == pytest.approx(50.0)  # 1 of 2 images
    assert result.strict["Cog"] == pytest.approx(10.0)  # 1 of 5 + 5 hallu objects
    assert result.official == {"CHAIR": 50.0, "Cover": 5.9, "Hal": 50.0, "Cog": 10.0}
    assert [(item["rules"], item["description"]) for item in result.items] == [
        ("strict", "a dog, a sky."),
        ("strict", "."),
        ("official", "a dog, a sky."),
        ("official", "."),
    ]
    # top-k 1 by score keeps only "a sky": nothing hallucinated.
    top = caption_coverage(
        benchmark,
        dump,
        settings=SelectionSettings(top_k=1, order="score"),
        spacy_model=str(parity_dir / "glove50-amber-vocab"),
    )
    assert top.strict["CHAIR"] == 0.0 and top.strict["Hal"] == 0.0
    block = top.to_json()
    assert block["available"] is True and set(block) >= {"strict", "official", "images"}


def test_coverage_without_pipeline_is_reported(benchmark, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AMBER_EVAL_CACHE", str(tmp_path))
    block = coverage_json(
        benchmark, {"AMBER_1.jpg": ["a dog"]}, spacy_model=str(tmp_path / "no-such-pipeline")
    )
    assert block["available"] is False
    assert "no-such-pipeline" in block["reason"]


def test_coverage_input_errors(benchmark) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="no entry for 1 image"):
        coverage_json(benchmark, {"AMBER_1.jpg": ["a dog"]}, images=["AMBER_2.jpg"])
    with pytest.raises(InputError, match="not AMBER images"):
        coverage_json(benchmark, {"x.jpg": ["a dog"]}, images=["x.jpg"])


@pytest.fixture
def shared_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One cache folder for the whole session, so the similarity table is computed once."""
    folder = tmp_path_factory.getbasetemp() / "amber-eval-cache"
    monkeypatch.setenv("AMBER_EVAL_CACHE", str(folder))
    return folder
