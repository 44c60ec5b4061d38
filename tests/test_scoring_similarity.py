"""The similarity table equals spaCy's per-pair Doc.similarity decisions, and is cached."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from amber_eval.errors import ResourceError
from amber_eval.scoring import similarity as similarity_module
from amber_eval.scoring.similarity import load_similarity, locate_pipeline, start_similarity


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_table_matches_per_pair_calls(parity_dir: Path, benchmark, tmp_path: Path) -> None:
    import spacy

    pipeline = parity_dir / "glove50-amber-vocab"
    table = load_similarity(str(pipeline), vocabulary=benchmark.vocabulary, cache_dir=tmp_path)
    assert len(table.words) == 418
    nlp = spacy.load(pipeline)
    words = sorted(benchmark.vocabulary)
    rng = random.Random(7)
    pairs = [(rng.choice(words), rng.choice(words)) for _ in range(400)]
    pairs += [(a, b) for a in ("e-book", "air-conditioning", "TV") for b in words]
    pairs.append(("dog", "dog"))
    pairs += [(a, b) for a in words[:20] for b in words[:20]]
    for a, b in pairs:
        value = nlp(a).similarity(nlp(b))
        assert table.value(a, b) == value
        assert table.similar(a, b) == (value > 0.8)
    assert table.value("dog", "dog") == 1.0


def test_cache_is_reused_and_keyed_by_pipeline(parity_dir: Path, benchmark, tmp_path: Path) -> None:
    pipeline = tmp_path / "pipe"
    shutil.copytree(parity_dir / "glove50-amber-vocab", pipeline)
    for path in pipeline.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    cache = tmp_path / "cache"
    first = load_similarity(str(pipeline), vocabulary=benchmark.vocabulary, cache_dir=cache)
    stored = sorted(p.name for p in cache.glob("*.npy"))
    assert len(stored) == 1 and stored[0].startswith("en_pipeline-0.0.0-")
    assert not list(cache.glob("*.pkl"))

    # A cache hit starts no helper process.
    again = start_similarity(str(pipeline), vocabulary=benchmark.vocabulary, cache_dir=cache)
    assert again._process is None
    assert (again.result().values == first.values).all()
    # Another version of the pipeline is another key: computed again, stored beside.
    meta = json.loads((pipeline / "meta.json").read_text())
    meta["version"] = "0.0.1"
    (pipeline / "meta.json").write_text(json.dumps(meta))
    other = start_similarity(str(pipeline), vocabulary=benchmark.vocabulary, cache_dir=cache)
    assert other._process is not None
    assert (other.result().values == first.values).all()
    assert len(list(cache.glob("*.npy"))) == 2


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_table_is_computed_here_when_the_helper_fails(
    parity_dir: Path, benchmark, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(similarity_module.sys, "executable", "/bin/false")
    calls: list[int] = []
    compute = similarity_module.compute_similarity

    def counted(nlp, words):  # type: ignore[no-untyped-def]
        calls.append(len(words))
        return compute(nlp, words)

    monkeypatch.setattr(similarity_module, "compute_similarity", counted)
    table = load_similarity(
        str(parity_dir / "glove50-amber-vocab"), vocabulary=benchmark.vocabulary, cache_dir=tmp_path
    )
    assert calls == [418]
    assert table.similar("dog", "cat") == (table.value("dog", "cat") > 0.8)


def test_missing_pipeline_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(ResourceError) as info:
        locate_pipeline("en_core_web_nonexistent_xyz")
    message = str(info.value)
    assert "python -m spacy download en_core_web_lg" in message
    assert "--spacy-model PATH" in message
    with pytest.raises(ResourceError, match="not found"):
        load_similarity(str(tmp_path / "missing"), vocabulary=["dog"], cache_dir=tmp_path)
