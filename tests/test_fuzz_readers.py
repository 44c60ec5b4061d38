"""Property-based fuzzing of every reader of user files: any input is either read or rejected
with the project's input error (:class:`InputError`), never another exception.

Each reader gets raw bytes, JSON-shaped records with fields of any type (lone surrogates,
NaN, huge numbers and deep nesting included) and mutations of a valid file (characters cut,
doubled or replaced). ``FUZZ_EXAMPLES`` examples per strategy and reader.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from parts import requires_module

pytestmark = pytest.mark.slow
hypothesis = requires_module("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from amber_eval.errors import InputError  # noqa: E402

FUZZ_EXAMPLES = int(os.environ.get("AMBER_EVAL_FUZZ_EXAMPLES", "1000"))
"""Per strategy; three strategies per reader (``AMBER_EVAL_FUZZ_EXAMPLES`` overrides)."""

FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HEADER = {
    "format": "amber-eval/region-captions",
    "version": 1,
    "captioner": {"name": "fuzz", "version": None, "settings": {}},
    "created": "2026-01-01T00:00:00+00:00",
}
RLE_ALPHABET = "".join(chr(c) for c in range(48, 112)) + "!~\u00ff "

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=True)


@st.composite
def json_text(draw: st.DrawFn, record: st.SearchStrategy[Any]) -> str:
    """A record's JSON text, sometimes with a lone surrogate, NaN, 1e309 or deep nesting."""
    text = _dumps(draw(record))
    damage = draw(st.sampled_from(["none", "surrogate", "nan", "huge", "deep"]))
    if damage == "surrogate":
        return text.replace('"', '"\\ud800', 1)
    if damage == "nan":
        return text.replace("0", "NaN", 1)
    if damage == "huge":
        return text.replace("0", "1e309", 1)
    if damage == "deep":
        depth = draw(st.integers(min_value=500, max_value=50_000))
        return "[" * depth + text + "]" * depth
    return text


@st.composite
def mutated(draw: st.DrawFn, sample: str) -> bytes:
    """``sample`` with a few characters cut, doubled or replaced by any character or byte."""
    data = bytearray(sample.encode("utf-8"))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if not data:
            break
        position = draw(st.integers(min_value=0, max_value=len(data) - 1))
        op = draw(st.sampled_from(["cut", "double", "byte", "char"]))
        if op == "cut":
            del data[position : position + draw(st.integers(min_value=1, max_value=20))]
        elif op == "double":
            data[position:position] = data[position : position + 10]
        elif op == "byte":
            data[position] = draw(st.integers(min_value=0, max_value=255))
        else:
            data[position:position] = draw(st.characters()).encode("utf-8", "surrogatepass")
    return bytes(data)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="amber-eval-fuzz-") as folder:
        yield Path(folder)


def _read_or_reject(reader: Callable[[Path], Any], path: Path, data: bytes) -> None:
    path.write_bytes(data)
    with contextlib.suppress(InputError):
        reader(path)


# -- the readers and a valid sample of each --------------------------------------------------


def _responses(path: Path) -> Any:
    from amber_eval.scoring import read_responses

    return read_responses(path)


def _dump(path: Path) -> Any:
    from amber_eval.captions.dump import read_dump

    return read_dump(path)


def _prompts(path: Path) -> Any:
    from amber_eval.prompting import read_prompts

    return read_prompts(path)


def _answers(path: Path) -> Any:
    from amber_eval.run_folder.answer_line import read_answer_lines

    return read_answer_lines(path)


def _pairs(path: Path) -> Any:
    from amber_eval.pairs.reading import read_pairs

    return list(read_pairs(path))


PROMPT = {
    "id": 1005,
    "image": "AMBER_1.jpg",
    "dimension": "existence",
    "truth": "no",
    "prompt": "If an image contains a dog. Is there a cat in this image?",
}
ANSWER = {**PROMPT, "answer": "No", "parsed": "no", "p_yes": 0.1, "margin": -2.0, "token": "No",
          "flagged": False}  # fmt: skip
IMAGE = {
    "image": "AMBER_1.jpg",
    "width": 640,
    "height": 480,
    "regions": [
        {
            "caption": "a dog on grass",
            "score": 0.9,
            "bbox": [1, 2, 30, 40],
            "mask": {
                "size": [480, 640],
                "counts": "R?V1j=0000000000000000000000000000000000000000000000000000000nmm8",
            },
            "label": "dog",
        }
    ],
}


def _lines(*records: Any) -> str:
    return "".join(_dumps(r) + "\n" for r in records)


