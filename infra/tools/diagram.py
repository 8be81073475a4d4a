"""Architecture diagram of a synthesized app: Graphviz DOT built from a cloud assembly.

Reads ``manifest.json`` recursively (nested ``cdk:cloud-assembly`` artifacts, i.e. CDK Stages,
included) and draws what the templates say, nothing from the config: one cluster per AWS
account (named after its `<org>-<account>-platform` stack) holding one table: the VPC (CIDR,
AZs, interface and gateway endpoints, DNS firewall, count of internet-facing resources), then
one row per stack (resource count, notable resources, Service Catalog products, CodePipeline
pipelines). Edges are the cross-account relations that can be read reliably:

- solid: a pipeline stage's CloudFormation actions deploy into the account of their role
  (labelled with the stage and its manual approval, if any);
- dashed: an account's IAM policies allow actions on ARNs of another account of the app, or its
  SageMaker models use another account's ECR images, its EventBridge rules target another
  account's bus, its portfolios are shared with another account (labelled with the services;
  pointing at the stack that hosts CodeArtifact or ECR, else at the other account's VPC).

Accounts that hold pipelines come first, then the accounts in the order the pipelines deploy
them (invisible edges keep dev, preprod and prod left to right), then the rest.

``fmops diagram`` writes ``docs/architecture.dot`` and renders ``docs/architecture.svg`` with
``scripts/render-dot.mjs`` (Graphviz compiled to WebAssembly, pinned in package.json).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.assembly import StackArtifact, cfn_text, endpoint_service, read_stacks, resources_of

from infra import REPO_ROOT
DOT_PATH = REPO_ROOT / "docs" / "architecture.dot"
SVG_PATH = REPO_ROOT / "docs" / "architecture.svg"
RENDER_SCRIPT = REPO_ROOT / "scripts" / "render-dot.mjs"

INTERNET_TYPES = ("AWS::EC2::InternetGateway", "AWS::EC2::EgressOnlyInternetGateway", "AWS::EC2::NatGateway",
                  "AWS::EC2::EIP", "AWS::EC2::VPNGateway", "AWS::EC2::CustomerGateway")
# Resource types worth naming in a stack's box (singular, plural).
NOTABLE = {
    "AWS::SageMaker::Domain": ("Studio domain", "Studio domains"),
    "AWS::SageMaker::UserProfile": ("user profile", "user profiles"),
    "AWS::SageMaker::Endpoint": ("SageMaker endpoint", "SageMaker endpoints"),
    "AWS::Bedrock::Guardrail": ("guardrail", "guardrails"),
    "AWS::CodeArtifact::Repository": ("CodeArtifact repository", "CodeArtifact repositories"),
    "AWS::ECR::Repository": ("ECR repository", "ECR repositories"),
    "AWS::ECR::PullThroughCacheRule": ("ECR pull-through cache", "ECR pull-through caches"),
    "AWS::S3::Bucket": ("bucket", "buckets"),
    "AWS::KMS::Key": ("KMS key", "KMS keys"),
    "AWS::IAM::Role": ("role", "roles"),
    "AWS::ServiceCatalog::Portfolio": ("portfolio", "portfolios"),
    "AWS::Cognito::UserPool": ("Cognito user pool", "Cognito user pools"),
    "AWS::Organizations::Policy": ("SCP", "SCPs"),
    "AWS::Budgets::Budget": ("budget", "budgets"),
}
# Services one account hosts for the others: an edge to them points at the stack holding them.
SHARED_SERVICES = {"codeartifact": "AWS::CodeArtifact::", "ecr": "AWS::ECR::"}
_ARN = re.compile(r"^arn:aws[a-z-]*:([a-z0-9-]+):[a-z0-9-]*:(\d{12}):")
_ECR_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.")
_ROLE_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/")
FONT = "Helvetica"  # Graphviz sizes text with its Helvetica metrics; viewers use Helvetica or Arial


@dataclass
class Vpc:
    cidr: str | None
    zones: list[str]
    interface_endpoints: list[str]
    gateway_endpoints: list[str]
    dns_firewall: bool


@dataclass
class Account:
    id: str
    name: str
    region: str
    stacks: list[StackArtifact] = field(default_factory=list)
    vpc: Vpc | None = None
    internet_resources: int = 0

    @property
    def key(self) -> str:
        return re.sub(r"[^A-Za-z0-9]", "_", self.id)

    def short(self, stack: StackArtifact, organisation: str) -> str:
        for prefix in (f"{organisation}-{self.name}-", f"{organisation}-"):
            if organisation and stack.name.startswith(prefix) and len(stack.name) > len(prefix):
                return stack.name[len(prefix):]
        return stack.name


@dataclass(frozen=True)
class Relation:
    source_account: str
    source_stack: str
    target_account: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class Deployment:
    pipeline_stack: str
    pipeline: str
    stage: str
    target_account: str
    stacks: int
    approval: bool


@dataclass
class Architecture:
    organisation: str
    accounts: list[Account]
    relations: list[Relation]
    deployments: list[Deployment]


def _organisation(stacks: list[StackArtifact]) -> str:
    names = Counter(s.tags.get("fmops:organisation") for s in stacks if s.tags.get("fmops:organisation"))
    return names.most_common(1)[0][0] if names else ""


def _vpc(stacks: list[StackArtifact]) -> Vpc | None:
    vpcs = [p for s in stacks for p in resources_of(s, "AWS::EC2::VPC")]
    endpoints = [p for s in stacks for p in resources_of(s, "AWS::EC2::VPCEndpoint")]
    if not vpcs and not endpoints:
        return None
    cidr = vpcs[0].get("CidrBlock") if vpcs and isinstance(vpcs[0].get("CidrBlock"), str) else None
    zones = sorted({p["AvailabilityZone"] for s in stacks for p in resources_of(s, "AWS::EC2::Subnet")
                    if isinstance(p.get("AvailabilityZone"), str)})
    interface = sorted({endpoint_service(p["ServiceName"]) for p in endpoints
                        if p.get("VpcEndpointType") == "Interface"})
    gateway = sorted({endpoint_service(p["ServiceName"]) for p in endpoints
                      if p.get("VpcEndpointType", "Gateway") == "Gateway"})
    firewall = any(resources_of(s, "AWS::Route53Resolver::FirewallRuleGroupAssociation") for s in stacks)
    return Vpc(cidr, zones, interface, gateway, firewall)


def _account_name(account_id: str, stacks: list[StackArtifact], organisation: str) -> str:
    """The account's name in the config, read back from its platform stack `<org>-<name>-platform`."""
    for stack in stacks:
        if resources_of(stack, "AWS::EC2::VPC") or stack.name.endswith("-platform"):
            name = stack.name.removesuffix("-platform")
            if organisation and name.startswith(organisation + "-") and name != stack.name:
                return name[len(organisation) + 1:]
    return account_id


