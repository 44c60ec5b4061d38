from __future__ import annotations

from pathlib import Path

import pytest

from amber_eval.captions.dump import read_dump, write_dump
from amber_eval.captions.oracle import caption_for, oracle_dump
from amber_eval.data.benchmark import Benchmark, Dimension, GenerativeItem, Question


def q(
    qid: int, text: str, dimension: Dimension, truth: bool = True, image: str = "AMBER_1.jpg"
) -> Question:
    return Question(qid, image, text, dimension, truth)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (q(1, "Is the sky sunny in this image?", Dimension.STATE), "the sky is sunny"),
        (
            q(2, "Is the sea rolling waves in this image?", Dimension.STATE),
            "the sea is rolling waves",
        ),
        (q(3, "Are there three people in this image?", Dimension.NUMBER), "three people"),
        (q(4, "Is there one ship in this image?", Dimension.NUMBER), "one ship"),
        (
            q(5, "Does the person ride a bike in this image?", Dimension.ACTION),
            "the person does ride a bike",
        ),
        (
            q(6, "Is there direct contact between the man and ship?", Dimension.RELATION),
            "the man is in direct contact with the ship",
        ),
        # A template of another dimension never applies.
        (q(7, "Is the sky sunny in this image?", Dimension.ACTION), None),
        (q(8, "Is there a cat in this image?", Dimension.EXISTENCE), None),
        (q(9, "How many cats are there?", Dimension.NUMBER), None),
    ],
)
def test_templates(question: Question, expected: str | None) -> None:
    assert caption_for(question) == expected


def tiny_benchmark() -> Benchmark:
    questions = [
        q(3, "Is the dog brown in this image?", Dimension.STATE),
        q(4, "Is the dog white in this image?", Dimension.STATE, truth=False),
        q(5, "Is there one dog in this image?", Dimension.NUMBER),
        q(6, "Is there one dog in this image?", Dimension.NUMBER),  # same caption again
        q(7, "How many balls are there?", Dimension.NUMBER),  # matches no template
        q(8, "Is there a cat in this image?", Dimension.EXISTENCE, truth=False),
        q(
            9,
            "Is there direct contact between the dog and ball?",
            Dimension.RELATION,
            image="AMBER_2.jpg",
        ),
    ]
    return Benchmark(
        data_dir=Path("."),
        questions={x.id: x for x in questions},
        generative={
            1: GenerativeItem(
                1, "AMBER_1.jpg", "Describe this image.", ("dog", "ball", "dog"), ("cat",)
            ),
            2: GenerativeItem(2, "AMBER_2.jpg", "Describe this image.", ("dog",), ()),
        },
        association={},
        safe_words=frozenset(),
    )


def test_oracle_dump_order_duplicates_and_report() -> None:
    dump, report = oracle_dump(tiny_benchmark())
    assert [[r.caption for r in e.regions] for e in dump.images] == [
        ["a dog", "a ball", "the dog is brown", "one dog"],
        ["a dog", "the dog is in direct contact with the ball"],
    ]
    assert [e.image for e in dump.images] == ["AMBER_1.jpg", "AMBER_2.jpg"]
    assert dump.images[0].regions[0].label == "dog"
    assert dump.header.captioner.name == "oracle"
    assert (report.yes_questions, report.matched, report.unmatched_count) == (5, 4, 1)
    assert report.by_dimension == {
        "attribute-state": (1, 1),
        "attribute-number": (2, 3),
        "relation": (1, 1),
    }
    assert [u.id for u in report.unmatched] == [7]
    data = report.to_json()
    assert data["unmatched_examples"] == [
        {
            "id": 7,
            "image": "AMBER_1.jpg",
            "dimension": "attribute-number",
            "question": "How many balls are there?",
        }
    ]
    assert data["captions"] == {"truth_objects": 3, "from_questions": 3, "duplicates_dropped": 2}
    assert "matched 4 of 5 yes-questions (1 unmatched)" in report.summary()
    assert (
        "unmatched 7 (attribute-number, AMBER_1.jpg): How many balls are there?" in report.summary()
    )


def test_oracle_on_amber(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dump, report = oracle_dump(benchmark)
    assert len(dump.images) == 1004
    assert report.yes_questions == 2382 + 1036 + 396 + 975
    assert report.matched == report.yes_questions
    assert report.unmatched == ()
    first = [r.caption for r in dump.images[0].regions]
    # AMBER_1: truth objects, then its yes-questions 1005, 1007, 1009, 1011, 1013, 13557.
    assert first == [
        "a sky",
        "a forest",
        "a grass",
        "a person",
        "a lake",
        "a mountain",
        "a road",
        "the sky is sunny",
        "the mountain is short",
        "the forest is lively",
        "the grass is green",
        "three people",
        "the person is in direct contact with the grass",
    ]
    second = [r.caption for r in dump.images[1].regions]
    assert "the man does sit" in second and "one ship" in second
    assert second.count("a ship") == 1  # AMBER_2 lists "ship" twice among its truth objects
    # The dump is a valid caption dump.
    path = write_dump(tmp_path / "oracle.jsonl", dump.header, dump.images)
    assert read_dump(path, benchmark.images).images == dump.images
