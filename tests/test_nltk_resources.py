"""Finding the three NLTK resources, naming the missing ones, fetching them with the downloader."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from amber_eval import nltk_resources
from amber_eval.errors import ResourceError

WHERE = {
    "punkt_tab": "tokenizers/punkt_tab",
    "averaged_perceptron_tagger_eng": "taggers/averaged_perceptron_tagger_eng",
    "wordnet": "corpora/wordnet",
}


@pytest.fixture
def search_path(monkeypatch, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """Make NLTK search only an empty temporary folder."""
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    return tmp_path


def test_all_present_with_nltk_data(nltk_data_dir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    nltk_resources.require_nltk_resources()
    assert nltk_resources.main(["--check"]) == 0
    out = capsys.readouterr().out
    for name in WHERE:
        assert f"{name}: present" in out


def test_missing_resource_named_with_the_command(search_path: Path, nltk_data_dir: Path) -> None:
    for name in ("punkt_tab", "wordnet"):
        shutil.copytree(nltk_data_dir / WHERE[name], search_path / WHERE[name])
    with pytest.raises(ResourceError) as info:
        nltk_resources.require_nltk_resources()
    message = str(info.value)
    assert "averaged_perceptron_tagger_eng" in message
    assert "wordnet," not in message and "punkt_tab," not in message
    assert "python -m nltk.downloader punkt_tab averaged_perceptron_tagger_eng wordnet" in message
    assert "python -m amber_eval.nltk_resources" in message


def test_main_downloads_missing_resources(
    search_path: Path, nltk_data_dir: Path, monkeypatch, capsys
) -> None:
    import nltk

    calls: list[str] = []

    def download(name: str, quiet: bool = False, raise_on_error: bool = False) -> bool:
        # Stands in for the network: installs the resource where NLTK looks.
        calls.append(name)
        shutil.copytree(nltk_data_dir / WHERE[name], search_path / WHERE[name])
        return True

    monkeypatch.setattr(nltk, "download", download)
    shutil.copytree(nltk_data_dir / WHERE["wordnet"], search_path / WHERE["wordnet"])
    assert nltk_resources.main([]) == 0
    assert calls == ["punkt_tab", "averaged_perceptron_tagger_eng"]
    out = capsys.readouterr().out
    assert "punkt_tab: downloaded" in out
    assert "wordnet: present" in out


def test_main_fails_when_a_download_fails(search_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import nltk

    monkeypatch.setattr(nltk, "download", lambda *a, **k: False)
    assert nltk_resources.main([]) == 1
    captured = capsys.readouterr()
    assert "wordnet: download FAILED" in captured.out
    assert "missing: punkt_tab, averaged_perceptron_tagger_eng, wordnet" in captured.err
