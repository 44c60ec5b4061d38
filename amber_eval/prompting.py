"""Yes/No prompts from region captions: Jinja templates and their rendering.

A template receives ``captions`` (the image's selected captions, a list of strings),
``question`` (the AMBER question), ``image``, ``id`` and ``dimension``. The built-in templates
live in ``amber_eval/prompts/`` (``paper``, ``paper-alt``); a user can pass a template file path.
Rendering uses ``StrictUndefined`` (a misspelt variable is an error, never an empty string) in
a sandbox, with autoescaping off (the output is plain text).
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amber_eval.captions.selection import clean_caption
from amber_eval.errors import InputError, UnknownNameError
from amber_eval.io import atomic_open, iter_jsonl, read_text, sha256_text
from amber_eval.registry import Registry

if TYPE_CHECKING:
    import jinja2

    from amber_eval.data.benchmark import Benchmark

log = logging.getLogger(__name__)

TEMPLATE_SUFFIX = ".jinja"
DEFAULT_TEMPLATE = "paper"
TEMPLATE_VARIABLES = ("captions", "question", "image", "id", "dimension")


@dataclass(frozen=True)
class PromptRecord:
    """One rendered prompt. ``truth`` is ``"yes"`` or ``"no"``."""

    id: int
    image: str
    dimension: str
    truth: str
    prompt: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "image": self.image,
            "dimension": self.dimension,
            "truth": self.truth,
            "prompt": self.prompt,
        }


@dataclass(frozen=True)
class PromptTemplate:
    """A template's name, text and origin. ``sha256`` identifies the text for run records."""

    name: str
    source: str
    path: str | None = None  # the user's file; None for built-in templates
    system_prompt: str | None = None  # a default system prompt a judge may use

    @property
    def sha256(self) -> str:
        return sha256_text(self.source)

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "sha256": self.sha256}

    @cached_property
    def compiled(self) -> jinja2.Template:
        import jinja2
        from jinja2.sandbox import SandboxedEnvironment

        env = SandboxedEnvironment(
            undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
        )
        try:
            return env.from_string(self.source)
        except jinja2.TemplateSyntaxError as exc:
            raise InputError(
                f"prompt template {self.path or self.name}:{exc.lineno}: {exc.message}"
            ) from None

    def render(
        self,
        captions: Sequence[str],
        question: str,
        *,
        image: str = "",
        id: int = 0,
        dimension: str = "",
    ) -> str:
        """The prompt for one question. Captions are used as given (see :func:`render_prompts`)."""
        import jinja2

        try:
            text = self.compiled.render(
                captions=list(captions),
                question=question,
                image=image,
                id=id,
                dimension=dimension,
            )
        except jinja2.UndefinedError as exc:
            raise InputError(
                f"prompt template {self.path or self.name}: {exc.message}; the variables are "
                f"{', '.join(TEMPLATE_VARIABLES)}"
            ) from None
        except jinja2.TemplateError as exc:
            raise InputError(f"prompt template {self.path or self.name}: {exc}") from None
        except Exception as exc:  # the template is user code: whatever it raises is its error
            raise InputError(
                f"prompt template {self.path or self.name}: rendering failed "
                f"({type(exc).__name__}: {exc}); fix the template"
            ) from None
        return text.strip()


def _builtin_template(name: str) -> PromptTemplate:
    from importlib.resources import files

    source = (
        files("amber_eval").joinpath("prompts", name + TEMPLATE_SUFFIX).read_text(encoding="utf-8")
    )
    return PromptTemplate(name=name, source=source)


def _register_builtin(registry: Registry[PromptTemplate]) -> None:
    """Register the ``.jinja`` files shipped in ``amber_eval/prompts/`` (read when used)."""
    from importlib.resources import files

    folder = files("amber_eval").joinpath("prompts")
    names = sorted(
        entry.name[: -len(TEMPLATE_SUFFIX)]
        for entry in folder.iterdir()
        if entry.name.endswith(TEMPLATE_SUFFIX)
    )
    for name in names:
        registry.add_lazy(name, functools.partial(_builtin_template, name))


TEMPLATES: Registry[PromptTemplate] = Registry("prompt template", fill=_register_builtin)
"""The built-in templates by name (``paper``, ``paper-alt``)."""


