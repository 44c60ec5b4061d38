from __future__ import annotations

import pytest

from amber_eval.progress import rate_progress


def test_bar_counts_items_and_shows_the_rate_unit(capsys: pytest.CaptureFixture[str]) -> None:
    with rate_progress(3, "working", "widgets") as advance:
        advance(1)
        advance(2)
    err = capsys.readouterr().err
    assert "working" in err
    assert "3/3" in err
    assert "widgets/s" in err


@pytest.mark.parametrize(("total", "enabled"), [(5, False), (0, True)])
def test_disabled_or_empty_bar_prints_nothing(
    total: int, enabled: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    with rate_progress(total, "working", "widgets", enabled=enabled) as advance:
        advance(1)
    assert capsys.readouterr().err == ""
