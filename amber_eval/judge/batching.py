"""Fast, exact next-token logits for many prompts: shared prefixes and token-bounded batches.

Every prompt is its full token sequence plus one probe token. Prompts of one group (one image)
share their longest common token prefix, which is computed once. Two ways to run a batch:

- ``packed``: one row per group, ``prefix + suffix_1 + suffix_2 + ...``, with explicit position
  ids and a 4D additive mask so each suffix sees only the prefix and itself;
- ``cache``: the groups' prefixes in one forward that fills a key/value cache, the cache
  expanded to one row per prompt, then one forward of all suffixes.

Both read hidden states only at the two positions used (the last prompt token and the probe)
and apply the LM head there. Batches hold whole groups, sorted by length and bounded by a token
budget (:func:`batch_cost`), so padding stays small. ``cache`` is the default: it was the faster
of the two in ``amber-eval bench --compare-strategies`` (see docs/judge.md).
"""

from __future__ import annotations

import inspect
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

STRATEGIES = ("packed", "cache")


@dataclass(frozen=True)
class Row:
    """One group: its shared prefix and, per prompt, the prompt index and its own suffix.

    Each suffix ends with the last prompt token and the probe token.
    """

    prefix: tuple[int, ...]
    items: tuple[tuple[int, tuple[int, ...]], ...]

    @property
    def length(self) -> int:
        return len(self.prefix) + sum(len(suffix) for _, suffix in self.items)


@dataclass
class ForwardStats:
    """What the forwards computed. ``tokens_computed`` excludes padding."""

    prefix_tokens: int = 0
    suffix_tokens: int = 0
    padded_tokens: int = 0
    forwards: int = 0
    batches: int = 0
    prompts: int = 0
    prompt_tokens: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def tokens_computed(self) -> int:
        return self.prefix_tokens + self.suffix_tokens

    def to_json(self) -> dict[str, int]:
        return {
            "prompts": self.prompts,
            "prompt_tokens_with_probe": self.prompt_tokens,
            "tokens_computed": self.tokens_computed,
            "prefix_tokens": self.prefix_tokens,
            "suffix_tokens": self.suffix_tokens,
            "padded_tokens": self.padded_tokens,
            "forwards": self.forwards,
            "batches": self.batches,
            **self.extra,
        }


def common_prefix_length(sequences: Sequence[Sequence[int]]) -> int:
    """The length of the longest common prefix of ``sequences``."""
    if not sequences:
        return 0
    first = sequences[0]
    limit = min(len(s) for s in sequences)
    for position in range(limit):
        token = first[position]
        if any(s[position] != token for s in sequences[1:]):
            return position
    return limit


def plan_rows(
    token_ids: Sequence[Sequence[int]],
    probe_id: int,
    groups: Sequence[Hashable] | None = None,
) -> list[Row]:
    """One :class:`Row` per group (per prompt when ``groups`` is None), in first-seen order.

    The prefix is the longest common token prefix of the group's prompts, shortened so every
    prompt keeps at least its last token in its suffix (where its logits are read).
    """
    if groups is not None and len(groups) != len(token_ids):
        raise ValueError(f"got {len(groups)} groups for {len(token_ids)} prompts")
    members: dict[Hashable, list[int]] = {}
    for index in range(len(token_ids)):
        if not token_ids[index]:
            raise ValueError(f"prompt {index} has no tokens")
        key = groups[index] if groups is not None else ("__prompt__", index)
        members.setdefault(key, []).append(index)
    rows = []
    for indices in members.values():
        sequences = [token_ids[i] for i in indices]
        shared = min(common_prefix_length(sequences), min(len(s) for s in sequences) - 1)
        prefix = tuple(sequences[0][:shared])
        items = tuple((i, (*token_ids[i][shared:], probe_id)) for i in indices)
        rows.append(Row(prefix=prefix, items=items))
    return rows


def batch_cost(batch: Sequence[Row], strategy: str = "packed") -> int:
    """Tokens a batch occupies, padding included.

    ``packed``: rows x longest row. ``cache``: each prompt's row in the suffix forward reads
    the longest prefix (expanded per prompt) plus the longest suffix.
    """
    if not batch:
        return 0
    if strategy == "packed":
        return len(batch) * max(row.length for row in batch)
    prompts = sum(len(row.items) for row in batch)
    prefix = max(len(row.prefix) for row in batch)
    suffix = max(len(s) for row in batch for _, s in row.items)
    return prompts * (prefix + suffix)


