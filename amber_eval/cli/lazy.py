"""A click group whose subcommands come from a :class:`~amber_eval.registry.Registry`.

Each command is registered as ``"module:attribute"`` with its short help; its module is
imported when the command runs. ``--help`` lists the short help without importing anything,
and a mistyped command name gets a did-you-mean error.
"""

from __future__ import annotations

from typing import Any

import click

from amber_eval.registry import Registry, unknown_name_message


def command_registry(kind: str = "command") -> Registry[click.Command]:
    """An empty registry of lazily imported commands."""
    return Registry(kind)


class LazyGroup(click.Group):
    """A group whose ``lazy`` registry supplies the commands not added to it directly."""

    def __init__(
        self, *args: Any, lazy: Registry[click.Command] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: Registry[click.Command] = lazy if lazy is not None else command_registry()

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy.names()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            command = self.lazy.load(cmd_name)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy.get(cmd_name).target} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(entry.name, entry.description) for entry in self.lazy]
        rows += [
            (name, command.get_short_help_str())
            for name, command in sorted(self.commands.items())
            if name not in self.lazy and not command.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # Did-you-mean for mistyped command names.
        name = args[0] if args else ""
        known = name in self.lazy or name in self.commands
        if name and not name.startswith("-") and not known:
            ctx.fail(unknown_name_message("command", name, self.list_commands(ctx)))
        return super().resolve_command(ctx, args)
