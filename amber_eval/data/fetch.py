"""Download AMBER's pinned data files, verified by sha256.

Each file is downloaded to a temporary name beside its destination, checked against its
pinned length (when the server sends one) and sha256, then renamed into place, so a folder never
holds a half-written or unverified file under a real name. Failed attempts are retried with
exponential backoff; files already present with the right sha256 are not downloaded again.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from amber_eval.data.location import resolve_data_dir
from amber_eval.data.manifest import FILES, UPSTREAM_BASE_URL, DataFile
from amber_eval.errors import DataError, InputError
from amber_eval.io import sha256_file

log = logging.getLogger(__name__)

DEFAULT_RETRIES = 3
DEFAULT_TIMEOUT = 30.0
DEFAULT_BACKOFF = 1.0
CHUNK_SIZE = 1 << 16
USER_AGENT = "amber-eval data fetch"

Status = Literal["ok", "missing", "mismatch"]


@dataclass(frozen=True)
class FileStatus:
    """One pinned file in a folder: ``ok``, ``missing`` or ``mismatch`` (wrong sha256)."""

    file: DataFile
    path: Path
    status: Status
    sha256: str | None  # the file's actual sha256 (None when missing)


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch_data` did."""

    dest: Path
    downloaded: tuple[str, ...]
    present: tuple[str, ...]  # already there with the right sha256

    @property
    def already_complete(self) -> bool:
        return not self.downloaded


class DownloadError(DataError):
    """A file could not be downloaded and verified; nothing was left under its name."""


class _Retryable(Exception):
    """A failed attempt that may succeed when tried again."""


def check_files(folder: str | os.PathLike[str]) -> list[FileStatus]:
    """The status of every pinned file in ``folder``."""
    base = Path(folder)
    statuses = []
    for data_file in FILES:
        path = base / data_file.path
        if not path.is_file():
            statuses.append(FileStatus(data_file, path, "missing", None))
            continue
        actual = sha256_file(path)
        status: Status = "ok" if actual == data_file.sha256 else "mismatch"
        statuses.append(FileStatus(data_file, path, status, actual))
    return statuses


def _validate_base_url(base_url: str) -> str:
    try:
        parts = urllib.parse.urlsplit(base_url)
        scheme, _host = parts.scheme, parts.hostname
    except ValueError as exc:
        raise InputError(f"--base-url {base_url!r} is not a valid URL ({exc})") from None
    if scheme not in ("http", "https"):
        raise InputError(f"--base-url must be an http(s) URL, got {base_url!r}")
    return base_url if base_url.endswith("/") else base_url + "/"


def fetch_data(
    dest: str | os.PathLike[str] | None = None,
    *,
    base_url: str = UPSTREAM_BASE_URL,
    retries: int = DEFAULT_RETRIES,
    timeout: float = DEFAULT_TIMEOUT,
    backoff: float = DEFAULT_BACKOFF,
    progress: bool = True,
    files: Sequence[DataFile] = FILES,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchResult:
    """Download every pinned file missing from ``dest`` (default: the data folder in use).

    ``dest`` defaults to :func:`~amber_eval.data.location.resolve_data_dir` (``$AMBER_EVAL_DATA``
    or the cache). A file with a wrong sha256 is replaced. Each file gets ``1 + retries``
    attempts, ``backoff * 2**n`` seconds apart; when one still fails, :class:`DownloadError`
    names it and the reason, and no partial file remains.
    """
    base_url = _validate_base_url(base_url)
    folder = resolve_data_dir(dest)
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder} exists and is not a folder")
    statuses = {s.file.path: s for s in check_files(folder) if s.file in files}
    todo = [f for f in files if statuses[f.path].status != "ok"]
    present = tuple(f.path for f in files if statuses[f.path].status == "ok")
    if not todo:
        return FetchResult(dest=folder, downloaded=(), present=present)
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    downloaded: list[str] = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    with Progress(*columns, disable=not progress, transient=False) as bar:
        for data_file in todo:
            if statuses[data_file.path].status == "mismatch":
                log.warning(
                    "%s has the wrong sha256; downloading it again", statuses[data_file.path].path
                )
            task = bar.add_task(data_file.path, total=None)

            def report(done: int, total: int | None, task: object = task) -> None:
                bar.update(task, completed=done, total=total)  # type: ignore[arg-type]

            _download_with_retries(
                data_file,
                base_url,
                folder,
                retries=retries,
                timeout=timeout,
                backoff=backoff,
                sleep=sleep,
                report=report,
            )
            downloaded.append(data_file.path)
    return FetchResult(dest=folder, downloaded=tuple(downloaded), present=present)


