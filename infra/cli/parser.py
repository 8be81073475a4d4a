"""What every command of the ``fmops`` tree shares: its parser class and the small checks.

A command is a subparser with its own arguments, help and a ``run(args) -> int`` function that
calls a plain function of a domain module. ``add_command`` registers one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from infra.assembly import is_assembly as assembly_exists

Run = Callable[..., int]


class CommandParser(argparse.ArgumentParser):
    """An argparse parser whose command may ask for one-line errors (no usage block)."""

    def __init__(self, *args: Any, one_line_errors: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.one_line_errors = one_line_errors

    def error(self, message: str) -> NoReturn:
        if self.one_line_errors:
            self.exit(2, f"{self.prog}: error: {message}\n")
        super().error(message)


def add_command(commands: argparse._SubParsersAction, name: str, run: Run, help: str,
                description: str | None = None, **kwargs: Any) -> CommandParser:
    """Register command ``name``: ``help`` is its line in ``fmops --help``, ``description`` (default:
    the same) heads ``fmops NAME --help``; ``run(args)`` returns the exit status."""
    parser = commands.add_parser(name, help=help, description=description or help[0].upper() + help[1:] + ".",
                                 **kwargs)
    parser.set_defaults(run=run, parser=parser)
    return parser


def is_assembly(path: str | Path, synth: str = "make synth") -> bool:
    """Whether ``path`` is a cloud assembly; if not, say so on stderr (the command then exits 2)."""
    if assembly_exists(Path(path)):
        return True
    print(f"fmops: {path} is not a cloud assembly; run `{synth}` first", file=sys.stderr)
    return False
