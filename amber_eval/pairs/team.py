"""The processes that share a run: one, or several started by ``accelerate launch``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from amber_eval import distributed


class Team(Protocol):
    rank: int
    size: int
    device: Any

    def barrier(self) -> None: ...

    def all_gather(self, value: Any) -> list[Any]: ...


@dataclass
class SoloTeam:
    """A single process."""

    rank: int = 0
    size: int = 1
    device: Any = None

    def barrier(self) -> None:
        return None

    def all_gather(self, value: Any) -> list[Any]:
        return [value]


@dataclass
class AccelerateTeam:
    """Ranks of an ``accelerate launch`` (or ``torchrun``) job, via ``PartialState``."""

    state: Any = field(repr=False)
    rank: int = 0
    size: int = 1
    device: Any = None

    @classmethod
    def start(cls) -> AccelerateTeam:
        state = distributed.state()
        return cls(state, state.process_index, state.num_processes, state.device)

    def barrier(self) -> None:
        self.state.wait_for_everyone()

    def all_gather(self, value: Any) -> list[Any]:
        return distributed.gather([value])


def launched_with_several_processes() -> bool:
    """True under ``accelerate launch``/``torchrun`` with more than one process."""
    return distributed.launched_world_size() > 1


def default_team() -> Team:
    """Several ranks when launched that way, otherwise one process (accelerate not needed)."""
    if launched_with_several_processes():
        return AccelerateTeam.start()
    return SoloTeam()