def _walk(value: Any):
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _foreign_services(stack: StackArtifact, accounts: set[str]) -> dict[str, set[str]]:
    """Other accounts of the app this stack's resources act on, with the services."""
    found: dict[str, set[str]] = defaultdict(set)

    def note(account: str | None, service: str) -> None:
        if account and account in accounts and account != stack.account:
            found[account].add(service)

    for resource in stack.template.get("Resources", {}).values():
        kind, properties = resource.get("Type"), resource.get("Properties", {})
        if kind == "AWS::CodePipeline::Pipeline":
            continue  # deployments are drawn from the pipeline's stages
        for node in _walk(properties):
            if isinstance(node, dict) and node.get("Effect") == "Allow" and "Resource" in node:
                for arn in _listed(node["Resource"]):
                    if match := _ARN.match(cfn_text(arn)):
                        note(match[2], match[1])
        if kind == "AWS::SageMaker::Model":
            for container in [properties.get("PrimaryContainer", {}), *properties.get("Containers", [])]:
                if match := _ECR_IMAGE.match(cfn_text(container.get("Image", ""))):
                    note(match[1], "ecr")
        elif kind == "AWS::Events::Rule":
            for target in properties.get("Targets", []):
                if match := _ARN.match(cfn_text(target.get("Arn", ""))):
                    note(match[2], match[1])
        elif kind == "AWS::ServiceCatalog::PortfolioShare":
            note(cfn_text(properties.get("AccountId")), "servicecatalog")
    return found


