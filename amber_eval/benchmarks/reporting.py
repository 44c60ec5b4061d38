"""Benchmark of the report machinery on a synthetic full-size run (1,004 images, 14,216 questions).

``amber-eval bench-report`` (:func:`run_bench`) prints:
- the bootstrap time for 1,000 resamples (vectorised ``W @ counts``) and, measured in the same
  run, a per-resample loop over the same count rows (the baseline), with their ratio;
- the HTML report's render time and size, and, when Chromium and playwright are available, the
  time the page takes to open (navigation start to the per-image view rendered).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from amber_eval.amber_images import IMAGE_COUNT
from amber_eval.benchmarks.synthetic_runs import synthetic_records, write_synthetic_run
from amber_eval.reporting.bootstrap import bootstrap, image_counts, metrics_from_sums

IMAGES = IMAGE_COUNT
QUESTIONS = 14216
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _best_of(repeats: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def _loop_bootstrap(counts: np.ndarray, resamples: int, seed: int) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    n = counts.shape[0]
    return [metrics_from_sums(counts[rng.integers(0, n, n)].sum(axis=0)) for _ in range(resamples)]


def open_time(path: Path, *, chromium: Path = CHROMIUM) -> float | None:
    """Seconds from navigation to the rendered per-image view, or None without a browser."""
    if not chromium.exists():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(path.resolve().as_uri())
            page.wait_for_selector("body[data-ready='1']")
            return time.perf_counter() - start
        finally:
            browser.close()


def run_bench(
    *, resamples: int = 1000, repeats: int = 3, browser: bool = True, echo: Callable[[str], None]
) -> None:
    """Time the bootstrap against its per-resample baseline, then render and open the report."""

    answers, coverage, _ = synthetic_records(IMAGES, seed=0, total_questions=QUESTIONS)
    start = time.perf_counter()
    counts = image_counts(answers, coverage)
    counting = time.perf_counter() - start
    echo(f"synthetic run: {len(counts.images)} images, {len(answers)} questions")
    echo(f"count rows from records: {counting:.3f} s (once per run)")
    vectorised = _best_of(repeats, lambda: bootstrap(counts, resamples=resamples))
    loop = _best_of(1, lambda: _loop_bootstrap(counts.counts, resamples, 0))
    echo(
        f"bootstrap, {resamples} resamples, every metric with its interval: "
        f"{vectorised:.3f} s vectorised (best of {repeats}); per-resample loop baseline "
        f"{loop:.3f} s; speed-up x{loop / vectorised:.1f}"
    )

    from amber_eval.reporting.run_outputs import write_run_report

    with tempfile.TemporaryDirectory() as folder:
        run = write_synthetic_run(
            Path(folder) / "synthetic" / "mock-000000000000",
            images=IMAGES,
            total_questions=QUESTIONS,
        )
        start = time.perf_counter()
        report = write_run_report(run)
        rendering = time.perf_counter() - start
        size = report.stat().st_size
        echo(f"report.html: rendered in {rendering:.2f} s, {size / 1e6:.2f} MB")
        if browser:
            seconds = open_time(report)
            if seconds is None:
                echo("open time: skipped (no /usr/bin/chromium or playwright)")
            else:
                echo(f"open time in headless Chromium: {seconds:.2f} s")
