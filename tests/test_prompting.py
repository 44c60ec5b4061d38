from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from amber_eval.errors import InputError, UnknownNameError
from amber_eval.prompting import (
    PromptRecord,
    PromptTemplate,
    load_template,
    read_prompts,
    render_prompts,
    template_names,
    write_prompts,
)

SNAPSHOTS = Path(__file__).parent / "snapshots" / "prompts"
UPDATE_ENV = "AMBER_EVAL_UPDATE_SNAPSHOTS"
SNAPSHOT_IDS = {
    "attribute-state": (1005, 1006),
    "attribute-number": (1013, 1020),
    "attribute-action": (1017, 1018),
    "existence": (8633, 8634),
    "relation": (13557, 13558),
}
CAPTIONS = {
    "AMBER_1.jpg": ["a person walking on a road.", " green  grass", "a lake.."],
    "AMBER_2.jpg": ["a man sitting in a boat."],
}


def test_builtin_templates() -> None:
    assert template_names() == ["paper", "paper-alt"]


def test_paper_template_exact_text() -> None:
    template = load_template("paper")
    assert template.render(["a dog", "green grass"], "Is the sky sunny in this image?") == (
        "If an image contains a dog, green grass. Is the sky sunny in this image? "
        "Answer the Yes-No question with only the single word with nothing else."
    )
    assert load_template("paper-alt").render(["a dog"], "Is there a cat in this image?") == (
        "If an image contains a dog. Is there a cat in this image? "
        "Answer the Yes-No question with only a single word and nothing else."
    )


def test_render_prompts_strips_periods_and_keeps_id_order(benchmark) -> None:  # type: ignore[no-untyped-def]
    records = render_prompts(benchmark, CAPTIONS, images=["AMBER_2.jpg", "AMBER_1.jpg"])
    assert [r.id for r in records] == sorted(r.id for r in records)
    assert {r.image for r in records} == {"AMBER_1.jpg", "AMBER_2.jpg"}
    assert len(records) == len(benchmark.questions_by_image["AMBER_1.jpg"]) + len(
        benchmark.questions_by_image["AMBER_2.jpg"]
    )
    first = records[0]
    assert first == PromptRecord(
        id=1005,
        image="AMBER_1.jpg",
        dimension="attribute-state",
        truth="yes",
        prompt="If an image contains a person walking on a road, green grass, a lake. "
        "Is the sky sunny in this image? Answer the Yes-No question with only the single word "
        "with nothing else.",
    )


@pytest.mark.parametrize("template", ["paper", "paper-alt"])
@pytest.mark.parametrize("dimension", sorted(SNAPSHOT_IDS))
def test_snapshots(benchmark, template: str, dimension: str) -> None:  # type: ignore[no-untyped-def]
    """Frozen prompts, one ``id<TAB>prompt`` line per question.

    How the files were checked: each line was read against the template's text written out by
    hand in ``test_paper_template_exact_text`` (above): ``If an image contains``, the
    image's captions of ``CAPTIONS`` joined by ``", "`` without trailing periods, ``.``, the
    question of that id as AMBER's query file words it, then the template's instruction."""
    records = {
        r.id: r for r in render_prompts(benchmark, CAPTIONS, template=template, images=CAPTIONS)
    }
    lines = []
    for qid in SNAPSHOT_IDS[dimension]:
        assert records[qid].dimension == dimension
        lines.append(f"{qid}\t{records[qid].prompt}\n")
    text = "".join(lines)
    path = SNAPSHOTS / f"{template}-{dimension}.txt"
    if os.environ.get(UPDATE_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"missing snapshot {path}; create it with {UPDATE_ENV}=1"
    assert text == path.read_text(encoding="utf-8")


def test_every_question_gets_a_prompt_and_missing_images_fail(benchmark) -> None:  # type: ignore[no-untyped-def]
    everything = {image: ["x"] for image in benchmark.images}
    assert len(render_prompts(benchmark, everything)) == 14216
    with pytest.raises(InputError, match="no entry for 1002 of the 1004 images"):
        render_prompts(benchmark, CAPTIONS)
    with pytest.raises(InputError, match=r"not AMBER images: AMBER_0\.jpg"):
        render_prompts(benchmark, CAPTIONS, images=["AMBER_0.jpg"])


def test_user_template_file(tmp_path: Path, benchmark) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mine.jinja"
    path.write_text(
        "{% for c in captions %}- {{ c }}\n{% endfor %}Q{{ id }} ({{ dimension }}, {{ image }}): "
        "{{ question }}\n"
    )
    template = load_template(str(path))
    assert (template.name, template.path) == ("mine", str(path))
    records = render_prompts(benchmark, CAPTIONS, template=path, images=["AMBER_2.jpg"])
    assert records[0].prompt == (
        "- a man sitting in a boat\n"
        "Q1015 (attribute-state, AMBER_2.jpg): Is the sky sunny in this image?"
    )


def test_template_errors(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'paper'"):
        load_template("papr")
    with pytest.raises(InputError, match="prompt template file not found"):
        load_template(str(tmp_path / "missing.jinja"))
    undefined = PromptTemplate("t", "{{ captoins }} {{ question }}")
    with pytest.raises(InputError, match="'captoins' is undefined; the variables are captions"):
        undefined.render(["a"], "q?")
    bad = tmp_path / "bad.jinja"
    bad.write_text("line one\n{% for c in captions %}")
    with pytest.raises(InputError, match=r"bad\.jinja:2: "):
        load_template(bad).render(["a"], "q?")


def test_template_is_sandboxed() -> None:
    template = PromptTemplate("t", "{{ question.__class__.__mro__ }}")
    with pytest.raises(InputError):
        template.render([], "q")


def test_write_and_read_prompts(tmp_path: Path) -> None:
    records = [PromptRecord(1005, "AMBER_1.jpg", "attribute-state", "yes", "If ... ünïcode")]
    path = write_prompts(tmp_path / "p.jsonl", records)
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "id": 1005,
        "image": "AMBER_1.jpg",
        "dimension": "attribute-state",
        "truth": "yes",
        "prompt": "If ... ünïcode",
    }
    assert read_prompts(path) == records
    path.write_text('{"id": "x", "image": "a", "dimension": "d", "truth": "yes", "prompt": "p"}\n')
    with pytest.raises(InputError, match=r"p\.jsonl:1: \"id\" must be an integer"):
        read_prompts(path)
    path.write_text('{"id": 1}\n')
    with pytest.raises(InputError, match=r"p\.jsonl:1: missing field 'image'"):
        read_prompts(path)
