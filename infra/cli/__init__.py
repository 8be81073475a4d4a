"""`fmops`: the command line of FMOps Foundation, one argparse tree of thin commands.

Each command registers its arguments and help in the tree (``config_cmds.py``,
``compliance_cmds.py``, ``tools_cmds.py``) and calls a plain function of its domain module.
``fmops --help`` lists them all; ``fmops COMMAND --help`` shows a command's arguments. A command
that needs a config loads it with ``infra.config.load_config_or_exit``: an invalid config prints
``fmops: invalid config`` and one ``file:line: field: message`` line per problem, exit 2.
"""

from __future__ import annotations

import argparse
import sys

from infra.cli import compliance_cmds, config_cmds, tools_cmds
from infra.cli.parser import CommandParser
from infra.config import InvalidConfigExit

GROUPS = (config_cmds, compliance_cmds, tools_cmds)


def build_parser() -> CommandParser:
    parser = CommandParser(prog="fmops", description="The command line of FMOps Foundation.",
                           epilog="`fmops COMMAND --help` shows the arguments of a command.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    for group in GROUPS:
        group.register(commands)
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The namespace of ``argv``; ``args.run(args)`` runs the command. Unknown arguments are reported
    by the command's own parser (its usage, or its one-line error)."""
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        getattr(args, "parser", parser).error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return args.run(args)
    except InvalidConfigExit as exited:
        return exited.code  # type: ignore[return-value]


if __name__ == "__main__":
    sys.exit(main())
