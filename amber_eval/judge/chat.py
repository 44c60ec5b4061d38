"""The chat messages of a judge prompt and their rendering by a tokenizer's chat template.

One place for what every backend sends: the HF and in-process vLLM backends and the
completions API render the messages with the model's own template here; the chat API sends
the messages and the server applies its template.
"""

from __future__ import annotations

import hashlib
from typing import Any


def chat_messages(prompt: str, system_prompt: str | None = None) -> list[dict[str, str]]:
    """``[system?, user]`` messages for one prompt."""
    messages = []
    if system_prompt is not None:
        messages.append({"role": "system", "content": system_prompt})
    messages.append({"role": "user", "content": prompt})
    return messages


def render_chat(
    tokenizer: Any, prompt: str, *, system_prompt: str | None = None, raw_prompt: bool = False
) -> str:
    """The exact text the model sees: the prompt as is (``raw_prompt``) or after the template."""
    if raw_prompt:
        return prompt
    text = tokenizer.apply_chat_template(
        chat_messages(prompt, system_prompt), tokenize=False, add_generation_prompt=True
    )
    return str(text)


def encode_rendered(tokenizer: Any, text: str, *, raw_prompt: bool = False) -> list[int]:
    """Token ids of rendered text (special tokens come from the template unless ``raw_prompt``)."""
    ids = tokenizer(text, add_special_tokens=raw_prompt)["input_ids"]
    return [int(i) for i in ids]


def template_sha256(tokenizer: Any, *, raw_prompt: bool = False) -> str | None:
    """sha256 of the tokenizer's chat template (None when unused or absent)."""
    template = getattr(tokenizer, "chat_template", None)
    if raw_prompt or not template:
        return None
    return hashlib.sha256(str(template).encode("utf-8")).hexdigest()


def require_template(tokenizer: Any, model: object, *, raw_prompt: bool) -> None:
    """A tokenizer without a chat template needs ``raw_prompt``."""
    if not raw_prompt and not getattr(tokenizer, "chat_template", None):
        from amber_eval.errors import ResourceError

        raise ResourceError(
            f"{model}: the tokenizer has no chat template; pass --raw-prompt to send the "
            "prompts as they are"
        )
