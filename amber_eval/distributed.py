"""Several processes (``accelerate launch`` / ``torchrun``): one model replica per process.

Used by the judge and runs (images sharded across ranks) and by parse-and-filter (shards).

The process state is accelerate's ``PartialState(cpu=not torch.cuda.is_available())``: on a
CPU-only machine a plain ``PartialState()`` under ``--multi_gpu`` silently falls back to one
rank. Images are sharded whole, so every image's questions share one prefix on one rank.
"""

from __future__ import annotations

import atexit
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def launched_world_size() -> int:
    """``WORLD_SIZE`` as set by the launcher (1 without one)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1") or 1))
    except ValueError:
        return 1


@functools.lru_cache(maxsize=1)
def state() -> Any:
    """accelerate's process state (created once per process)."""
    import torch
    from accelerate import PartialState

    current = PartialState(cpu=not torch.cuda.is_available())
    if int(current.num_processes) > 1:
        # Tear the process group down before the interpreter exits: left to interpreter
        # shutdown, gloo's threads can abort a rank that has already finished its work.
        atexit.register(_close_process_group)
    return current


def _close_process_group() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


@dataclass(frozen=True)
class Rank:
    """This process's place in the group."""

    index: int
    world_size: int
    device: str

    @property
    def is_main(self) -> bool:
        return self.index == 0


def rank() -> Rank:
    """Rank, world size and the device this rank should put its replica on."""
    current = state()
    return Rank(
        index=int(current.process_index),
        world_size=int(current.num_processes),
        device=device_for_rank(int(current.local_process_index)),
    )


def device_for_rank(local_index: int) -> str:
    """``cuda:<local rank>`` when GPUs exist (wrapping round if fewer), else ``cpu``."""
    import torch

    if not torch.cuda.is_available():
        return "cpu"
    return f"cuda:{local_index % torch.cuda.device_count()}"


def shard(items: Sequence[T], index: int, world_size: int) -> list[T]:
    """Round-robin share of ``items`` for rank ``index`` (balanced, order kept per rank)."""
    if world_size < 1 or not 0 <= index < world_size:
        raise ValueError(f"rank {index} is not in a group of {world_size}")
    return [item for position, item in enumerate(items) if position % world_size == index]


def my_shard(items: Sequence[T]) -> list[T]:
    """This process's share of ``items`` (all of them in a single process)."""
    current = rank()
    return shard(items, current.index, current.world_size)


def barrier() -> None:
    """Wait for every rank (no-op in a single process)."""
    current = state()
    if int(current.num_processes) > 1:
        current.wait_for_everyone()


def gather(values: list[Any]) -> list[Any]:
    """Every rank's ``values`` (JSON-able objects) concatenated in rank order, on every rank."""
    current = state()
    if int(current.num_processes) == 1:
        return list(values)
    import torch.distributed as dist

    collected: list[Any] = [None] * int(current.num_processes)
    dist.all_gather_object(collected, values)
    return [value for part in collected for value in part]
