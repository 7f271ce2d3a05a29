"""What ``kompas`` does before a command runs, kept cheap (issue #18: every command starts
in at most twice the time of importing Typer and Rich).

Only the command asked for: Typer builds the Click object of every command of the app
(reading ~100 signatures and evaluating their annotations, 0.05 s) before running one, so
the app is pruned to the top-level command or group the command line names.

Each signature read once: Typer reads every command's parameters twice (for the Click
parameters, then for the callback that receives them), evaluating every annotation each
time; the second reading is the first's result (only its names are used).

Text, flag and path values without Pydantic: Typer 0.29 coerces every parameter value
through a Pydantic ``TypeAdapter``, and importing Pydantic costs as much as importing Typer
and Rich together (0.15 s of every command, ``kompas status`` included). A text value from
the command line is already the text, and a flag's is already a bool or absent, so they are
kept as they are; a path is ``Path(text)`` checked by Typer's own path code; any other value
still goes through Typer's own coercion."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
import typer._click as click
import typer.main
import typer.utils
from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_path
from typer.core import _TyperParameter
from typer.main import get_command_name
from typer.models import ParamMeta

#: The annotations whose values the command line already gives in their final type.
_KEPT = (str, bool)

_typer_runtime_param = _TyperParameter.get_runtime_param

#: The root options that take a value (``--home DIR``, ``--db URL``).
_VALUED_OPTIONS = ("--home", "--db")


@dataclass(frozen=True)
class _Kept(RuntimeParam):
    """A ``str`` or ``bool`` parameter: a value of that very type is returned unchanged, as
    Typer's adapter would return it (an absent one stays ``None``, as in Typer)."""

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: click.Context) -> Any:
        if type(value) is self.annotation:
            return value
        return build_runtime_param(param.type_descriptor)._coerce_value(value, param, ctx)


@dataclass(frozen=True)
class _PlainPath(RuntimeParam):
    """A ``Path`` parameter: the text from the command line made a ``Path`` as Pydantic's
    adapter makes it (``Path(text)``), then Typer's own path checks (``exists`` and the
    rest), without importing Pydantic (a tenth of a second of ``kompas import``)."""

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: click.Context) -> Any:
        if type(value) is str:
            return coerce_cli_path(
                Path(value), self.parameter_info, path_type=Path, param=param, ctx=ctx
            )
        return build_runtime_param(param.type_descriptor)._coerce_value(value, param, ctx)


def _runtime_param(param: _TyperParameter) -> RuntimeParam:
    if param._runtime_param is None:
        descriptor = param.type_descriptor
        info, annotation = descriptor.parameter_info, descriptor.annotation
        if info.parser is None and (annotation in _KEPT or annotation is Path):
            kind = _PlainPath if annotation is Path else _Kept
            param._runtime_param = kind(parameter_info=info, annotation=annotation)
    return _typer_runtime_param(param)


def keep_plain_values() -> None:
    """From now on in this process, ``str`` and ``bool`` parameters (the help option
    included, which Click creates per command on demand) keep their values without
    importing Pydantic."""
    _TyperParameter.get_runtime_param = _runtime_param  # type: ignore[method-assign,assignment]


def _named_command(argv: Sequence[str]) -> str | None:
    """The top-level command the arguments name, after the root's own options; ``None``
    when there is none before another option (``--help``, ``--version``, a typo)."""
    arguments = iter(argv)
    for argument in arguments:
        if argument in _VALUED_OPTIONS:
            next(arguments, None)
        elif argument.startswith(tuple(f"{option}=" for option in _VALUED_OPTIONS)):
            continue
        elif argument.startswith("-"):
            return None
        else:
            return argument
    return None


def only_the_command(app: typer.Typer, argv: Sequence[str]) -> typer.Typer:
    """``app`` with only the top-level command or group ``argv`` names (and the root's own
    options); ``app`` itself when the name is none of them, so the root's help, usage
    errors and "did you mean" suggestions see every command."""
    name = _named_command(argv)
    if name is None:
        return app
    commands = [
        command
        for command in app.registered_commands
        if (command.name or get_command_name(getattr(command.callback, "__name__", ""))) == name
    ]
    groups = [group for group in app.registered_groups if group.name == name]
    if len(commands) + len(groups) != 1:
        return app
    pruned = copy.copy(app)
    pruned.registered_commands = commands
    pruned.registered_groups = groups
    return pruned


def read_signatures_once() -> None:
    """From now on in this process, Typer reads each command function's parameters once."""
    read: Callable[[Callable[..., Any]], dict[str, ParamMeta]]
    read = typer.utils.get_params_from_function
    if typer.main.get_params_from_function is not read:  # type: ignore[attr-defined]
        return  # done already
    known: dict[Callable[..., Any], dict[str, ParamMeta]] = {}

    def once(func: Callable[..., Any]) -> dict[str, ParamMeta]:
        found = known.get(func)
        if found is None:
            found = known[func] = read(func)
        return found

    typer.main.get_params_from_function = once  # type: ignore[attr-defined]
