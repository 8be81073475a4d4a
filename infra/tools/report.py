"""The short summary `make synth` prints: size headroom, endpoint cost, compliance results.

Reads a cloud assembly (cdk.out) only; it never synthesizes. The internet-free rules are run
again over the written templates, so the summary reports what is on disk.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from infra.assembly import StackArtifact, endpoint_service, read_stacks
from infra.compliance.checks import NAG_PACKS
from infra.compliance.internet_free import check_paths
from infra.compliance.internet_free.organisation import UNKNOWN_ORGANISATION, Organisation
from infra.tools.pricing import PriceTable, load_prices

MAX_RESOURCES = 500
MAX_TEMPLATE_BYTES = 1024 * 1024
ACK_TYPE = "aws:cdk:acknowledged-rules"


@dataclass(frozen=True)
class StackInfo:
    name: str
    account: str
    region: str
    resources: int
    template_bytes: int
    endpoints: tuple[str, ...]
    endpoint_azs: int
    acknowledged: Counter
    mlflow_sizes: tuple[str, ...] = ()
    """The sizes of the stack's MLflow tracking servers (each billed per hour while it runs)."""

    def endpoint_cost(self, prices: PriceTable) -> float | None:
        return prices.monthly(self.region, len(self.endpoints), self.endpoint_azs) if self.endpoints else 0.0


def stacks_in(assembly: Path) -> list[StackInfo]:
    """Every stack of the assembly, nested assemblies (stages) included."""
    return sorted((_stack_info(stack) for stack in read_stacks(assembly)), key=lambda s: s.name)


def _stack_info(stack: StackArtifact) -> StackInfo:
    interface = [r["Properties"] for r in stack.resources.values()
                 if r["Type"] == "AWS::EC2::VPCEndpoint" and r["Properties"].get("VpcEndpointType") == "Interface"]
    acknowledged: Counter = Counter()
    for rules in stack_acknowledgments(stack):
        acknowledged.update(rule for rule in rules if rule.startswith(NAG_PACKS))
    return StackInfo(
        name=stack.name,
        account=stack.account,
        region=stack.region,
        resources=len(stack.resources),
        template_bytes=stack.template_file.stat().st_size,
        endpoints=tuple(sorted(endpoint_service(p["ServiceName"]) for p in interface)),
        endpoint_azs=max((len(p.get("SubnetIds", [])) for p in interface), default=0),
        acknowledged=acknowledged,
        mlflow_sizes=tuple(sorted(r["Properties"].get("TrackingServerSize", "Small") for r in stack.resources.values()
                                  if r["Type"] == "AWS::SageMaker::MlflowTrackingServer")),
    )


def stack_acknowledgments(stack: StackArtifact) -> list[dict[str, str]]:
    """The acknowledged rules ({rule: reason}) recorded on each construct of a stack."""
    return [
        {rule.removeprefix("Annotation::"): reason for rule, reason in entry["data"].items()}
        for entries in stack.metadata.values()
        for entry in entries
        if entry.get("type") == ACK_TYPE
    ]


def mlflow_line(stacks: list[StackInfo], prices: PriceTable) -> str:
    """The fixed monthly cost of the MLflow tracking servers (billed per hour while they run)."""
    servers = [(s, size) for s in stacks for size in s.mlflow_sizes]
    if not servers:
        return "MLflow: no tracking server."
    costs = [prices.mlflow_monthly(s.region, [size]) for s, size in servers]
    known = sum(c for c in costs if c is not None)
    unpriced = sum(c is None for c in costs)
    sizes = Counter(size for _, size in servers)
    return (f"MLflow: {len(servers)} tracking server{'' if len(servers) == 1 else 's'} ({', '.join(f'{n} {size}' for size, n in sorted(sizes.items()))}), "
            f"fixed cost {known:,.2f} {prices.currency}/month running all month"
            + (f", {unpriced} without a price" if unpriced else "")
            + " (prices: config/endpoint-prices.yaml; stopping a server stops its hourly charge).")