def _deployments(stack: StackArtifact, accounts: set[str]) -> list[Deployment]:
    found = []
    for properties in resources_of(stack, "AWS::CodePipeline::Pipeline"):
        name = cfn_text(properties.get("Name", "pipeline"))
        for stage in properties.get("Stages", []):
            targets: Counter = Counter()
            approval = False
            for action in stage.get("Actions", []):
                provider = action.get("ActionTypeId", {}).get("Provider")
                approval |= provider == "Manual"
                if provider == "CloudFormation":
                    match = _ROLE_ACCOUNT.match(cfn_text(action.get("RoleArn", "")))
                    stack_name = action.get("Configuration", {}).get("StackName")
                    if match and match[1] in accounts:
                        targets[(match[1], stack_name)] += 1
            for account in sorted({a for a, _ in targets}):
                found.append(Deployment(stack.name, name, stage.get("Name", ""), account,
                                        len({s for a, s in targets if a == account}), approval))
    return found


def read_architecture(assembly: Path) -> Architecture:
    stacks = read_stacks(assembly)
    organisation = _organisation(stacks)
    by_account: dict[str, list[StackArtifact]] = defaultdict(list)
    for stack in stacks:
        by_account[stack.account].append(stack)
    ids = set(by_account)
    accounts = {
        account_id: Account(
            id=account_id, name=_account_name(account_id, members, organisation), region=members[0].region,
            stacks=sorted(members, key=lambda s: s.name), vpc=_vpc(members),
            internet_resources=sum(len(resources_of(s, t)) for s in members for t in INTERNET_TYPES),
        )
        for account_id, members in by_account.items()
    }
    relations, deployments = [], []
    for stack in stacks:
        deployed = _deployments(stack, ids)
        deployments += deployed
        for target, services in sorted(_foreign_services(stack, ids).items()):
            if any(d.target_account == target for d in deployed):
                services.discard("iam")  # the pipeline assumes the CDK roles it deploys with
            if services:
                relations.append(Relation(stack.account, stack.name, target, tuple(sorted(services))))
    return Architecture(organisation, _ordered(accounts, stacks, deployments), relations, deployments)


def _ordered(accounts: dict[str, Account], stacks: list[StackArtifact], deployments: list[Deployment]) -> list[Account]:
    """Accounts that hold pipelines first, then in the order the pipelines deploy them, then the rest
    in manifest order."""
    order: list[str] = []
    for deployment in deployments:
        owner = next(s.account for s in stacks if s.name == deployment.pipeline_stack)
        order += [owner, deployment.target_account]
    order += [s.account for s in stacks]
    return [accounts[a] for a in dict.fromkeys(order)]


# -- DOT ----------------------------------------------------------------------------------

def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _wrap(items: list[str], width: int = 44) -> list[str]:
    lines, line = [], ""
    for item in items:
        candidate = f"{line}, {item}" if line else item
        if line and len(candidate) > width:
            lines.append(line + ",")
            line = item
        else:
            line = candidate
    return lines + ([line] if line else [])


def _plural(count: int, names: tuple[str, str]) -> str:
    return f"{count} {names[0] if count == 1 else names[1]}"


