"""The process group a run belongs to: one process, or one per GPU under a launcher.

Under ``accelerate launch`` or ``torchrun`` (``WORLD_SIZE`` > 1) the group is accelerate's
``PartialState``, created with ``cpu=True`` on a machine without CUDA so that a CPU-only
two-process test really gets two ranks (gloo) instead of silently running one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass


def _no_barrier() -> None:
    return None


@dataclass(frozen=True)
class Processes:
    """This process's rank, the number of processes, and a barrier across them."""

    rank: int = 0
    world_size: int = 1
    barrier: Callable[[], None] = _no_barrier

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wait_for_everyone(self) -> None:
        if self.world_size > 1:
            self.barrier()


def launched_world_size() -> int:
    """``WORLD_SIZE`` as set by the launcher (1 without one)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1") or 1))
    except ValueError:
        return 1


def current_processes() -> Processes:
    """One process, or the launcher's group (initialised on first use)."""
    if launched_world_size() == 1:
        return Processes()
    import importlib

    try:
        distributed = importlib.import_module("amber_eval.judge.distributed")
    except ImportError:
        distributed = None
    state_factory = getattr(distributed, "partial_state", None) if distributed else None
    if callable(state_factory):
        state = state_factory()
    else:
        import torch
        from accelerate import PartialState

        state = PartialState(cpu=not torch.cuda.is_available())
    return Processes(
        rank=int(state.process_index),
        world_size=int(state.num_processes),
        barrier=state.wait_for_everyone,
    )
