"""Content digests of local model files, computed once.

Every cache keyed on a local model (judge answers of a model folder, converted GGUF files,
similarity tables of a spaCy pipeline, caption dumps of a captioner checkpoint) keys on the
sha256 of the files' contents: a fine-tuned checkpoint written over the old one, with the same
names and sizes, is another model. Hashing gigabytes takes a while, so each digest is memoised
on (resolved path, size, modification time in ns), in the process and in
``<cache root>/file-digests.json``; a file changed in place gets a new mtime and is hashed
again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from amber_eval.io import atomic_write_json, sha256_file

MEMO_FILE = "file-digests.json"
LOCAL_DIR = "local-dir:"

_memo: dict[str, str] = {}


def _key(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def _memo_path() -> Path:
    from amber_eval.cache import cache_root

    return cache_root() / MEMO_FILE


def _stored() -> dict[str, str]:
    try:
        data = json.loads(_memo_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes, memoised on its path, size and mtime."""
    source = Path(path)
    key = _key(source)
    if key in _memo:
        return _memo[key]
    stored = _stored()
    digest = stored.get(key)
    if digest is None:
        digest = sha256_file(source)
        stored[key] = digest
        with contextlib.suppress(OSError):  # a read-only cache only costs hashing again
            atomic_write_json(_memo_path(), stored, indent=None)
    _memo[key] = digest
    return digest


def folder_sha256(folder: str | os.PathLike[str]) -> str:
    """sha256 over the names and content digests of every file in ``folder`` (recursively;
    hidden files and folders, such as caches of the hub client, left out)."""
    root = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        digest.update(f"{relative.as_posix()}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()


def local_model_sha256(spec: str | None) -> str | None:
    """The content digest of a model given as a local file or folder (``local-dir:`` prefix
    allowed); None for hub ids, tags and names."""
    if not spec:
        return None
    path = Path(spec.removeprefix(LOCAL_DIR)).expanduser()
    if path.is_file():
        return file_sha256(path)
    if path.is_dir():
        return folder_sha256(path)
    return None


def local_model_digest(name: str, spec: str | None) -> dict[str, str]:
    """``{"<name>_sha256": digest}`` for a local model file or folder, else ``{}`` (so an
    identity naming a hub model reads as before)."""
    digest = local_model_sha256(spec)
    return {} if digest is None else {f"{name}_sha256": digest}
