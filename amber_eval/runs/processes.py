"""The process group a run belongs to: one process, or one per GPU under a launcher.

Under ``accelerate launch`` or ``torchrun`` (``WORLD_SIZE`` > 1) the group is the judge's
process state (:mod:`amber_eval.distributed`: accelerate's ``PartialState`` with
``cpu=True`` on a machine without CUDA, so a CPU-only two-process run really gets two ranks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from amber_eval import distributed
from amber_eval.distributed import launched_world_size


def _no_barrier() -> None:
    return None


@dataclass(frozen=True)
class Processes:
    """This process's rank, the number of processes, its device, and a barrier across them."""

    rank: int = 0
    world_size: int = 1
    barrier: Callable[[], None] = _no_barrier
    device: str | None = None
    """The device this process's replica goes on (None: the judge's default)."""

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wait_for_everyone(self) -> None:
        if self.world_size > 1:
            self.barrier()


def current_processes() -> Processes:
    """One process, or the launcher's group (initialised on first use)."""
    if launched_world_size() == 1:
        return Processes()
    rank = distributed.rank()
    return Processes(
        rank=rank.index,
        world_size=rank.world_size,
        barrier=distributed.barrier,
        device=rank.device,
    )
