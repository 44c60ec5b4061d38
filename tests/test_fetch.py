"""``amber-eval data fetch`` against a real HTTP server on the loopback interface."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from amber_eval.cli.main import cli
from amber_eval.data.fetch import DownloadError, check_files, fetch_data
from amber_eval.data.manifest import FILES, FILES_BY_PATH
from amber_eval.errors import InputError


@dataclass
class ServerState:
    root: Path
    corrupt: set[str] = field(default_factory=set)  # served with one byte changed
    drop: dict[str, int] = field(default_factory=dict)  # path -> times to break off mid-file
    missing: set[str] = field(default_factory=set)  # 404
    requests: Counter[str] = field(default_factory=Counter)


class Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        state: ServerState = self.server.state  # type: ignore[attr-defined]
        prefix = "/data/"
        relative = self.path[len(prefix) :] if self.path.startswith(prefix) else ""
        state.requests[relative] += 1
        source = state.root / relative
        if not relative or relative in state.missing or not source.is_file():
            self.send_error(404, "Not Found")
            return
        body = source.read_bytes()
        if relative in state.corrupt:
            body = bytes([body[0] ^ 0x01]) + body[1:]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if state.drop.get(relative, 0) > 0:
            state.drop[relative] -= 1
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture
def server(amber_data_dir: Path) -> Iterator[tuple[str, ServerState]]:
    state = ServerState(root=amber_data_dir)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/data/", state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def no_sleep(_: float) -> None:
    pass


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".part"))


def test_fetch_everything_then_nothing(tmp_path: Path, server: tuple[str, ServerState]) -> None:
    url, state = server
    dest = tmp_path / "amber"
    result = fetch_data(dest, base_url=url, progress=True, sleep=no_sleep)
    assert result.downloaded == tuple(f.path for f in FILES)
    assert all(s.status == "ok" for s in check_files(dest))
    assert leftovers(dest) == []
    assert (dest / "query" / "query_all.json").stat().st_mode & 0o444 == 0o444
    assert sum(state.requests.values()) == len(FILES)
    again = fetch_data(dest, base_url=url.rstrip("/"), progress=False)
    assert again.already_complete and again.present == tuple(f.path for f in FILES)
    assert sum(state.requests.values()) == len(FILES)  # nothing requested the second time


def test_corrupted_file_is_a_clear_error_and_leaves_nothing(
    tmp_path: Path, server: tuple[str, ServerState]
) -> None:
    url, state = server
    state.corrupt.add("safe_words.txt")
    dest = tmp_path / "amber"
    with pytest.raises(DownloadError) as info:
        fetch_data(dest, base_url=url, progress=False, retries=2, sleep=no_sleep)
    message = str(info.value)
    assert message.startswith(f"could not download safe_words.txt from {url}safe_words.txt")
    assert "after 3 attempts: sha256 mismatch: got " in message
    assert f"expected {FILES_BY_PATH['safe_words.txt'].sha256}" in message
    assert state.requests["safe_words.txt"] == 3
    assert not (dest / "safe_words.txt").exists()
    assert leftovers(dest) == []
    # Files finished before the failure are complete and verified; the rest were not started.
    statuses = {s.file.path: s.status for s in check_files(dest)}
    assert statuses["annotations.json"] == "ok" and statuses["relation.json"] == "ok"
    assert statuses["safe_words.txt"] == "missing" and statuses["metrics.txt"] == "missing"


def test_dropped_connection_is_retried(tmp_path: Path, server: tuple[str, ServerState]) -> None:
    url, state = server
    state.drop["query/query_all.json"] = 2
    delays: list[float] = []
    result = fetch_data(tmp_path, base_url=url, progress=False, backoff=0.25, sleep=delays.append)
    assert "query/query_all.json" in result.downloaded
    assert state.requests["query/query_all.json"] == 3
    assert delays == [0.25, 0.5]  # exponential backoff
    assert all(s.status == "ok" for s in check_files(tmp_path))
    assert leftovers(tmp_path) == []


def test_connection_dropped_every_time(tmp_path: Path, server: tuple[str, ServerState]) -> None:
    url, state = server
    state.drop["annotations.json"] = 99
    with pytest.raises(DownloadError) as info:
        fetch_data(tmp_path, base_url=url, progress=False, sleep=no_sleep)
    size = (state.root / "annotations.json").stat().st_size
    assert f"after 4 attempts: the connection closed after {size // 2} of {size} bytes" in str(
        info.value
    )
    assert state.requests["annotations.json"] == 4  # 1 + 3 retries
    assert not (tmp_path / "annotations.json").exists()
    assert leftovers(tmp_path) == []


def test_not_found_is_not_retried(tmp_path: Path, server: tuple[str, ServerState]) -> None:
    url, state = server
    state.missing.add("annotations.json")
    with pytest.raises(DownloadError, match=r"annotations\.json: HTTP 404"):
        fetch_data(tmp_path, base_url=url, progress=False, sleep=no_sleep)
    assert state.requests["annotations.json"] == 1
    assert leftovers(tmp_path) == []


def test_unreachable_server(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="connection failed"):
        fetch_data(
            tmp_path,
            base_url="http://127.0.0.1:9/",
            progress=False,
            retries=1,
            sleep=no_sleep,
            timeout=2,
        )
    assert list(tmp_path.iterdir()) == []


def test_wrong_file_is_replaced(
    tmp_path: Path, server: tuple[str, ServerState], amber_data_dir: Path
) -> None:
    url, _ = server
    for data_file in FILES:
        target = tmp_path / data_file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((amber_data_dir / data_file.path).read_bytes())
    (tmp_path / "metrics.txt").write_text("edited\n")
    result = fetch_data(tmp_path, base_url=url, progress=False)
    assert result.downloaded == ("metrics.txt",)
    assert all(s.status == "ok" for s in check_files(tmp_path))


def test_unwritable_destination(tmp_path: Path, server: tuple[str, ServerState]) -> None:
    url, _ = server
    (tmp_path / "file").write_text("")
    with pytest.raises(DownloadError, match=r"cannot write .*annotations\.json: .*--dest"):
        fetch_data(tmp_path / "file" / "amber", base_url=url, progress=False)


def test_base_url_must_be_http(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="must be an http"):
        fetch_data(tmp_path, base_url="file:///etc/")


def test_cli_fetch_verify_path(
    tmp_path: Path, server: tuple[str, ServerState], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = server
    dest = tmp_path / "amber"
    runner = CliRunner()
    result = runner.invoke(cli, ["data", "fetch", "--base-url", url, "--dest", str(dest)])
    assert result.exit_code == 0, result.output
    assert f"downloaded {len(FILES)} file(s) into {dest} (0 already present)" in result.output
    # With AMBER_EVAL_DATA at a verified folder, fetch downloads nothing.
    monkeypatch.setenv("AMBER_EVAL_DATA", str(dest))
    requests = sum(state.requests.values())
    result = runner.invoke(cli, ["data", "fetch", "--base-url", url])
    assert result.exit_code == 0, result.output
    assert f"AMBER data already present and verified in {dest}" in result.output
    assert sum(state.requests.values()) == requests
    result = runner.invoke(cli, ["data", "path"])
    assert result.output == f"{dest}\n"
    result = runner.invoke(cli, ["data", "path", "--data-dir", str(tmp_path)])
    assert result.output == f"{tmp_path}\n"
    result = runner.invoke(cli, ["data", "verify"])
    assert result.exit_code == 0 and f"all {len(FILES)} files in {dest} verified" in result.output
    (dest / "relation.json").write_text("{}")
    (dest / "metrics.txt").unlink()
    result = runner.invoke(cli, ["data", "verify"])
    assert result.exit_code == 2
    assert (
        "mismatch  relation.json (sha256 44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        in result.output
    )
    assert "missing   metrics.txt" in result.output
    assert "2 of 10 files" in result.output