def _stack_lines(stack: StackArtifact) -> list[str]:
    """What a stack's box says below its name."""
    types = Counter(r.get("Type") for r in stack.template.get("Resources", {}).values())
    notable = [_plural(types[t], names) for t, names in NOTABLE.items() if types.get(t)]
    lines = _wrap(notable, 48)
    for pipeline in resources_of(stack, "AWS::CodePipeline::Pipeline"):
        stages = [s.get("Name", "") for s in pipeline.get("Stages", [])]
        lines += [f"CodePipeline {cfn_text(pipeline.get('Name', ''))}:"] + _wrap(stages, 48)
    products = []
    for product in resources_of(stack, "AWS::ServiceCatalog::CloudFormationProduct"):
        artifacts = product.get("ProvisioningArtifactParameters", [])
        label = artifacts[0].get("Description") if artifacts and isinstance(artifacts[0].get("Description"), str) else None
        products.append(label or cfn_text(product.get("Name", "product")))
    if products:
        lines += ["Service Catalog products:"] + _wrap(sorted(products), 48)
    return lines


def _vpc_rows(account: Account) -> list[str]:
    vpc = account.vpc
    if vpc is None:
        return ["<B>no VPC in this account's stacks</B>"]
    rows = [f"<B>VPC {_e(vpc.cidr or '(existing)')}</B>"]
    if vpc.zones:
        rows.append(_e(f"{len(vpc.zones)} AZs, isolated subnets: {', '.join(vpc.zones)}"))
    internet = "no internet path (no IGW, NAT, EIP, VPN)" if account.internet_resources == 0 else \
        f"{account.internet_resources} internet-facing resources"
    rows.append(_e(internet) + (", DNS firewall" if vpc.dns_firewall else ""))
    if vpc.gateway_endpoints:
        rows.append(_e(f"gateway endpoints: {', '.join(vpc.gateway_endpoints)}"))
    rows.append(_e(f"{len(vpc.interface_endpoints)} interface endpoints:"))
    return rows + [_e(line) for line in _wrap(vpc.interface_endpoints, 46)]


def _account_label(account: Account, organisation: str) -> str:
    """One table per account: its VPC (port ``vpc``), then one row per stack (ports ``s0``...)."""
    left = 'ALIGN="LEFT" BALIGN="LEFT"'
    rows = [f'<TR><TD PORT="vpc" {left} BGCOLOR="#e8f1fb" CELLPADDING="6">'
            + '<BR ALIGN="LEFT"/>'.join(_vpc_rows(account)) + '<BR ALIGN="LEFT"/></TD></TR>',
            f'<TR><TD {left} BORDER="0"><B>stacks</B></TD></TR>']
    for index, stack in enumerate(account.stacks):
        resources = len(stack.template.get("Resources", {}))
        detail = "".join(f'<BR ALIGN="LEFT"/><FONT POINT-SIZE="9">{_e(line)}</FONT>' for line in _stack_lines(stack))
        rows.append(f'<TR><TD PORT="s{index}" {left}><B>{_e(account.short(stack, organisation))}</B>'
                    f'<BR ALIGN="LEFT"/><FONT POINT-SIZE="9">{resources} resources</FONT>{detail}<BR ALIGN="LEFT"/></TD></TR>')
    return (f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="5" BGCOLOR="white">'
            f'{"".join(rows)}</TABLE>>')


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _quote(text: str) -> str:
    """A DOT string; backslashes are kept, for DOT's escapes such as \\l (left-justified line)."""
    return '"' + text.replace('"', '\\"') + '"'


