"""filter_pairs end to end with a tiny random CLIP: hand-built pairs, scores recomputed
independently, the discard checked against an in-memory sort (ties included), resuming."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from amber_eval.benchmarks.synthetic_pairs import write_tiny_clip
from amber_eval.errors import InputError
from amber_eval.pairs.encoders import ClipSettings
from amber_eval.pairs.pipeline import FilterSettings, filter_pairs
from amber_eval.pairs.selection import discard_count

CAPTIONS = {
    "p0": ("bike.jpg", "A man riding a red bike on the street.", ["man", "red bike", "street"]),
    "p1": ("dogs.jpg", "Two brown dogs play with his old ball.", ["Two brown dogs", "old ball"]),
    "p2": ("empty.jpg", "Running fast", []),
    "p3": ("bike.jpg", "The parked cars and a sleeping cat.", ["parked cars", "sleeping cat"]),
}
TIED = [f"t{i}" for i in range(6)]  # six pairs "A tall tree." on low.jpg: one tied score


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_tiny_clip(tmp_path_factory.mktemp("clip"), seed=3)


@pytest.fixture(scope="module")
def model(clip_dir: str) -> Any:
    import open_clip

    net, _, preprocess = open_clip.create_model_and_transforms(clip_dir)
    net.eval()
    return net, open_clip.get_tokenizer(clip_dir), preprocess


def _text_embedding(model: Any, text: str) -> np.ndarray:
    import torch

    net, tokenizer, _ = model
    with torch.no_grad():
        row = net.encode_text(tokenizer([text]))[0].double().numpy()
    return row / np.linalg.norm(row)


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = rows.astype(np.float64)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture
def corpus(tmp_path: Path, model: Any) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    features = tmp_path / "features"
    features.mkdir()
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in ("bike", "dogs", "empty"):
        feats = rng.normal(size=(5, 64)).astype(np.float32)
        boxes = rng.uniform(0, 50, size=(5, 4))
        arrays[f"{name}.jpg"] = (feats, boxes)
    # low.jpg: every region points away from "tall tree", so its six phrases tie at the bottom.
    away = -_text_embedding(model, "tall tree").astype(np.float32)
    arrays["low.jpg"] = (np.stack([away, away * 2]), np.array([[0, 0, 4, 4], [4, 4, 8, 8]]))
    for image, (feats, boxes) in arrays.items():
        np.savez(features / f"{Path(image).stem}.npz", features=feats, boxes=boxes)
    lines = [{"id": pid, "image": img, "caption": cap} for pid, (img, cap, _) in CAPTIONS.items()]
    lines += [{"id": pid, "image": "low.jpg", "caption": "A tall tree."} for pid in TIED]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return {"pairs": pairs, "features": features, "arrays": arrays, "lines": lines}


def _settings(corpus: dict[str, Any], out: Path, clip: str, **kw: Any) -> FilterSettings:
    options: dict[str, Any] = {"shard_size": 3, "clip": ClipSettings(model=clip, text_batch_size=8)}
    options.update(kw)
    return FilterSettings(
        pairs=corpus["pairs"], out=out, features=corpus["features"], **{"ratio": 0.3, **options}
    )


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_filter_with_features(
    corpus: dict[str, Any], clip_dir: str, model: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    summary = filter_pairs(_settings(corpus, out, clip_dir, ratio=0.3))
    assert summary is not None
    kept, discarded = _read(out / "kept.jsonl"), _read(out / "discarded.jsonl")
    rows = kept + discarded

    # Step 1: the expected phrases of every pair, in caption order.
    expected = {pid: phrases for pid, (_, _, phrases) in CAPTIONS.items()}
    expected.update({pid: ["tall tree"] for pid in TIED})
    got: dict[str, list[str]] = {}
    for row in sorted(rows, key=lambda r: (r["ordinal"], r["phrase_index"])):
        got.setdefault(row["pair_id"], []).append(row["phrase"])
    assert got == {pid: phrases for pid, phrases in expected.items() if phrases}

    # Steps 2-3: score = max cosine over the image's regions, recomputed one phrase at a time.
    for row in rows:
        feats, boxes = corpus["arrays"][row["image"]]
        sims = _unit(feats) @ _text_embedding(model, row["phrase"])
        assert row["score"] == pytest.approx(float(sims.max()), abs=1e-5)
        assert row["region"] == int(sims.argmax())
        assert row["box"] == pytest.approx(list(boxes[row["region"]]))
    tied = [r["score"] for r in rows if r["pair_id"] in TIED]
    assert len(set(tied)) == 1 and tied[0] == pytest.approx(-1.0, abs=1e-5)

    # Step 4: floor(0.3 x 13) = 3 discarded: the three tied phrases with the smallest ordinals.
    n = len(rows)
    assert n == 13 and len(discarded) == discard_count(n, 0.3) == 3
    assert [r["pair_id"] for r in discarded] == ["t0", "t1", "t2"]
    data = summary.data
    assert data["counts"] == {
        "pairs": 10,
        "pairs_without_phrases": 1,
        "pairs_skipped": 0,
        "phrases": 13,
        "discarded": 3,
        "kept": 10,
    }
    assert data["threshold"]["score"] == tied[0]
    assert (data["threshold"]["ordinal"], data["threshold"]["phrase_index"]) == (6, 0)
    assert sum(data["histogram"]["counts"]) == 13
    assert (out / "histogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((out / "summary.json").read_text()) == data


@pytest.mark.parametrize("ratio", [0.0, 0.5, 0.77, 1.0])
def test_discard_equals_in_memory_sort(
    corpus: dict[str, Any], clip_dir: str, tmp_path: Path, ratio: float
) -> None:
    out = tmp_path / "out"
    filter_pairs(_settings(corpus, out, clip_dir, ratio=ratio, shard_size=2))
    kept, discarded = _read(out / "kept.jsonl"), _read(out / "discarded.jsonl")
    rows = kept + discarded
    order = sorted(rows, key=lambda r: (np.float32(r["score"]), r["ordinal"], r["phrase_index"]))
    reference = order[: discard_count(len(rows), ratio)]
    ident = lambda r: (r["ordinal"], r["phrase_index"])  # noqa: E731
    assert sorted(map(ident, discarded)) == sorted(map(ident, reference))
    # Outputs are in input order.
    assert [ident(r) for r in kept] == sorted(ident(r) for r in kept)


def test_resume_reuses_finished_shards(
    corpus: dict[str, Any], clip_dir: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    settings = _settings(corpus, out, clip_dir)
    filter_pairs(settings)
    work = out / "work"
    first = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in work.glob("shard-*")}
    kept = (out / "kept.jsonl").read_bytes()
    (work / "shard-00000001.done.json").unlink()  # as if interrupted while writing shard 1
    filter_pairs(settings)
    again = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in work.glob("shard-*")}
    redone = {name for name in first if first[name][0] != again[name][0]}
    assert redone == {"shard-00000001.npy", "shard-00000001.jsonl", "shard-00000001.done.json"}
    assert all(first[name][1] == again[name][1] for name in first if "done" not in name)
    assert (out / "kept.jsonl").read_bytes() == kept

    # A new ratio reuses every shard; other scoring settings are refused unless --restart.
    summary = filter_pairs(_settings(corpus, out, clip_dir, ratio=0.6))
    assert summary is not None and summary.discarded == 7
    assert {p.name: p.stat().st_mtime_ns for p in work.glob("shard-*")} == {
        name: value[0] for name, value in again.items()
    }
    with pytest.raises(InputError, match="shard_size differ"):
        filter_pairs(_settings(corpus, out, clip_dir, shard_size=4))
    summary = filter_pairs(_settings(corpus, out, clip_dir, shard_size=4), restart=True)
    assert summary is not None and summary.data["shards"]["count"] == 3


def test_missing_and_unsafe_feature_files(
    corpus: dict[str, Any], clip_dir: str, tmp_path: Path
) -> None:
    pairs = corpus["pairs"]
    with pairs.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "gone", "image": "nowhere.jpg", "caption": "A cat."}) + "\n")
    with pytest.raises(InputError, match=r"pair 'gone' \(line 11\): .*nowhere\.npz: feature file"):
        filter_pairs(_settings(corpus, tmp_path / "a", clip_dir))
    summary = filter_pairs(_settings(corpus, tmp_path / "b", clip_dir, skip_missing=True))
    assert summary is not None and summary.data["counts"]["pairs_skipped"] == 1
    assert _read(tmp_path / "b" / "skipped.jsonl")[0]["pair_id"] == "gone"

    for index, image in enumerate(("../features/bike.jpg", "/etc/passwd")):
        pairs.write_text(json.dumps({"id": "x", "image": image, "caption": "A cat."}) + "\n")
        with pytest.raises(InputError, match="must be a relative path inside"):
            filter_pairs(_settings(corpus, tmp_path / f"c{index}", clip_dir))


def test_feature_file_checks(corpus: dict[str, Any], clip_dir: str, tmp_path: Path) -> None:
    pairs = corpus["pairs"]
    pairs.write_text(json.dumps({"id": "x", "image": "bad.jpg", "caption": "A cat."}) + "\n")
    bad = corpus["features"] / "bad.npz"
    cases = [
        ({"features": np.array([{"a": 1}], dtype=object)}, "not a readable NPZ"),
        ({"features": np.zeros((2, 32), np.float32)}, "dimension 32, the CLIP model's is 64"),
        ({"features": np.zeros((2, 64)), "boxes": np.zeros((3, 4))}, "'boxes' must be"),
        ({"other": np.zeros((2, 64))}, "no 'features' array"),
    ]
    for index, (arrays, message) in enumerate(cases):
        np.savez(bad, **arrays)  # type: ignore[arg-type]
        with pytest.raises(InputError, match=message):
            filter_pairs(_settings(corpus, tmp_path / str(index), clip_dir))


def test_settings_are_checked(corpus: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(InputError, match="between 0 and 1"):
        FilterSettings(pairs=corpus["pairs"], out=tmp_path, ratio=1.5, features=tmp_path)
    with pytest.raises(InputError, match="exactly one of"):
        FilterSettings(pairs=corpus["pairs"], out=tmp_path, ratio=0.5)


def test_empty_input_and_images_without_regions(clip_dir: str, tmp_path: Path) -> None:
    features = tmp_path / "features"
    features.mkdir()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    settings = FilterSettings(
        pairs=empty, out=tmp_path / "a", ratio=0.5, features=features, clip=ClipSettings(clip_dir)
    )
    with pytest.raises(InputError, match=r"empty.jsonl: no pairs \(the file is empty"):
        filter_pairs(settings)
    assert not (tmp_path / "a" / "kept.jsonl").exists()

    np.savez(features / "z.npz", features=np.zeros((0, 64), np.float32))
    pairs = tmp_path / "z.jsonl"
    pairs.write_text(json.dumps({"id": "1", "image": "z.jpg", "caption": "A dog."}) + "\n")
    settings = FilterSettings(
        pairs=pairs, out=tmp_path / "b", ratio=0.5, features=features, clip=ClipSettings(clip_dir)
    )
    summary = filter_pairs(settings)
    assert summary is not None and summary.data["counts"]["pairs_skipped"] == 1
    assert _read(tmp_path / "b" / "skipped.jsonl") == [
        {"pair_id": "1", "ordinal": 0, "reason": "no regions"}
    ]