def split_row(row: Row, batch_tokens: int, strategy: str = "packed") -> list[Row]:
    """``row`` as is when it fits the budget, else consecutive pieces that each fit (or hold
    one prompt)."""
    if batch_cost([row], strategy) <= batch_tokens or len(row.items) == 1:
        return [row]
    pieces: list[Row] = []
    current: list[tuple[int, tuple[int, ...]]] = []
    for item in row.items:
        candidate = Row(prefix=row.prefix, items=(*current, item))
        if current and batch_cost([candidate], strategy) > batch_tokens:
            pieces.append(Row(prefix=row.prefix, items=tuple(current)))
            current = []
        current.append(item)
    pieces.append(Row(prefix=row.prefix, items=tuple(current)))
    return pieces


def make_batches(
    rows: Sequence[Row], batch_tokens: int, strategy: str = "packed"
) -> list[list[Row]]:
    """Length-sorted batches of rows whose :func:`batch_cost` stays within the budget.

    A row over the budget on its own is split into rows of fewer prompts (the prefix repeated
    in each), so a batch exceeds the budget only when a single prompt does: memory stays
    bounded by the budget and the longest prompt, which the judge's context limit bounds.
    """
    if batch_tokens < 1:
        raise ValueError("the batch token budget must be at least 1")
    pieces = [piece for row in rows for piece in split_row(row, batch_tokens, strategy)]
    ordered = sorted(pieces, key=lambda row: row.length, reverse=True)
    batches: list[list[Row]] = []
    current: list[Row] = []
    for row in ordered:
        if current and batch_cost([*current, row], strategy) > batch_tokens:
            batches.append(current)
            current = []
        current.append(row)
    if current:
        batches.append(current)
    return batches


