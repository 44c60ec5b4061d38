"""The NLTK resources AMBER's generative scoring needs: find them, or download the missing ones.

``python -m amber_eval.nltk_resources`` checks the three resources and downloads the missing ones
with NLTK's own downloader (used by ``make setup``). Scoring calls :func:`require_nltk_resources`,
which raises :class:`~amber_eval.errors.ResourceError` naming the missing resource and the
command that gets it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from amber_eval.errors import ResourceError


@dataclass(frozen=True)
class NltkResource:
    """``name`` is the downloader's id; ``path`` is what ``nltk.data.find`` looks up."""

    name: str
    path: str


RESOURCES: tuple[NltkResource, ...] = (
    NltkResource("punkt_tab", "tokenizers/punkt_tab/english/"),
    NltkResource("averaged_perceptron_tagger_eng", "taggers/averaged_perceptron_tagger_eng/"),
    NltkResource("wordnet", "corpora/wordnet"),
)

DOWNLOAD_COMMAND = "python -m nltk.downloader " + " ".join(resource.name for resource in RESOURCES)


def find_resource(resource: NltkResource) -> str | None:
    """The location of ``resource`` on NLTK's search path (``NLTK_DATA`` first), or None."""
    import nltk

    for path in (resource.path, resource.path.rstrip("/") + ".zip"):
        try:
            return str(nltk.data.find(path))
        except LookupError:
            continue
    return None


def missing_resources() -> list[NltkResource]:
    return [resource for resource in RESOURCES if find_resource(resource) is None]


def require_nltk_resources() -> None:
    """Raise :class:`ResourceError` naming every missing resource and how to get it."""
    missing = missing_resources()
    if missing:
        names = ", ".join(resource.name for resource in missing)
        raise ResourceError(
            f"NLTK resource(s) missing: {names}. Get them with `{DOWNLOAD_COMMAND}` or "
            "`python -m amber_eval.nltk_resources`, or point NLTK_DATA at a folder that holds them."
        )


def ensure_nltk_resources(*, download: bool = True, quiet: bool = False) -> list[str]:
    """Check the resources and download the missing ones; return a line per action taken."""
    import nltk

    lines: list[str] = []
    for resource in RESOURCES:
        location = find_resource(resource)
        if location is not None:
            lines.append(f"{resource.name}: present ({location})")
            continue
        if not download:
            lines.append(f"{resource.name}: MISSING")
            continue
        ok = nltk.download(resource.name, quiet=quiet, raise_on_error=False)
        location = find_resource(resource)
        if ok and location is not None:
            lines.append(f"{resource.name}: downloaded ({location})")
        else:
            lines.append(f"{resource.name}: download FAILED")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Check and fetch the resources; exit 0 when all three are present afterwards."""
    args = sys.argv[1:] if argv is None else argv
    download = "--check" not in args
    for line in ensure_nltk_resources(download=download, quiet=True):
        print(line)
    missing = missing_resources()
    if missing:
        print(
            "missing: "
            + ", ".join(r.name for r in missing)
            + f". Get them with `{DOWNLOAD_COMMAND}` (needs network) or set NLTK_DATA.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
