"""Where a run's code and data came from: the sha256 of AMBER's pinned files and the git commit."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from amber_eval.io import canonical_json


def data_sha256() -> str:
    """One sha256 over AMBER's pinned files (upstream commit, each path and its sha256)."""
    from amber_eval.data.manifest import FILES, UPSTREAM_COMMIT

    manifest = {"commit": UPSTREAM_COMMIT, "files": {f.path: f.sha256 for f in FILES}}
    return hashlib.sha256(canonical_json(manifest).encode("utf-8")).hexdigest()


def git_revision() -> str | None:
    """The git commit of the source tree this package runs from, or None outside a checkout."""
    source = Path(__file__).resolve().parent
    try:
        result = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    revision = result.stdout.strip()
    return revision if result.returncode == 0 and len(revision) == 40 else None