def _cache_argument(module: Any) -> str:
    """``cache`` on transformers >= 5.x releases that renamed it, else ``past_key_values``."""
    parameters = inspect.signature(module.forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


class LogitEngine:
    """Computes the logits at each prompt's last token and at its probe token."""

    def __init__(self, model: Any, *, strategy: str = "cache", batch_tokens: int = 4096) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
        self.model = model
        self.strategy = strategy
        self.batch_tokens = batch_tokens
        self.decoder = getattr(model, model.base_model_prefix)
        self.head = model.get_output_embeddings()
        self.softcap = getattr(model.config, "final_logit_softcapping", None)
        self.cache_argument = _cache_argument(self.decoder)
        self.stats = ForwardStats()

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> Any:
        import torch

        for parameter in self.model.parameters():
            if parameter.is_floating_point():
                return parameter.dtype
        return torch.float32

    def run(self, rows: Sequence[Row]) -> Iterator[tuple[list[int], Any]]:
        """Yield ``(prompt indices, logits)`` per batch; logits are float32 ``(n, 2, vocab)``."""
        import torch

        for batch in make_batches(rows, self.batch_tokens, self.strategy):
            self.stats.batches += 1
            for row in batch:
                self.stats.prompts += len(row.items)
                self.stats.prompt_tokens += sum(
                    len(row.prefix) + len(suffix) for _, suffix in row.items
                )
            with torch.inference_mode():
                if self.strategy == "packed":
                    indices, hidden = self._packed(batch)
                else:
                    indices, hidden = self._cached(batch)
                logits = self.head(hidden).float()
                if self.softcap:
                    logits = torch.tanh(logits / self.softcap) * self.softcap
            yield indices, logits.view(len(indices), 2, -1)

    def _packed(self, batch: Sequence[Row]) -> tuple[list[int], Any]:
        import torch

        device = self.device
        width = max(row.length for row in batch)
        count = len(batch)
        ids = torch.zeros((count, width), dtype=torch.long)
        positions = torch.zeros((count, width), dtype=torch.long)
        segment = torch.full((count, width), -2, dtype=torch.long)
        read: list[int] = []
        indices: list[int] = []
        for b, row in enumerate(batch):
            prefix = len(row.prefix)
            if prefix:
                ids[b, :prefix] = torch.tensor(row.prefix)
                positions[b, :prefix] = torch.arange(prefix)
                segment[b, :prefix] = -1
            start = prefix
            for k, (index, suffix) in enumerate(row.items):
                end = start + len(suffix)
                ids[b, start:end] = torch.tensor(suffix)
                positions[b, start:end] = torch.arange(prefix, prefix + len(suffix))
                segment[b, start:end] = k
                read += [b * width + end - 2, b * width + end - 1]
                indices.append(index)
                start = end
            self.stats.prefix_tokens += prefix
            self.stats.suffix_tokens += start - prefix
            self.stats.padded_tokens += width - start
        causal = torch.ones((width, width), dtype=torch.bool).tril()
        query = segment.unsqueeze(2)
        key = segment.unsqueeze(1)
        allowed = causal & ((key == -1) | (key == query)) & (query != -2)
        allowed |= torch.eye(width, dtype=torch.bool) & (query == -2)
        dtype = self.dtype
        mask = torch.zeros((count, 1, width, width), dtype=dtype)
        mask.masked_fill_(~allowed.unsqueeze(1), torch.finfo(dtype).min)
        out = self.decoder(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            position_ids=positions.to(device),
            use_cache=False,
        )
        self.stats.forwards += 1
        hidden = out.last_hidden_state.reshape(count * width, -1)
        return indices, hidden[torch.tensor(read, device=hidden.device)]

    def _cached(self, batch: Sequence[Row]) -> tuple[list[int], Any]:
        import torch
        from transformers import DynamicCache

        device = self.device
        count = len(batch)
        prefix_width = max(len(row.prefix) for row in batch)
        row_of: list[int] = []
        suffixes: list[tuple[int, ...]] = []
        offsets: list[int] = []
        indices: list[int] = []
        for b, row in enumerate(batch):
            for index, suffix in row.items:
                row_of.append(b)
                suffixes.append(suffix)
                offsets.append(len(row.prefix))
                indices.append(index)
        cache = None
        prefix_mask = torch.zeros((count, prefix_width), dtype=torch.long)
        if prefix_width:
            prefix_ids = torch.zeros((count, prefix_width), dtype=torch.long)
            for b, row in enumerate(batch):
                if row.prefix:
                    prefix_ids[b, : len(row.prefix)] = torch.tensor(row.prefix)
                    prefix_mask[b, : len(row.prefix)] = 1
                self.stats.prefix_tokens += len(row.prefix)
                self.stats.padded_tokens += prefix_width - len(row.prefix)
            cache = DynamicCache(config=self.model.config)
            self.decoder(
                input_ids=prefix_ids.to(device),
                attention_mask=prefix_mask.to(device),
                position_ids=torch.arange(prefix_width).expand(count, -1).to(device),
                use_cache=True,
                **{self.cache_argument: cache},
            )
            self.stats.forwards += 1
            cache.batch_select_indices(torch.tensor(row_of, device=device))
        width = max(len(s) for s in suffixes)
        total = len(suffixes)
        ids = torch.zeros((total, width), dtype=torch.long)
        mask = torch.zeros((total, width), dtype=torch.long)
        positions = torch.zeros((total, width), dtype=torch.long)
        read: list[int] = []
        for q, suffix in enumerate(suffixes):
            ids[q, : len(suffix)] = torch.tensor(suffix)
            mask[q, : len(suffix)] = 1
            positions[q] = torch.arange(offsets[q], offsets[q] + width)
            read += [q * width + len(suffix) - 2, q * width + len(suffix) - 1]
            self.stats.suffix_tokens += len(suffix)
            self.stats.padded_tokens += width - len(suffix)
        attention = torch.cat([prefix_mask[torch.tensor(row_of)], mask], dim=1)
        kwargs: dict[str, Any] = {}
        if cache is not None:
            kwargs[self.cache_argument] = cache
        else:
            attention = mask
        out = self.decoder(
            input_ids=ids.to(device),
            attention_mask=attention.to(device),
            position_ids=positions.to(device),
            use_cache=cache is not None,
            **kwargs,
        )
        self.stats.forwards += 1
        hidden = out.last_hidden_state.reshape(total * width, -1)
        return indices, hidden[torch.tensor(read, device=hidden.device)]
