"""The HTML report of six runs in headless Chromium: a short alarm block, published rows set
apart, legends off the data; and the per-image nouns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from parts import requires_mark, requires_module

from amber_eval.benchmarks.reporting import CHROMIUM, CHROMIUM_FLAGS
from amber_eval.benchmarks.synthetic_runs import write_synthetic_run
from amber_eval.reporting import load_run
from amber_eval.reporting.html import render_html, run_payload


def _six_runs(root: Path) -> list:  # type: ignore[type-arg]
    folders = [
        write_synthetic_run(
            root / f"model{k}" / f"mock-{k}",
            model=f"model{k}",
            images=12,
            seed=k,
            accuracy=0.95,
            alarm=k >= 3,
        )
        for k in range(6)
    ]
    return [load_run(folder) for folder in folders]


def test_legend_box_does_not_overlap_the_axes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    requires_module("matplotlib")
    import amber_eval.reporting.plots as plots

    seen = {}

    def keep(figure):  # type: ignore[no-untyped-def]
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        axes = figure.axes[-1]
        seen["legend"] = axes.get_legend().get_window_extent(renderer)
        seen["axes"] = axes.get_window_extent(renderer)
        return "data:"

    monkeypatch.setattr(plots, "_png", keep)
    runs = [(f"run {k}", {"overall.F1": 99.0}) for k in range(6)]
    plots.prf_bars(runs)
    legend, axes = seen["legend"], seen["axes"]
    assert legend.x0 >= axes.x1  # entirely to the right of the plotting area


def test_per_image_view_lists_the_nouns(tmp_path: Path) -> None:
    folder = write_synthetic_run(tmp_path / "m" / "mock-1", model="m", images=2)
    lines = (folder / "coverage.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    rows[0]["covered"] = {"puppy": "dog", "grass": "grass"}  # the scoring record's form
    rows[0]["hallucinated"] = ["cat"]
    (folder / "coverage.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    payload = run_payload(load_run(folder), "m", "strict")
    first = next(image for image in payload["images"] if image["image"] == rows[0]["image"])
    assert first["nouns"] == {"covered": ["puppy", "grass"], "hallucinated": ["cat"]}
    html = render_html([load_run(folder)])
    assert "covering nouns: " in html and "hallucinated nouns: " in html


@pytest.mark.browser
@requires_mark("browser", not CHROMIUM.exists(), "Chromium (/usr/bin/chromium) is not installed")
def test_six_runs_in_headless_chromium(tmp_path: Path) -> None:
    sync_api = requires_module("playwright.sync_api", part="browser")
    runs = _six_runs(tmp_path)
    report = tmp_path / "report.html"
    report.write_text(render_html(runs, references=["amber"]), encoding="utf-8")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(report.resolve().as_uri())
            page.wait_for_selector("body[data-ready='1']", timeout=10000)
            alarm = page.locator("#judge-alarm")
            box = alarm.bounding_box()
            assert box is not None
            # three alarmed runs: one line each, their warnings one click away
            assert alarm.locator("details").count() == 3
            assert box["height"] < 150, box
            assert page.locator("#judge-alarm li").first.is_visible() is False
            alarm.locator("summary").first.click()
            warnings = len(runs[3].judge_warnings())
            assert page.locator("#judge-alarm details").first.locator("li").count() == warnings
            # the first run row after the published rows has a rule above it
            first_run = page.locator("table.metrics tr.after-published").first
            assert "model0" in (first_run.text_content() or "")
            width = first_run.locator("td").first.evaluate(
                "cell => getComputedStyle(cell).borderTopWidth"
            )
            assert width == "1px"
            labels = page.locator("table.metrics tbody tr td:first-child").all_text_contents()
            assert "GPT-4V †" in labels
            page.screenshot(path=str(tmp_path / "top.png"))
        finally:
            browser.close()
    assert (tmp_path / "top.png").stat().st_size > 10000


def test_six_cover_histograms_get_a_panel_each(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    requires_module("matplotlib")
    import amber_eval.reporting.plots as plots

    seen = {}

    def keep(figure):  # type: ignore[no-untyped-def]
        seen["titles"] = [axis.get_title() for axis in figure.axes if axis.get_visible()]
        return "data:"

    monkeypatch.setattr(plots, "_png", keep)
    plots.coverage_histogram([(f"run {k}", [10.0 * k, 50.0]) for k in range(7)])
    assert seen["titles"] == [f"run {k}" for k in range(7)]  # 3 x 3 grid, two panels hidden
    plots.coverage_histogram([("a", [10.0]), ("b", [20.0])])
    assert seen["titles"] == [""]  # two runs: one axes, outlines and a legend
