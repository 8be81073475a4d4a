"""Commands on config files: ``validate``, ``schema`` and ``onboard-team``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.cli.parser import add_command
from infra.config import DEFAULT_CONFIG, SCHEMA_PATH, config_warnings, load_config_or_exit
from infra.config.schema import schema_is_current, write_schema
from infra.tools import onboard


def _validate(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args.path)
    print(f"{args.path}: valid ({len(config.accounts)} accounts, {len(config.teams)} teams, "
          f"mode {config.organisation.mode})", flush=True)
    for warning in config_warnings(args.path, config):
        print(warning, file=sys.stderr)
    return 0


def _schema(args: argparse.Namespace) -> int:
    if args.check:
        if not schema_is_current():
            print(f"{SCHEMA_PATH} is out of date: run `fmops schema`", file=sys.stderr)
            return 1
        print(f"{SCHEMA_PATH} is current")
        return 0
    write_schema()
    print(f"wrote {SCHEMA_PATH}")
    return 0


def _onboard_team(args: argparse.Namespace) -> int:
    return onboard.onboard_team(args.config, args.team, args.cost_centre, args.features, accounts=args.accounts,
                                new_accounts=args.new_accounts, dry_run=args.dry_run,
                                alarm_emails=tuple(args.alarm_email or ()))


def register(commands: argparse._SubParsersAction) -> None:
    validate = add_command(commands, "validate", _validate,
                           "check a config file (exit 2 with file:line messages if it is not valid; "
                           "warnings, exit 0, for settings that leave a control without effect)")
    validate.add_argument("path", help="the config file, e.g. config/default.yaml")

    schema = add_command(commands, "schema", _schema, "write config/schema.json from the typed config (or check it)")
    schema.add_argument("--check", action="store_true", help="fail if the file is not current")

    team = add_command(commands, "onboard-team", _onboard_team,
                       "add a team (and new accounts) to a config file, validated, keeping the file's text",
                       description=onboard.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    team.add_argument("team", help="team name (lower case, digits, hyphens)")
    team.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file to edit")
    team.add_argument("--cost-centre", required=True, help="cost centre for the team's tags")
    team.add_argument("--features", required=True, help="comma-separated features, e.g. studio,pipelines")
    where = team.add_mutually_exclusive_group(required=True)
    where.add_argument("--accounts", help="existing workload accounts: dev=NAME[,preprod=NAME,prod=NAME]")
    where.add_argument("--new-accounts", help="new workload accounts: dev=ID[,preprod=ID,prod=ID]")
    team.add_argument("--alarm-email", action="append", metavar="ADDRESS",
                      help="who receives the team's CloudWatch alarms and project notifications (repeatable; "
                      "teams.alarms.emails); needed with feature hosting or service-catalog")
    team.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
