"""``captions import --from descriptions``: an MLLM's descriptions -> one region per sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from amber_eval.captions.descriptions import (
    caption_case,
    description_captions,
    descriptions_as_captions,
)
from amber_eval.captions.dump import read_dump
from amber_eval.cli.captions_import import import_captions as import_command
from amber_eval.cli.main import main
from amber_eval.errors import InputError
from amber_eval.scoring.responses import Response
from amber_eval.segmenter.importing import import_descriptions


def test_sentences_lose_capital_and_closing_punctuation() -> None:
    text = "The image features a dog.  It sits on the grass!\nIs it happy? A red car is parked."
    assert description_captions(text) == [
        "the image features a dog",
        "it sits on the grass",
        "is it happy",
        "a red car is parked",
    ]


def test_acronyms_mixed_case_words_and_i_keep_their_capitals() -> None:
    assert caption_case("TV on a table") == "TV on a table"
    assert caption_case("NASA's rocket") == "NASA's rocket"
    assert caption_case("McDonald's sign") == "McDonald's sign"
    assert caption_case("I'm not sure") == "I'm not sure"
    assert caption_case("In the park") == "in the park"
    assert caption_case("A dog") == "a dog"
    assert caption_case('"Quoted" start') == '"Quoted" start'  # no letter first: unchanged


def test_list_markers_and_clauses() -> None:
    text = "1. A dog runs, and a cat sleeps.\n- Trees: tall; green\n* Sky, blue"
    assert description_captions(text) == [
        "a dog runs, and a cat sleeps",
        "trees: tall; green",
        "sky, blue",
    ]
    assert description_captions(text, split="clause") == [
        "a dog runs",
        "and a cat sleeps",
        "trees",
        "tall",
        "green",
        "sky, blue",  # a comma before a noun phrase is no clause break
    ]


def test_ids_name_images_answers_are_left_out_and_bad_ids_refused() -> None:
    made = descriptions_as_captions(
        [Response(12, "Two cats."), Response(3, ""), Response(1005, "Yes")], source="f.json"
    )
    assert [(i.image, [r.caption for r in i.regions]) for i in made.images] == [
        ("AMBER_3.jpg", []),
        ("AMBER_12.jpg", ["two cats"]),
    ]
    assert made.left_out == 1
    with pytest.raises(InputError, match=r"f\.json: id 12 appears more than once"):
        descriptions_as_captions([Response(12, "a"), Response(12, "b")], source="f.json")
    with pytest.raises(InputError, match=r"f\.json: id 0 is not an AMBER id"):
        descriptions_as_captions([Response(0, "a")], source="f.json")
    with pytest.raises(InputError, match=r"f\.json: no descriptions"):
        descriptions_as_captions([Response(1005, "No")], source="f.json")


def test_jsonl_of_id_and_response_becomes_a_valid_dump(tmp_path: Path) -> None:
    source = tmp_path / "llava.jsonl"
    lines = [
        {"id": 7, "response": "The image shows a man on a bench. He holds an umbrella."},
        {"id": 1005, "response": "Yes"},
    ]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "captions.jsonl"
    summary = import_descriptions(source, out, name="llava-1.5-7b")
    assert (summary.images, summary.regions, summary.left_out) == (1, 2, 1)
    dump = read_dump(out)
    assert dump.header.captioner.name == "llava-1.5-7b"
    settings = dump.header.captioner.settings
    assert (settings["imported_from"], settings["split"], settings["source_file"]) == (
        "descriptions",
        "sentence",
        "llava.jsonl",
    )
    (image,) = dump.images
    assert image.image == "AMBER_7.jpg"
    assert [r.caption for r in image.regions] == [
        "the image shows a man on a bench",
        "he holds an umbrella",
    ]


def test_cli_on_the_parity_response_file(parity_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "captions.jsonl"
    source = parity_dir / "all_yes.json"
    result = CliRunner().invoke(
        import_command, ["--from", "descriptions", str(source), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "1004 image(s)" in result.output
    assert "14216 Yes/No answer(s) left out" in result.output
    first = read_dump(out).images[0]
    # all_yes.json id 1: "There is a ground that is visible. There is a sky that is present. ..."
    assert first.image == "AMBER_1.jpg"
    assert [r.caption for r in first.regions[:2]] == [
        "there is a ground that is visible",
        "there is a sky that is present",
    ]


def test_cli_answer_file_is_refused_and_nothing_written(
    parity_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "captions.jsonl"
    out.write_text("keep me")
    source = parity_dir / "answers_exact.json"
    with pytest.raises(SystemExit) as info:
        main(["captions", "import", "--from", "descriptions", str(source), "--out", str(out)])
    assert info.value.code == 2
    assert "answers_exact.json: no descriptions" in capsys.readouterr().err
    assert out.read_text() == "keep me"