READERS: dict[str, tuple[Callable[[Path], Any], str, str]] = {
    "responses-json": (_responses, "r.json", _dumps([{"id": 1, "response": "A dog."}])),
    "responses-jsonl": (_responses, "r.jsonl", _lines({"id": 1005, "response": "Yes"})),
    "dump": (_dump, "d.jsonl", _lines(HEADER, IMAGE)),
    "prompts": (_prompts, "p.jsonl", _lines(PROMPT)),
    "answers": (_answers, "a.jsonl", _lines(ANSWER)),
    "pairs-jsonl": (
        _pairs,
        "pairs.jsonl",
        _lines({"id": "1", "image": "x.jpg", "caption": "a dog"}),
    ),
    "pairs-csv": (_pairs, "pairs.csv", 'id,image,caption\n1,x.jpg,"a dog, a cat"\n2,y.jpg,a car\n'),
}


def _record_strategy(name: str) -> st.SearchStrategy[str]:
    """File texts shaped like the reader's input, with fields of any type and value."""
    fields = {
        "responses-json": {"id": st.integers(), "response": json_values},
        "responses-jsonl": {"id": st.integers(), "response": json_values},
        "prompts": dict.fromkeys(PROMPT, json_values),
        "answers": dict.fromkeys(ANSWER, json_values),
        "pairs-jsonl": dict.fromkeys(("id", "image", "caption"), json_values),
    }
    if name == "dump":
        region = st.fixed_dictionaries(
            {},
            optional={
                "caption": json_values,
                "score": json_values,
                "bbox": st.one_of(json_values, st.lists(scalars, min_size=4, max_size=4)),
                "mask": st.one_of(
                    json_values,
                    st.fixed_dictionaries(
                        {
                            "size": st.lists(st.integers(-2, 700), max_size=3),
                            "counts": st.text(RLE_ALPHABET, max_size=40),
                        }
                    ),
                ),
                "label": json_values,
            },
        )
        image = st.fixed_dictionaries(
            {"image": st.sampled_from(["AMBER_1.jpg", "AMBER_2.jpg", "../x.jpg", ""]),
             "regions": st.lists(region, max_size=3)},
            optional={"width": json_values, "height": json_values},
        )  # fmt: skip
        header = st.one_of(st.just(HEADER), json_values)
        return st.tuples(json_text(header), st.lists(json_text(image), max_size=3)).map(
            lambda parts: "\n".join([parts[0], *parts[1]]) + "\n"
        )
    if name == "pairs-csv":
        cell = st.text(max_size=12)
        row = st.lists(cell, min_size=2, max_size=4).map(lambda cells: ",".join(cells))
        return st.lists(row, max_size=5).map(lambda rows: "id,image,caption\n" + "\n".join(rows))
    record = st.fixed_dictionaries({}, optional=fields[name])
    if name == "responses-json":
        return json_text(st.lists(st.one_of(record, json_values), max_size=4))
    return st.lists(json_text(st.one_of(record, json_values)), max_size=4).map(
        lambda lines: "\n".join(lines) + "\n"
    )


@pytest.mark.parametrize("name", sorted(READERS))
def test_any_bytes_are_read_or_rejected(name: str, scratch: Path) -> None:
    reader, file_name, _sample = READERS[name]

    @FUZZ
    @given(data=st.binary(max_size=300))
    def run(data: bytes) -> None:
        _read_or_reject(reader, scratch / file_name, data)

    run()


@pytest.mark.parametrize("name", sorted(READERS))
def test_records_of_any_shape_are_read_or_rejected(name: str, scratch: Path) -> None:
    reader, file_name, _sample = READERS[name]

    @FUZZ
    @given(text=_record_strategy(name))
    def run(text: str) -> None:
        _read_or_reject(reader, scratch / file_name, text.encode("utf-8", "surrogatepass"))

    run()


@pytest.mark.parametrize("name", sorted(READERS))
def test_damaged_valid_files_are_read_or_rejected(name: str, scratch: Path) -> None:
    reader, file_name, sample = READERS[name]
    reader(_write(scratch / file_name, sample))  # the sample itself is valid

    @FUZZ
    @given(data=mutated(sample))
    def run(data: bytes) -> None:
        _read_or_reject(reader, scratch / file_name, data)

    run()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@st.composite
