from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from amber_eval.captions.dump import AMBER_IMAGES, FORMAT
from amber_eval.cli.main import cli, main

HEADER = {
    "format": FORMAT,
    "version": 1,
    "captioner": {"name": "toy"},
    "created": "2026-01-01T00:00:00Z",
}


def write(path: Path, *lines: object) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def test_amber_images_match_the_query_files(benchmark) -> None:  # type: ignore[no-untyped-def]
    assert benchmark.images == AMBER_IMAGES


def test_check_valid(tmp_path: Path) -> None:
    path = write(
        tmp_path / "d.jsonl",
        HEADER,
        {"image": "AMBER_1.jpg", "regions": [{"caption": "a", "score": 1}, {"caption": "b"}]},
        {"image": "AMBER_2.jpg", "regions": []},
    )
    result = CliRunner().invoke(cli, ["captions", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{path}: valid caption dump" in result.output
    assert "images: 2 of 1004" in result.output
    assert (
        "regions: 2 (per image min 0, mean 1.0, max 2; 1 images without regions)" in result.output
    )
    assert "with score: 1, bbox: 0, mask: 0, label: 0" in result.output


def test_check_lists_every_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path / "d.jsonl",
        HEADER,
        {"image": "AMBER_1.jpg", "regions": [{"caption": ""}]},
        {"image": "cat.png", "regions": []},
    )
    result = CliRunner().invoke(cli, ["captions", "check", str(path)])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines == [
        f"{path}:2: regions[0]: empty caption",
        f"{path}:3: unknown image 'cat.png': not an AMBER image (expected names like 'AMBER_1.jpg')",
        f"error: {path}: 2 problems",
    ]
    relaxed = CliRunner().invoke(cli, ["captions", "check", "--any-images", str(path)])
    assert relaxed.exit_code == 2 and "cat.png" not in relaxed.output


def test_captions_import_is_listed() -> None:
    result = CliRunner().invoke(cli, ["captions", "--help"])
    assert result.exit_code == 0
    for name in ("check", "import", "score"):
        assert f"  {name} " in result.output


def test_prompts_command_oracle(tmp_path: Path, benchmark) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "prompts.jsonl"
    result = CliRunner().invoke(
        cli,
        [
            "prompts",
            "--captions",
            "oracle",
            "--limit-images",
            "2",
            "--top-k",
            "2",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "wrote 40 prompts for 2 images" in result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == len(benchmark.questions_by_image["AMBER_1.jpg"]) + len(
        benchmark.questions_by_image["AMBER_2.jpg"]
    )
    assert lines[0] == {
        "id": 1005,
        "image": "AMBER_1.jpg",
        "dimension": "attribute-state",
        "truth": "yes",
        "prompt": "If an image contains a sky, a forest. Is the sky sunny in this image? "
        "Answer the Yes-No question with only the single word with nothing else.",
    }


def test_prompts_command_dump_and_template(tmp_path: Path, benchmark) -> None:  # type: ignore[no-untyped-def]
    dump = write(
        tmp_path / "d.jsonl",
        HEADER,
        {
            "image": "AMBER_1.jpg",
            "regions": [{"caption": "a lake", "score": 0.1}, {"caption": "a road.", "score": 0.9}],
        },
    )
    out = tmp_path / "p.jsonl"
    args = ["prompts", "--captions", str(dump), "--limit-images", "1", "--order", "score"]
    result = CliRunner().invoke(cli, [*args, "--template", "paper-alt", "--out", str(out)])
    assert result.exit_code == 0, result.output
    first = json.loads(out.read_text().splitlines()[0])
    assert first["prompt"] == (
        "If an image contains a road, a lake. Is the sky sunny in this image? "
        "Answer the Yes-No question with only a single word and nothing else."
    )
    # The dump has one image; asking for two is a clear error and writes nothing.
    with pytest.raises(SystemExit) as info:
        main([*args[:4], "--limit-images", "2", "--out", str(tmp_path / "q.jsonl")])
    assert info.value.code == 2
    assert not (tmp_path / "q.jsonl").exists()


def test_captions_score_without_vectors(tmp_path: Path, benchmark, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AMBER_EVAL_CACHE", str(tmp_path))
    out = tmp_path / "cov.json"
    result = CliRunner().invoke(
        cli,
        [
            "captions",
            "score",
            "oracle",
            "--limit-images",
            "2",
            "--spacy-model",
            str(tmp_path / "none"),
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "oracle templates matched 4789 of 4789 yes-questions" in result.output
    assert "caption coverage: n/a (" in result.output
    data = json.loads(out.read_text())
    assert data["coverage"]["available"] is False
    assert data["oracle"]["unmatched"] == 0
    assert data["selection"] == {"top_k": None, "min_score": None, "order": "dump", "dedupe": True}
    assert data["captioner"]["name"] == "oracle"


@pytest.mark.slow
def test_captions_score_with_vectors(
    tmp_path: Path, benchmark, parity_dir: Path, nltk_data_dir: Path, shared_cache: Path
) -> None:  # type: ignore[no-untyped-def]
    dump = write(
        tmp_path / "d.jsonl",
        HEADER,
        {"image": "AMBER_1.jpg", "regions": [{"caption": "a dog"}, {"caption": "a sky"}]},
    )
    result = CliRunner().invoke(
        cli,
        ["captions", "score", str(dump), "--spacy-model", str(parity_dir / "glove50-amber-vocab")],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("caption coverage of 1 images")
    assert lines[1].split() == ["mode", "CHAIR", "Cover", "Hal", "Cog"]
    # "a dog, a sky.": dog is hallucinated (a hallu object), sky covers 1 of 7 truth objects.
    assert lines[2].split() == ["strict", "50.00", "14.29", "100.00", "20.00"]
    assert lines[3].split() == ["official", "50.0", "14.3", "100.0", "20.0"]


@pytest.fixture
def shared_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One cache folder for the whole session, so the similarity table is computed once."""
    folder = tmp_path_factory.getbasetemp() / "amber-eval-cache"
    monkeypatch.setenv("AMBER_EVAL_CACHE", str(folder))
    return folder