def audit_line(assembly: Path) -> str:
    """What the audit trail records and what it costs: usage only, no fixed monthly price."""
    trails, recorders, rules = [], 0, 0
    for stack in read_stacks(assembly):
        for resource in stack.resources.values():
            kind, props = resource["Type"], resource.get("Properties", {})
            if kind == "AWS::CloudTrail::Trail":
                trails.append(props)
            recorders += kind == "AWS::Config::ConfigurationRecorder"
            rules += kind == "AWS::Config::ConfigRule"
    described = []
    for trail in trails:
        selectors = trail.get("AdvancedEventSelectors", [])
        data = [s for s in selectors if {"Field": "eventCategory", "Equals": ["Data"]} in s["FieldSelectors"]]
        described.append(f"{'an organisation' if trail.get('IsOrganizationTrail') else 'an account'} trail "
                         f"(management events and {len(data)} data-event selectors)")
    return (f"Audit: {', '.join(described) or 'no trail'}; {recorders} AWS Config recorders, {rules} managed rules. "
            "No fixed monthly cost: CloudTrail data events, AWS Config configuration items and rule evaluations "
            "are billed per use (the first copy of management events is free).")


def render(assembly: Path, organisation: Organisation = UNKNOWN_ORGANISATION, console: Console | None = None) -> int:
    """Print the summary; return 0 when within limits and clean, 1 otherwise.

    ``organisation`` (the config's accounts and organisation ID) is the inside of the perimeters.
    """
    console = console or Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    stacks = stacks_in(assembly)
    prices = load_prices()
    table = Table(title=f"FMOps synth summary: {assembly} ({len(stacks)} stacks)", title_justify="left")
    for column in ("stack", "resources", "free of 500", "template KB", "free of 1 MB",
                   "endpoints", "AZs", f"{prices.currency}/month"):
        table.add_column(column, justify="left" if column == "stack" else "right")
    failures = 0
    for stack in stacks:
        cost = stack.endpoint_cost(prices)
        over = stack.resources > MAX_RESOURCES or stack.template_bytes > MAX_TEMPLATE_BYTES
        failures += over
        table.add_row(
            stack.name, str(stack.resources), str(MAX_RESOURCES - stack.resources),
            f"{stack.template_bytes / 1024:.1f}", f"{(MAX_TEMPLATE_BYTES - stack.template_bytes) / 1024:.0f} KB",
            str(len(stack.endpoints)), str(stack.endpoint_azs),
            "no price" if cost is None else f"{cost:,.2f}",
        )
    console.print(table)
    total = sum(s.resources for s in stacks)
    costs = [s.endpoint_cost(prices) for s in stacks]
    known = sum(c for c in costs if c)
    console.print(f"Resources: {total} in {len(stacks)} stacks. VPC endpoint fixed cost: "
                  f"{known:,.2f} {prices.currency}/month for the organisation "
                  f"(prices: config/endpoint-prices.yaml, {prices.hours_per_month} h/month).")
    for stack in stacks:
        if stack.endpoints:
            console.print(f"  {stack.name}: {', '.join(stack.endpoints)}", soft_wrap=True)
    console.print(mlflow_line(stacks, prices), soft_wrap=True)
    console.print(audit_line(assembly), soft_wrap=True)
    acknowledged = sum((s.acknowledged for s in stacks), Counter())
    console.print(f"cdk-nag ({', '.join(NAG_PACKS)}): 0 unacknowledged findings (synth fails otherwise); "
                  f"{sum(acknowledged.values())} acknowledgments of {len(acknowledged)} rules, reasons in "
                  "fmops_constructs/acknowledge.py.")
    findings = check_paths([assembly], organisation)
    failures += len(findings)
    if findings:
        console.print(f"[bold red]internet-free: {len(findings)} findings[/]")
        for f in findings:
            console.print(f"  {f.template} {f.logical_id} {f.resource_type} {f.rule_id}: {f.message}", soft_wrap=True)
    else:
        console.print(f"internet-free: clean ({len(stacks)} templates, no path to or from the internet).")
    if failures:
        console.print(f"[bold red]{failures} problems: see above.[/]")
    return 1 if failures else 0