def template_names() -> list[str]:
    """The built-in template names."""
    return TEMPLATES.names()


def load_template(template: str | os.PathLike[str] | PromptTemplate) -> PromptTemplate:
    """A built-in template by name (``paper``, ``paper-alt``) or a template file by path."""
    if isinstance(template, PromptTemplate):
        return template
    text = str(template)
    if text in TEMPLATES:
        return TEMPLATES.load(text)
    path = Path(text).expanduser()
    if path.is_dir():
        raise InputError(f"{path} is a folder; expected a prompt template file")
    if path.is_file():
        source = read_text(path, "prompt template")
        if not source.strip():
            raise InputError(f"{path}: the prompt template is empty")
        return PromptTemplate(name=path.stem, source=source, path=str(path))
    if isinstance(template, os.PathLike) or os.sep in text or "." in text:
        raise InputError(
            f"prompt template file not found: {path} "
            f"(built-in templates: {', '.join(template_names())})"
        )
    raise UnknownNameError(TEMPLATES.unknown_message(text))


def render_prompts(
    benchmark: Benchmark,
    captions: Mapping[str, Sequence[str]],
    *,
    template: str | os.PathLike[str] | PromptTemplate = DEFAULT_TEMPLATE,
    images: Iterable[str] | None = None,
) -> list[PromptRecord]:
    """One prompt per Yes/No question of ``images`` (default: all AMBER images), in id order.

    ``captions`` maps an image file name to its selected captions (see
    :func:`amber_eval.captions.selection.select_captions`); trailing periods and extra
    whitespace are removed before joining. Every image asked for must have an entry.
    """
    loaded = load_template(template)
    wanted = list(benchmark.images if images is None else images)
    known = set(benchmark.images)
    unknown = [image for image in wanted if image not in known]
    if unknown:
        raise InputError(f"{len(unknown)} image(s) are not AMBER images: {', '.join(unknown[:5])}")
    missing = [image for image in wanted if image not in captions]
    if missing:
        raise InputError(
            f"the captions have no entry for {len(missing)} of the {len(wanted)} images "
            f"(first: {', '.join(missing[:5])}); caption every image, or render the first N "
            "images with --limit-images"
        )
    cleaned = {image: [c for c in map(clean_caption, captions[image]) if c] for image in wanted}
    empty = [image for image, caps in cleaned.items() if not caps]
    if empty:
        log.warning(
            "%d image(s) have no captions (first: %s); their prompts list none",
            len(empty),
            ", ".join(empty[:5]),
        )
    records = []
    for question in benchmark.questions_for(wanted):
        dimension = question.dimension.value
        prompt = loaded.render(
            cleaned[question.image],
            question.text,
            image=question.image,
            id=question.id,
            dimension=dimension,
        )
        records.append(
            PromptRecord(
                id=question.id,
                image=question.image,
                dimension=dimension,
                truth="yes" if question.truth else "no",
                prompt=prompt,
            )
        )
    return records


def write_prompts(path: str | os.PathLike[str], records: Iterable[PromptRecord]) -> Path:
    """Write ``prompts.jsonl`` (one record per line) atomically."""
    target = Path(path)
    with atomic_open(target, "w") as handle:
        for record in records:
            handle.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
    return target


def read_prompts(path: str | os.PathLike[str]) -> list[PromptRecord]:
    """Read a ``prompts.jsonl`` file; a malformed line raises :class:`InputError`."""
    file = Path(path)
    records = []
    for number, data in iter_jsonl(file, what="prompts file"):
        try:
            record = PromptRecord(
                id=data["id"],
                image=data["image"],
                dimension=data["dimension"],
                truth=data["truth"],
                prompt=data["prompt"],
            )
        except KeyError as exc:
            raise InputError(f"{file}:{number}: missing field {exc.args[0]!r}") from None
        if not isinstance(record.id, int) or isinstance(record.id, bool):
            raise InputError(f'{file}:{number}: "id" must be an integer, got {record.id!r}')
        if not all(
            isinstance(v, str)
            for v in (record.image, record.dimension, record.truth, record.prompt)
        ):
            raise InputError(f"{file}:{number}: image, dimension, truth and prompt must be strings")
        records.append(record)
    return records
