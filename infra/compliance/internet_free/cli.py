"""``fmops verify-internet-free PATH...``: check template files or cloud assemblies (cdk.out)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from infra.compliance.internet_free.loader import load_templates
from infra.compliance.internet_free.registry import Finding
from infra.compliance.internet_free.runner import check_template

USAGE = "usage: fmops verify-internet-free PATH...  (template files or cdk.out folders)"
_COLUMNS = ("template", "logical_id", "type", "rule_id", "message")


def _print_findings(findings: Sequence[Finding]) -> None:
    rows = [(f.template, f.logical_id, f.resource_type, f.rule_id, f.message) for f in findings]
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


def main(argv: Sequence[str]) -> int:
    """``fmops verify-internet-free PATH...``: 0 when clean, 1 with findings, 2 on bad input."""
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    try:
        templates = load_templates(argv)
    except ValueError as error:
        print(f"internet-free: {error}", file=sys.stderr)
        return 2
    if not templates:
        print("internet-free: no templates found", file=sys.stderr)
        return 2
    findings = [finding for name, template in templates for finding in check_template(template, name)]
    if not findings:
        print(f"internet-free: {len(templates)} templates checked, clean")
        return 0
    _print_findings(findings)
    print(f"internet-free: {len(templates)} templates checked, {len(findings)} findings", file=sys.stderr)
    return 1