def counts_strings(draw: st.DrawFn) -> tuple[str, int, int]:
    """A counts string with a mask size: half of them pycocotools' encoding of a random mask
    (valid, so the comparison below runs), half any text of RLE characters."""
    height, width = draw(st.integers(1, 50)), draw(st.integers(1, 50))
    if draw(st.booleans()):
        return draw(st.text(RLE_ALPHABET, max_size=60)), height, width
    mask_utils = requires_module("pycocotools.mask")
    import numpy as np

    bits = draw(st.lists(st.booleans(), min_size=height * width, max_size=height * width))
    mask = np.asfortranarray(np.array(bits, dtype=np.uint8).reshape((height, width), order="F"))
    return mask_utils.encode(mask)["counts"].decode("ascii"), height, width


@FUZZ
@given(case=counts_strings())
def test_rle_check_agrees_with_pycocotools(case: tuple[str, int, int]) -> None:
    """A counts string the dump check accepts decodes with pycocotools to the same runs."""
    from amber_eval.captions.rle_counts import counts_problem, decode_counts

    counts, height, width = case
    if counts_problem(counts, height, width) is not None:
        return
    mask_utils = requires_module("pycocotools.mask")
    import numpy as np

    mask = mask_utils.decode({"size": [height, width], "counts": counts.encode("ascii")})
    expanded = np.concatenate(
        [np.full(run, index % 2, dtype=np.uint8) for index, run in enumerate(decode_counts(counts))]
    )
    assert np.array_equal(np.asarray(mask).flatten(order="F"), expanded)


@FUZZ
@given(
    height=st.integers(1, 40),
    width=st.integers(1, 40),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_pycocotools_rle_passes_the_check(
    height: int, width: int, density: float, seed: int
) -> None:
    """Masks encoded by pycocotools are accepted, with the runs pycocotools wrote."""
    mask_utils = requires_module("pycocotools.mask")
    import numpy as np

    from amber_eval.captions.rle_counts import counts_problem, decode_counts

    mask = np.asfortranarray(np.random.default_rng(seed).random((height, width)) < density)
    counts = mask_utils.encode(mask.astype(np.uint8))["counts"].decode("ascii")
    assert counts_problem(counts, height, width) is None
    expanded = np.concatenate(
        [np.full(run, index % 2, dtype=bool) for index, run in enumerate(decode_counts(counts))]
    )
    assert np.array_equal(mask.flatten(order="F"), expanded)


# -- valid files read back to their records -----------------------------------------------


def _valid_file(name: str, ids: list[int], texts: list[str]) -> tuple[str, list[str]]:
    """A valid file of ``name``'s kind with one record per id, and the ids it must read back."""
    texts = texts[: len(ids)]
    if name == "responses-json":
        return _dumps([{"id": i, "response": t} for i, t in zip(ids, texts, strict=True)]), list(
            map(str, ids)
        )
    if name == "responses-jsonl":
        return _lines(*({"id": i, "response": t} for i, t in zip(ids, texts, strict=True))), list(
            map(str, ids)
        )
    if name == "prompts":
        return _lines(
            *({**PROMPT, "id": i, "prompt": t} for i, t in zip(ids, texts, strict=True))
        ), list(map(str, ids))
    if name == "answers":
        return _lines(
            *({**ANSWER, "id": i, "answer": t} for i, t in zip(ids, texts, strict=True))
        ), list(map(str, ids))
    images = [f"AMBER_{i}.jpg" for i in ids]
    if name == "dump":
        return _lines(HEADER, *({**IMAGE, "image": image} for image in images)), images
    if name == "pairs-jsonl":
        records = (
            {"id": str(i), "image": "x.jpg", "caption": t} for i, t in zip(ids, texts, strict=True)
        )
        return _lines(*records), list(map(str, ids))
    rows = "".join(
        f'{i},x.jpg,"{t.replace(chr(34), chr(34) * 2)}"\n' for i, t in zip(ids, texts, strict=True)
    )
    return "id,image,caption\n" + rows, list(map(str, ids))


def _ids_read(name: str, records: Any) -> list[str]:
    if name == "dump":
        return [entry.image for entry in records.images]
    return [str(record.id) for record in records]


@pytest.mark.parametrize("name", sorted(READERS))
def test_valid_files_read_back_their_records(name: str, scratch: Path) -> None:
    """A reader that drops, reorders or invents records fails: every id comes back, in order."""
    reader, file_name, _sample = READERS[name]
    text = st.text(st.characters(min_codepoint=32, exclude_categories=["Cs"]), min_size=1)

    @FUZZ
    @given(
        ids=st.lists(st.integers(1, 10_000), min_size=1, max_size=6, unique=True),
        texts=st.lists(text.filter(str.strip), min_size=6, max_size=6),
    )
    def run(ids: list[int], texts: list[str]) -> None:
        content, expected = _valid_file(name, ids, texts)
        records = reader(_write(scratch / file_name, content))
        assert _ids_read(name, records) == expected

    run()
