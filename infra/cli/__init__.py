"""`fmops`: the command line of FMOps Foundation.

  fmops validate PATH              check a config file (exit 2 with file:line messages if bad)
  fmops schema [--check]           write config/schema.json from the typed config (or check it)
  fmops verify-internet-free PATH  run the internet-free rules on templates or a cdk.out folder
  fmops summary [CDK_OUT]          the summary `make synth` prints
  fmops select-fm ...              rank foundation models by your priorities
  fmops onboard-team NAME ...      add a team (and new accounts) to a config file, validated
  fmops access-matrix [--check]    write docs/access-matrix.md from the persona matrix (or check it)
  fmops scp CONFIG [--check]       write the preventive SCP documents to docs/scp/ (or check them)
  fmops provision TEMPLATE --name  launch a project template of the team (or --list them), wait, show outputs
  fmops projects [--team TEAM]     list the team's provisioned projects
  fmops bootstrap-commands [CONFIG]  the cdk bootstrap (cross-account trust) and first-deploy commands
  fmops docs [--check]             write the generated docs (config and templates reference, diagram)
  fmops diagram [--check]          write docs/architecture.dot and .svg from a synthesized app
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

from infra.config import SCHEMA_PATH, ConfigError, json_schema, load_config


def _validate(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.path)
    except ConfigError as error:
        print(f"fmops: invalid config\n{error}", file=sys.stderr)
        return 2
    print(f"{args.path}: valid ({len(config.accounts)} accounts, {len(config.teams)} teams, "
          f"mode {config.organisation.mode})")
    return 0


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def _schema(args: argparse.Namespace) -> int:
    text = schema_text()
    if args.check:
        if not SCHEMA_PATH.exists() or SCHEMA_PATH.read_text() != text:
            print(f"{SCHEMA_PATH} is out of date: run `fmops schema`", file=sys.stderr)
            return 1
        print(f"{SCHEMA_PATH} is current")
        return 0
    SCHEMA_PATH.write_text(text)
    print(f"wrote {SCHEMA_PATH}")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from infra.tools.report import render

    if not (Path(args.cdk_out) / "manifest.json").exists():
        print(f"fmops: {args.cdk_out} is not a cloud assembly; run `make synth` first", file=sys.stderr)
        return 2
    return render(Path(args.cdk_out))


def _delegate(module: str, function: str = "main") -> Callable[[list[str]], int]:
    def run(argv: list[str]) -> int:
        return getattr(importlib.import_module(module), function)(argv)
    return run


DELEGATED = {
    "verify-internet-free": _delegate("infra.compliance.internet_free"),
    "cfn-lint": _delegate("infra.compliance.cfn_lint"),
    "select-fm": _delegate("infra.tools.fm_select"),
    "onboard-team": _delegate("infra.tools.onboard"),
    "access-matrix": _delegate("infra.personas"),
    "scp": _delegate("infra.personas.scp"),
    "provision": _delegate("infra.tools.provision", "main_provision"),
    "projects": _delegate("infra.tools.provision", "main_projects"),
    "bootstrap-commands": _delegate("infra.plan.delivery"),
    "docs": _delegate("infra.tools.docgen", "main_docs"),
    "diagram": _delegate("infra.tools.docgen", "main_diagram"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in DELEGATED:
        return DELEGATED[argv[0]](argv[1:])
    parser = argparse.ArgumentParser(prog="fmops", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check a config file")
    validate.add_argument("path")
    validate.set_defaults(run=_validate)
    schema = commands.add_parser("schema", help="write or check config/schema.json")
    schema.add_argument("--check", action="store_true", help="fail if the file is not current")
    schema.set_defaults(run=_schema)
    summary = commands.add_parser("summary", help="summarize a synthesized cdk.out")
    summary.add_argument("cdk_out", nargs="?", default="cdk.out")
    summary.set_defaults(run=_summary)
    for name in DELEGATED:
        commands.add_parser(name, help="see `fmops %s --help`" % name, add_help=False)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
