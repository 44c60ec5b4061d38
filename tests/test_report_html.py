"""The HTML report: self-contained, inert data, and a real headless-Chromium check."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from parts import requires_mark, requires_module

from amber_eval.benchmarks.reporting import CHROMIUM, CHROMIUM_FLAGS
from amber_eval.benchmarks.synthetic_runs import write_synthetic_run
from amber_eval.reporting import load_run
from amber_eval.reporting.html import render_html, script_json
from amber_eval.reporting.run_outputs import write_run_report

HOSTILE = '</script><script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> & co'


def _hostile_run(root: Path, images: int = 30) -> Path:
    folder = write_synthetic_run(root / "m&m" / "mock-000000000000", model="m&m <b>", images=images)
    answers = [json.loads(line) for line in (folder / "answers.jsonl").read_text().splitlines()]
    answers[0]["answer"] = HOSTILE
    answers[0]["parsed"] = "unknown"
    (folder / "answers.jsonl").write_text("".join(json.dumps(a) + "\n" for a in answers))
    coverage = [json.loads(line) for line in (folder / "coverage.jsonl").read_text().splitlines()]
    coverage[0]["description"] = "a cat " + HOSTILE
    (folder / "coverage.jsonl").write_text("".join(json.dumps(c) + "\n" for c in coverage))
    return folder


def _embedded(html: str) -> Any:
    match = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S
    )
    assert match is not None
    return json.loads(match.group(1))


def test_script_json_escapes_markup() -> None:
    text = script_json({"a": "</script><b>&amp;"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><b>&amp;"}


def test_report_is_self_contained_and_data_is_inert(tmp_path: Path) -> None:
    folder = _hostile_run(tmp_path)
    html = render_html([load_run(folder)])
    # Only the page's own two script elements; the hostile text never closes one.
    assert html.count("<script") == 2
    assert "<script>window.__xss" not in html and "<img src=x" not in html
    assert "innerHTML" not in html and "insertAdjacentHTML" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "m&amp;m &lt;b&gt; + mock" in html  # labels escaped in the tables
    data = _embedded(html)
    first = data["runs"][0]["images"][0]
    assert first["q"][0][4] == HOSTILE  # round-trips exactly, as data
    assert first["description"].endswith(HOSTILE)
    if shutil.which("python3") and _has_matplotlib():
        assert html.count('src="data:image/png;base64,') >= 3  # P/R/F1, Yes-ratio, calibration


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def test_prompts_are_stored_once_per_image_and_rebuilt(tmp_path: Path) -> None:
    folder = write_synthetic_run(tmp_path / "m" / "x-1", images=3)
    data = _embedded(render_html([load_run(folder)]))
    answers = [json.loads(line) for line in (folder / "answers.jsonl").read_text().splitlines()]
    by_id = {a["id"]: a for a in answers}
    for image in data["runs"][0]["images"]:
        assert image["pre"].startswith("If an image contains")
        assert image["suf"].startswith(" Answer the Yes-No question")
        for question in image["q"]:
            assert image["pre"] + question[3] + image["suf"] == by_id[question[0]]["prompt"]
            assert question[3].startswith("Is ")  # the middle part is the question


def test_write_run_report(tmp_path: Path) -> None:
    folder = write_synthetic_run(tmp_path / "m" / "x-1", images=5)
    path = write_run_report(folder)
    assert path == folder / "report.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def _launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)


def _wait_until(page: Any, condition: Any, timeout_s: float = 5.0) -> None:
    """Poll ``condition`` (the page's CSP forbids the string evaluation wait_for_function uses)."""
    waited = 0.0
    while not condition():
        assert waited < timeout_s, "the page did not update"
        page.wait_for_timeout(50)
        waited += 0.05


@pytest.mark.browser
@requires_mark("browser", not CHROMIUM.exists(), "Chromium (/usr/bin/chromium) is not installed")
def test_report_in_headless_chromium(tmp_path: Path) -> None:
    sync_api = requires_module("playwright.sync_api", part="browser")
    folder = _hostile_run(tmp_path, images=60)
    report = write_run_report(folder)
    console: list[tuple[str, str]] = []
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda message: console.append((message.type, message.text)))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(report.resolve().as_uri())
            page.wait_for_selector("body[data-ready='1']", timeout=10000)

            def shown() -> tuple[str, int]:
                return (
                    page.text_content("#count") or "",
                    page.locator("#images table.questions tr.right, #images tr.wrong").count(),
                )

            count, rows = shown()
            assert count.startswith("60 of 60 images, 840 questions shown")
            assert page.locator("#images section.image").count() == 20  # one page of 20
            # The hostile description and answer are on the first page, as text.
            text = page.text_content("#images") or ""
            assert "window.__xss = 1" in text and "onerror=" in text
            assert page.evaluate("typeof window.__xss") == "undefined"

            page.check("#errors-only")
            errors_count, error_rows = shown()
            assert errors_count != count and error_rows < rows
            assert page.locator("#images tr.right").count() == 0
            assert page.locator("#images tr.wrong").count() == error_rows > 0

            page.uncheck("#errors-only")
            page.fill("#search", "AMBER_17.jpg")
            _wait_until(page, lambda: shown()[0].startswith("1 of 60"))
            assert page.locator("#images section.image").count() == 1
            assert page.locator("#images section.image h3").text_content() == "AMBER_17.jpg"

            page.fill("#search", "")
            page.select_option("#dimension-select", label="existence")
            _wait_until(page, lambda: shown()[0] != count)
            dimensions = page.locator(
                "#images tr.right td:nth-child(3), #images tr.wrong td:nth-child(3)"
            )
            assert set(dimensions.all_text_contents()) == {"existence"}

            page.click("#next")
            assert (page.text_content("#page") or "").strip().startswith("page 2 of")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10000
    assert errors == []
    assert [m for m in console if m[0] in ("error", "warning")] == []
    assert all(url.startswith(("file:", "data:")) for url in requests), requests


def test_cli_html_with_intervals_and_two_runs(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from amber_eval.cli.main import cli

    a = write_synthetic_run(tmp_path / "a" / "x-1", model="a", images=8, seed=1)
    b = write_synthetic_run(tmp_path / "b" / "x-2", model="b", images=8, seed=2)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        cli,
        [
            "report",
            str(a),
            str(b),
            "--format",
            "html",
            "--ci",
            "95",
            "--resamples",
            "100",
            "--with-reference",
            "amber",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.count('<span class="ci">[') >= 2 * 9  # two runs, every amber column at least
    assert "GPT-4V †" in html  # the published rows fill the amber layout only
    assert "Ours+Llama2" not in html
    data = _embedded(html)
    assert [run["label"] for run in data["runs"]] == ["a + mock", "b + mock"]


def test_captions_come_from_the_run_folder(tmp_path: Path) -> None:
    import shutil

    from amber_eval.run_folder.files import write_selected_captions

    folder = write_synthetic_run(tmp_path / "results" / "m" / "x-1", images=2)
    write_selected_captions(
        folder / "selected-captions.json", {"AMBER_1.jpg": ["a <b>dog</b>", "grass"]}
    )
    moved = shutil.copytree(folder, tmp_path / "elsewhere" / "x-1")  # another machine
    shutil.rmtree(tmp_path / "results")
    images = _embedded(render_html([load_run(moved)]))["runs"][0]["images"]
    assert images[0]["captions"] == ["a <b>dog</b>", "grass"]
    assert "captions" not in images[1] and "description" in images[1]