def _download_with_retries(
    data_file: DataFile,
    base_url: str,
    folder: Path,
    *,
    retries: int,
    timeout: float,
    backoff: float,
    sleep: Callable[[float], None],
    report: Callable[[int, int | None], None],
) -> None:
    url = data_file.url(base_url)
    attempts = 1 + max(retries, 0)
    reasons: list[str] = []
    for attempt in range(attempts):
        try:
            _download_once(data_file, url, folder / data_file.path, timeout, report)
            return
        except _Retryable as exc:
            reasons.append(str(exc))
            if attempt + 1 < attempts:
                delay = backoff * 2**attempt
                log.warning(
                    "%s: attempt %d of %d failed (%s); retrying in %.1f s",
                    data_file.path,
                    attempt + 1,
                    attempts,
                    exc,
                    delay,
                )
                sleep(delay)
    raise DownloadError(
        f"could not download {data_file.path} from {url} after {attempts} attempts: "
        f"{reasons[-1]}. Nothing was written under {folder / data_file.path}. Check the "
        "network or --base-url and run `amber-eval data fetch` again."
    )


def _download_once(
    data_file: DataFile,
    url: str,
    target: Path,
    timeout: float,
    report: Callable[[int, int | None], None],
) -> None:
    """One attempt: stream to a temporary file, verify, rename. Raises :class:`_Retryable`."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
    except OSError as exc:
        raise DownloadError(
            f"cannot write {target}: {exc.strerror or exc}; choose a writable folder with --dest"
        ) from None
    try:
        with open(fd, "wb") as handle:
            digest = hashlib.sha256()
            received, expected = _stream(url, timeout, handle, digest, report)
            handle.flush()
            os.fsync(handle.fileno())
        if expected is not None and received != expected:
            raise _Retryable(
                f"the connection closed after {received} of {expected} bytes (incomplete file)"
            )
        actual = digest.hexdigest()
        if actual != data_file.sha256:
            raise _Retryable(
                f"sha256 mismatch: got {actual}, expected {data_file.sha256} "
                f"({received} bytes received); the server sent a different or corrupted file"
            )
        os.chmod(tmp_name, 0o644)  # mkstemp creates 0600; data files are world-readable
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _stream(
    url: str,
    timeout: float,
    handle: BinaryIO,
    digest: Any,
    report: Callable[[int, int | None], None],
) -> tuple[int, int | None]:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})  # noqa: S310
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) only
    except urllib.error.HTTPError as exc:
        message = f"HTTP {exc.code} {exc.reason}"
        if exc.code in (408, 429) or exc.code >= 500:
            raise _Retryable(message) from None
        raise DownloadError(f"could not download {url}: {message}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise _Retryable(f"connection failed: {reason}") from None
    write = handle.write
    received = 0
    with response:
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        report(0, expected)
        while True:
            try:
                chunk = response.read(CHUNK_SIZE)
            except (OSError, http.client.HTTPException) as exc:
                raise _Retryable(
                    f"the transfer broke off after {received} bytes ({type(exc).__name__})"
                ) from None
            if not chunk:
                break
            write(chunk)
            digest.update(chunk)
            received += len(chunk)
            report(received, expected)
    return received, expected
