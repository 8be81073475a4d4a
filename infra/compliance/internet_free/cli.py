"""``fmops verify-internet-free PATH...``: check template files or cloud assemblies (cdk.out)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from infra.compliance.internet_free.loader import load_templates
from infra.compliance.internet_free.organisation import Organisation
from infra.compliance.internet_free.registry import Finding
from infra.compliance.internet_free.runner import check_template

USAGE = (
    "usage: fmops verify-internet-free PATH... [--config FILE | --account ID... --organization-id o-...]\n"
    "  PATH: template files or cdk.out folders. The organisation (what is inside the resource and\n"
    "  supply-chain perimeters) comes from --config, or from --account (repeatable, or comma-separated)\n"
    "  and --organization-id; `fmops verify-internet-free` without either uses the embedded default\n"
    "  config, `python -m infra.compliance.internet_free` counts only each template's own account."
)
_COLUMNS = ("perimeter", "template", "logical_id", "type", "rule_id", "message", "fix")


def parse_arguments(argv: Sequence[str]) -> tuple[list[str], list[str], str | None, str | None]:
    """(paths, accounts, organization id, config path) from the command line; ValueError if malformed."""
    paths: list[str] = []
    accounts: list[str] = []
    organization_id = config = None
    items = list(argv)
    while items:
        item = items.pop(0)
        if item in ("--account", "--organization-id", "--config"):
            if not items:
                raise ValueError(f"{item} needs a value")
            value = items.pop(0)
            if item == "--account":
                accounts += [part for part in value.split(",") if part]
            elif item == "--organization-id":
                organization_id = value
            else:
                config = value
        elif item.startswith("--"):
            raise ValueError(f"unknown option {item}")
        else:
            paths.append(item)
    return paths, accounts, organization_id, config


def _print_findings(findings: Sequence[Finding]) -> None:
    rows = [(f.perimeter, f.template, f.logical_id, f.resource_type, f.rule_id, f.message, f.fix) for f in findings]
    if not sys.stdout.isatty():
        for row in rows:
            print("\t".join(row))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*_COLUMNS, title="internet-free findings")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def main(argv: Sequence[str], organisation: Organisation | None = None) -> int:
    """``fmops verify-internet-free [OPTIONS] PATH...``: 0 when clean, 1 with findings, 2 on bad input.

    ``organisation`` (the ``fmops`` command builds it from ``--config``) wins over the flags.
    """
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    try:
        paths, accounts, organization_id, config = parse_arguments(argv)
        if config is not None and organisation is None:
            raise ValueError("--config is read by `fmops verify-internet-free`")
        if organisation is None:
            organisation = Organisation(frozenset(accounts), organization_id)
        if not paths:
            raise ValueError("no PATH given")
        templates = load_templates(paths)
    except ValueError as error:
        print(f"internet-free: {error}", file=sys.stderr)
        return 2
    if not templates:
        print("internet-free: no templates found", file=sys.stderr)
        return 2
    findings = [finding for name, template in templates for finding in check_template(template, name, organisation)]
    if not findings:
        print(f"internet-free: {len(templates)} templates checked, clean")
        return 0
    _print_findings(findings)
    print(f"internet-free: {len(templates)} templates checked, {len(findings)} findings", file=sys.stderr)
    return 1