def to_dot(architecture: Architecture) -> str:
    """The DOT text of the diagram (deterministic: same assembly, same text)."""
    org = architecture.organisation
    accounts = {a.id: a for a in architecture.accounts}
    lines = [
        "// Generated by `fmops diagram` from a synthesized cloud assembly; do not edit by hand",
        "// (tests/test_docs.py fails when it is stale). Rendered to docs/architecture.svg.",
        "digraph architecture {",
        '  graph [rankdir=LR, newrank=true, nodesep=0.3, ranksep=0.9, fontname="%s", fontsize=12,'
        ' labelloc=b, labeljust=l, label=%s];' % (FONT, _quote(
            f"{org or 'app'}: {_count(len(accounts), 'account')}, "
            f"{_count(sum(len(a.stacks) for a in architecture.accounts), 'stack')}, "
            "generated from the synthesized app (make diagram).\\l"
            "Solid edges: a pipeline stage deploys into the account.\\l"
            "Dashed edges: IAM policies, images, event targets or portfolio shares that name another "
            "account's resources (services on the edge).\\l")),
        f'  node [shape=plain, fontname="{FONT}", fontsize=10];',
        f'  edge [fontname="{FONT}", fontsize=9, color="#555555", fontcolor="#333333"];',
    ]
    for account in architecture.accounts:
        lines += [
            f"  subgraph cluster_{account.key} {{",
            f"    label={_quote(f'{account.name}  ·  account {account.id}  ·  {account.region}')};",
            '    style="rounded,filled"; fillcolor="#f6f6f6"; color="#888888"; fontsize=13; labelloc=t;',
            f"    a{account.key} [label={_account_label(account, org)}];",
            "  }",
        ]
    ports = {(a.id, s.name): f"a{a.key}:s{i}" for a in architecture.accounts for i, s in enumerate(a.stacks)}
    # Keep the stages of one pipeline left to right: dev, then preprod, then prod.
    by_pipeline: dict[str, list[str]] = defaultdict(list)
    for deployment in architecture.deployments:
        if deployment.target_account not in by_pipeline[deployment.pipeline_stack]:
            by_pipeline[deployment.pipeline_stack].append(deployment.target_account)
    layout_edges = sorted({(a, b) for chain in by_pipeline.values() for a, b in zip(chain, chain[1:])})
    for before, after in layout_edges:
        lines.append(f"  a{accounts[before].key} -> a{accounts[after].key} [style=invis, weight=4];")
    for deployment in architecture.deployments:
        target = accounts[deployment.target_account]
        source_account = next(a for a in architecture.accounts if any(s.name == deployment.pipeline_stack for s in a.stacks))
        label = f"{deployment.pipeline}: {deployment.stage}, {deployment.stacks} stacks"
        if deployment.approval:
            label += " (manual approval)"
        lines.append(f"  {ports[(source_account.id, deployment.pipeline_stack)]}:e -> a{target.key}:vpc:w "
                     f'[label={_quote(label)}, color="#1f5fa8", penwidth=1.4];')
    # Cross-account relations, one edge per account and target: from the account (its VPC, through
    # whose endpoints the calls go) to the stack hosting the service, or to the other account.
    merged: dict[tuple[str, str], set[str]] = defaultdict(set)
    for relation in architecture.relations:
        target = accounts[relation.target_account]
        home = _service_home(target, relation.services)
        head = ports[(target.id, home.name)] if home else f"a{target.key}:vpc"
        merged[(relation.source_account, head)].update(relation.services)
    for (source, head), services in sorted(merged.items()):
        lines.append(f"  a{accounts[source].key}:vpc -> {head} "
                     f'[style=dashed, color="#a05a00", fontcolor="#a05a00", label={_quote(", ".join(sorted(services)))}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _service_home(account: Account, services: tuple[str, ...]) -> StackArtifact | None:
    """The stack that hosts a service for other accounts (the package mirror: CodeArtifact, ECR).
    Keys, buckets and buses are in many stacks, so edges for those point at the account."""
    for service in services:
        if service in SHARED_SERVICES:
            for stack in account.stacks:
                if any(str(r.get("Type", "")).startswith(SHARED_SERVICES[service])
                       for r in stack.template.get("Resources", {}).values()):
                    return stack
    return None


def render_svg(dot: str) -> str:
    """SVG of ``dot`` by scripts/render-dot.mjs (Graphviz in WebAssembly, node_modules)."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed: the diagram is rendered by scripts/render-dot.mjs (Node 20)")
    result = subprocess.run([node, str(RENDER_SCRIPT)], input=dot, capture_output=True, text=True,
                            cwd=REPO_ROOT, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"scripts/render-dot.mjs failed: {result.stderr.strip()} (run `npm ci` for node_modules)")
    return result.stdout
