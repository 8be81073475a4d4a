"""Internet-free rule pack: a static checker over synthesized CloudFormation templates.

Every rule is one small function registered with ``@rule(id, title, *resource_types)``. Its
docstring says which path to or from the internet it closes and, after ``Fix:``, how to close
it. The same rules run in three places: ``fmops verify-internet-free PATH...`` (``main``), the
CDK validation plugin at synth (``internet_free_plugin.InternetFreeChecks``) and the tests.

Rules
-----
One entry per rule, in the order they run: id, title, then the fix.

::

    IF-EC2-IGW: No internet gateway
        Fix: remove it; reach AWS services through VPC endpoints.
    IF-EC2-EIGW: No egress-only internet gateway
        Fix: remove it; use VPC endpoints for AWS services.
    IF-EC2-NAT: No NAT gateway
        Fix: remove it; use VPC endpoints, and CodeArtifact/ECR pull-through for packages and
        images.
    IF-EC2-EIP: No Elastic IP
        Fix: remove it; nothing in an internet-free VPC needs a public address.
    IF-EC2-GW-ATTACH: No gateway attached to a VPC
        Fix: remove the attachment.
    IF-EC2-VGW: No virtual private gateway
        Fix: remove it; if on-premises access is a requirement, route it through a reviewed,
        exempted network stack.
    IF-EC2-VPN: No site-to-site VPN
        Fix: remove it, or move it to a reviewed network stack with an exemption.
    IF-DX: No Direct Connect
        Fix: remove it, or move it to a reviewed network stack with an exemption.
    IF-EC2-CLIENT-VPN: No client VPN
        Fix: remove it; people reach the platform through the console, SSO and Studio.
    IF-EC2-CARRIER-GW: No carrier gateway
        Fix: remove it.
    IF-EC2-LOCAL-GW: No Outposts local gateway routing
        Fix: remove it, or move it to a reviewed network stack with an exemption.
    IF-EC2-VPC-PEERING: No peering with a VPC outside the template
        Fix: peer only VPCs defined in the same template and account, or reach shared services
        through PrivateLink endpoints to AWS services.
    IF-EC2-TGW-PEERING: No transit gateway peering
        Fix: remove it, or move it to a reviewed network stack with an exemption.
    IF-EC2-VERIFIED-ACCESS: No Verified Access
        Fix: remove it.
    IF-EC2-INSTANCE-CONNECT: No EC2 Instance Connect endpoint
        Fix: remove it; use Session Manager through the ssm/ssmmessages endpoints if shell access is
        needed.
    IF-EC2-BPA-EXCLUSION: No VPC Block Public Access exclusion
        Fix: remove the exclusion.
    IF-EC2-ROUTE-DEST: No route to internet address space
        Fix: route only private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7).
    IF-EC2-ROUTE-TARGET: No route to a gateway out of the VPC
        Fix: remove the route; VPC endpoints need no routes except the S3 gateway endpoint's, which
        the endpoint manages itself.
    IF-EC2-SUBNET-PUBLIC: No subnet that hands out public addresses
        Fix: set MapPublicIpOnLaunch, MapCustomerOwnedIpOnLaunch and AssignIpv6AddressOnCreation to
        false (CDK: SubnetType.PRIVATE_ISOLATED).
    IF-EC2-PUBLIC-IP: No public IP or internet-access switch
        Fix: set the switch off (false / DISABLED).
    IF-DEFAULT-VPC: Nothing placed in the default VPC
        Fix: give the subnet (group) of the internet-free VPC.
    IF-EC2-VPCE-FOREIGN: VPC endpoints only to AWS services
        Fix: create endpoints only for com.amazonaws.<region>.<service> and aws.sagemaker.<region>.*
        names; exempt a reviewed private service with a reason.
    IF-EC2-VPCE-SERVICE-PUB: No endpoint service open to every account
        Fix: list the account or organisation principals that may connect.
    IF-SG-INGRESS-PUBLIC: No security group ingress from internet addresses
        Fix: allow only the VPC CIDR or other security groups.
    IF-SG-EGRESS-PUBLIC: No security group egress to internet addresses
        Fix: allow_all_outbound=False and explicit egress to the VPC CIDR, endpoint security groups
        or the S3 prefix list.
    IF-EC2-NACL-PUBLIC: No network ACL allowing internet addresses
        Fix: allow only private ranges; deny is fine.
    IF-R53-DNS-FIREWALL: Every VPC has a DNS firewall
        Fix: associate a firewall rule group that allows AWS service domains and blocks the rest; if
        a central firewall (Firewall Manager, Landing Zone Accelerator) does it, exempt with that
        reason.
    IF-R53-FORWARD-PUBLIC: No DNS forwarding to internet resolvers
        Fix: forward only to private resolver addresses.
    IF-ELB-INTERNET-FACING: No internet-facing load balancer
        Fix: Scheme internal (CDK: internet_facing=False).
    IF-APIGW-REST-PUBLIC: REST APIs are PRIVATE only
        Fix: EndpointConfiguration.Types [PRIVATE] and a resource policy on aws:SourceVpce.
    IF-APIGW-DOMAIN-PUBLIC: API custom domains are PRIVATE only
        Fix: EndpointConfiguration.Types [PRIVATE].
    IF-APIGWV2: No HTTP or WebSocket API
        Fix: use a PRIVATE REST API.
    IF-APPSYNC-PUBLIC: No public AppSync API
        Fix: Visibility PRIVATE on a GraphQL API; no Event API or custom domain.
    IF-CLOUDFRONT: No CloudFront
        Fix: remove it.
    IF-GLOBAL-ACCELERATOR: No Global Accelerator
        Fix: remove it.
    IF-LIGHTSAIL: No Lightsail
        Fix: remove them.
    IF-AMPLIFY: No Amplify hosting
        Fix: remove it.
    IF-APPRUNNER: No public App Runner ingress or egress
        Fix: IngressConfiguration.IsPubliclyAccessible false and EgressConfiguration.EgressType VPC.
    IF-TRANSFER: No public Transfer Family endpoint or connector
        Fix: EndpointType VPC without AddressAllocationIds; web app EndpointDetails; connector
        EgressType VPC_LATTICE.
    IF-EKS-PUBLIC-ENDPOINT: No public EKS API endpoint
        Fix: EndpointPublicAccess false, EndpointPrivateAccess true.
    IF-PUBLICLY-ACCESSIBLE: No publicly accessible database or broker
        Fix: PubliclyAccessible false.
    IF-OPENSEARCH-VPC: OpenSearch domains inside the VPC
        Fix: VPCOptions with SubnetIds and SecurityGroupIds.
    IF-AOSS-PUBLIC: No public OpenSearch Serverless collection
        Fix: AllowFromPublic false with SourceVPCEs.
    IF-MSK-PUBLIC: No public MSK brokers
        Fix: PublicAccess.Type DISABLED or omit it.
    IF-MWAA-PUBLIC: No public Airflow web server
        Fix: WebserverAccessMode PRIVATE_ONLY.
    IF-ECR-PUBLIC: No ECR Public repository
        Fix: use a private ECR repository.
    IF-LAMBDA-URL: No Lambda function URL
        Fix: invoke the function through a PRIVATE API or the lambda VPC endpoint.
    IF-LAMBDA-PERMISSION-PUB: No Lambda permission for everyone
        Fix: name the calling service and its SourceArn/SourceAccount, or the organisation.
    IF-LAMBDA-VPC: Every Lambda function in the VPC
        Fix: VpcConfig with SubnetIds and SecurityGroupIds of the internet-free VPC.
    IF-CODEBUILD-VPC: Every CodeBuild project in the VPC
        Fix: VpcConfig with VpcId, Subnets and SecurityGroupIds.
    IF-GLUE-JOB-VPC: Every Glue job on a VPC connection
        Fix: Connections with a NETWORK connection in the internet-free VPC.
    IF-SM-DOMAIN-VPC-ONLY: SageMaker domains are VpcOnly
        Fix: AppNetworkAccessType VpcOnly.
    IF-SM-NOTEBOOK-INTERNET: No notebook with direct internet access
        Fix: DirectInternetAccess Disabled with SubnetId and SecurityGroupIds.
    IF-SM-NOTEBOOK-ROOT: No notebook with root access
        Fix: RootAccess Disabled.
    IF-SM-MODEL-VPC: Every SageMaker model in the VPC
        Fix: VpcConfig with Subnets and SecurityGroupIds.
    IF-SM-MODEL-ISOLATION: No model that turns network isolation off
        Fix: EnableNetworkIsolation true, or exempt with the reason the container needs the network.
    IF-SM-JOB-VPC: Every SageMaker monitoring job and cluster in the VPC
        Fix: NetworkConfig.VpcConfig (or VpcConfig) with Subnets and SecurityGroupIds.
    IF-SM-HUB-PULL: No model weights pulled from a hub at run time
        Fix: stage the weights in S3 and point the container at s3:// or /opt/ml/model.
    IF-AGENTCORE-PUBLIC: AgentCore runtimes and tools in the VPC
        Fix: NetworkConfiguration.NetworkMode VPC (or SANDBOX for a code interpreter).
    IF-BEDROCK-DATASOURCE: Knowledge bases read only from S3 or the account
        Fix: stage documents in S3 (type S3) or ingest them directly (CUSTOM).
    IF-EVENTS-HTTP: No EventBridge call to a public HTTP endpoint
        Fix: InvocationConnectivityParameters with a VPC Lattice resource configuration.
    IF-NOTIFY-EXTERNAL: No notification to the internet
        Fix: deliver to SQS, Lambda or Firehose in the account.
    IF-FIREHOSE-EXTERNAL: No Firehose delivery to the internet
        Fix: deliver to S3, Redshift, OpenSearch or Iceberg in the account.
    IF-APPFLOW-SAAS: No AppFlow SaaS connection
        Fix: remove them.
    IF-CODE-SOURCE-EXTERNAL: No source code from an internet host
        Fix: use CodeCommit or S3 sources in the account; exempt the governance pipeline's
        connection with a reason if the organisation accepts it.
    IF-IAM-USER-CREDENTIALS: No long-lived IAM user credentials
        Fix: use IAM Identity Center and roles.
    IF-S3-WEBSITE: No S3 website hosting
        Fix: remove WebsiteConfiguration.
    IF-S3-PUBLIC-ACCESS-BLOCK: All four S3 public access blocks on
        Fix: PublicAccessBlockConfiguration with all four flags true (CDK:
        BlockPublicAccess.BLOCK_ALL).
    IF-S3-ACL: No public canned ACL
        Fix: remove AccessControl (or Private) and enforce bucket-owner object ownership.
    IF-S3-POLICY-PUBLIC: No public bucket policy
        Fix: name principals, or add a StringEquals condition on aws:SourceVpce or
        aws:PrincipalOrgID.
    IF-S3-VPCE-ONLY: Buckets deny access from outside the VPC endpoint
        Fix: add that Deny statement to the bucket policy.
    IF-S3-TLS-ONLY: Buckets deny requests without TLS
        Fix: CDK enforce_ssl=True (a Deny of s3:* when aws:SecureTransport is false).
    IF-S3-ACCESS-POINT: S3 access points bound to a VPC
        Fix: VpcConfiguration.VpcId of the internet-free VPC.
    IF-POLICY-PUBLIC: No public resource policy
        Fix: name principals, or add a StringEquals condition on aws:SourceVpce, aws:PrincipalOrgID,
        aws:SourceAccount or aws:SourceArn.
    IF-CFN-TRANSFORM: No transform or macro
        Fix: synthesize plain CloudFormation (CDK does) and check the result.
    IF-CFN-UNCHECKED-TEMPLATE: No template deployed from outside the cloud assembly
        Fix: build the template with CDK (NestedStack, ProductStack) so it is checked, or check it
        separately and exempt with that reason.
    IF-EXEMPTION: Exemptions name known rules and give a reason
        Fix: Metadata {"fmops:internet-free-exempt": {"rules": ["IF-..."], "reason": "..."}}.

Intrinsic functions
-------------------
``values()`` resolves what a template can tell: ``Fn::If`` yields both branches (the
condition is not evaluated), ``Ref: AWS::NoValue`` yields ``MISSING``, a ``Ref`` to a
parameter yields its ``Default`` and ``AllowedValues``, ``Fn::Join``/``Fn::Sub`` of literals
are joined, and ``Fn::GetAtt`` of a template VPC's ``CidrBlock`` yields that CIDR. Whatever
is left (attributes, imports, parameters without default) is *unknown*. The choice per kind
of value, also stated in each rule that departs from it:

* switches and enums that open a path (``PubliclyAccessible``, ``Scheme``,
  ``AppNetworkAccessType``...): unknown is a finding, because a deploy-time value may open it;
* required settings (``VpcConfig``, subnets, ``VPCOptions``): the property must be present
  in every branch; an unknown value that is present (an imported subnet list) is accepted;
* CIDRs and IPs in routes and DNS forwarding: unknown is a finding; in security group and
  network ACL rules unknown is accepted, since CDK writes the literal ``0.0.0.0/0`` for
  ``anyIpv4`` and peer CIDRs usually are imported VPC ranges;
* principals in resource policies: only ``"*"`` (literal, a branch, or a parameter's
  default/allowed value) is public; ARNs built from attributes are accepted;
* policy documents built as strings (``Fn::Join``) are parsed with ``{?}`` standing for
  the unknown parts; a document that still cannot be parsed is a finding.

Exemptions
----------
A resource is exempt from named rules only through its metadata::

    "Metadata": {"fmops:internet-free-exempt": {"rules": ["IF-..."], "reason": "why"}}

(the template's top-level ``Metadata`` does the same for template-level rules). The reason
must be a non-empty string and every id a known rule; otherwise IF-EXEMPTION reports it and
the entry exempts nothing. IF-EXEMPTION itself cannot be exempted.
"""

from __future__ import annotations

import fnmatch
import inspect
import ipaddress
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXEMPT_KEY = "fmops:internet-free-exempt"
TEMPLATE = "(template)"
"""Pseudo resource type of the template itself, for template-level rules."""
UNKNOWN_TEXT = "{?}"
"""How ``render`` shows a part only known at deploy time."""


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Finding:
    """One rule broken by one resource of one template."""

    template: str
    logical_id: str
    resource_type: str
    rule_id: str
    message: str


@dataclass(frozen=True)
class Subject:
    """The resource under check, with its template for cross-references."""

    logical_id: str
    type: str
    resource: dict
    template: dict

    @property
    def props(self) -> dict:
        properties = self.resource.get("Properties")
        return properties if isinstance(properties, dict) else {}

    def at(self, *path: str) -> list[Any]:
        """Candidate values at ``path`` below the resource's Properties."""
        return at(self.props, self.template, *path)

    def flat(self, *path: str) -> list[Any]:
        """Candidate values at ``path``, with lists opened into their elements."""
        return [item for value in self.at(*path) for item in flat(value, self.template)]

    def resources(self, resource_type: str) -> Iterator[tuple[str, dict]]:
        """The template's resources of one type."""
        for logical_id, resource in _resources(self.template):
            if resource.get("Type") == resource_type:
                yield logical_id, resource


@dataclass(frozen=True)
class Rule:
    """A named check; ``check`` returns one message per problem found."""

    id: str
    title: str
    types: tuple[str, ...]
    func: Callable[[Subject], list[str]]

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.func.__doc__ or "")

    @property
    def fix(self) -> str:
        return " ".join(self.doc.partition("Fix:")[2].split())

    def applies_to(self, resource_type: str) -> bool:
        """Exact type, or a prefix pattern ending in ``*`` (never the template itself)."""
        return any(
            resource_type == pattern
            or (pattern.endswith("*") and resource_type != TEMPLATE and resource_type.startswith(pattern[:-1]))
            for pattern in self.types
        )

    def check(self, logical_id: str, resource: dict, template: dict) -> list[str]:
        resource_type = resource.get("Type", "")
        if not self.applies_to(resource_type):
            return []
        return self.func(Subject(logical_id, resource_type, resource, template))


RULES: list[Rule] = []


def rule(rule_id: str, title: str, *types: str) -> Callable[[Callable[[Subject], list[str]]], Callable]:
    """Register the decorated function as rule ``rule_id`` for ``types`` (in definition order)."""

    def register(func: Callable[[Subject], list[str]]) -> Callable[[Subject], list[str]]:
        RULES.append(Rule(rule_id, title, types, func))
        return func

    return register


# --------------------------------------------------------------------------- intrinsics


class _Missing:
    """Marker for a property that is absent or resolves to ``AWS::NoValue``."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def is_intrinsic(value: Any) -> bool:
    """True for ``{"Ref": ...}`` and ``{"Fn::...": ...}``: a value only known at deploy time."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return key == "Ref" or key.startswith("Fn::")


def values(expr: Any, template: dict) -> list[Any]:
    """Every value ``expr`` can take, as far as the template tells (see module docstring)."""
    if not is_intrinsic(expr):
        return [expr]
    ((function, argument),) = expr.items()
    if function == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
        return values(argument[1], template) + values(argument[2], template)
    if function == "Ref":
        return _ref_values(argument, template, expr)
    if function == "Fn::GetAtt":
        return _getatt_values(argument, template, expr)
    if function in ("Fn::Join", "Fn::Sub") and UNKNOWN_TEXT not in (text := render(expr, template)):
        return [text]
    return [expr]


def _ref_values(name: Any, template: dict, expr: dict) -> list[Any]:
    if name == "AWS::NoValue":
        return [MISSING]
    parameter = template.get("Parameters", {}).get(name) if isinstance(name, str) else None
    if isinstance(parameter, dict):
        found = list(parameter.get("AllowedValues", []))
        found += [parameter["Default"]] if "Default" in parameter else []
        if found:
            return found
    return [expr]


def _getatt_values(argument: Any, template: dict, expr: dict) -> list[Any]:
    parts = argument.split(".", 1) if isinstance(argument, str) else argument
    if not isinstance(parts, list) or len(parts) != 2:
        return [expr]
    resource = _resource(template, parts[0])
    if parts[1] == "CidrBlock" and resource.get("Type") == "AWS::EC2::VPC":
        return values(resource.get("Properties", {}).get("CidrBlock", MISSING), template)
    return [expr]


def at(node: Any, template: dict, *path: str) -> list[Any]:
    """Candidate values at ``path`` below ``node``: MISSING where absent, intrinsics kept."""
    current = values(node, template)
    for key in path:
        following: list[Any] = []
        for value in current:
            if is_intrinsic(value):
                following.append(value)
            elif isinstance(value, dict) and key in value:
                following += values(value[key], template)
            else:
                following.append(MISSING)
        current = following
    return current


def flat(expr: Any, template: dict) -> list[Any]:
    """Candidate values of ``expr`` with lists (and lists of lists) opened into elements."""
    found: list[Any] = []
    for value in values(expr, template):
        if isinstance(value, list):
            for item in value:
                found += flat(item, template)
        else:
            found.append(value)
    return found


def render(expr: Any, template: dict) -> str:
    """``expr`` as text, with each part only known at deploy time shown as ``{?}``."""
    if expr is MISSING:
        return ""
    if isinstance(expr, str):
        return expr
    if not isinstance(expr, (dict, list)):
        return json.dumps(expr)
    if is_intrinsic(expr):
        ((function, argument),) = expr.items()
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], list):
            delimiter, parts = argument
            return str(delimiter).join(render(part, template) for part in parts)
        if function == "Fn::Sub":
            text = argument[0] if isinstance(argument, list) else argument
            if isinstance(text, str):
                return re.sub(r"\$\{(?!!)[^}]*\}", UNKNOWN_TEXT, text)
    return UNKNOWN_TEXT


def references(expr: Any, template: dict, resource_type: str) -> bool:
    """True if ``expr`` contains a Ref or GetAtt to a template resource of ``resource_type``."""
    return any(
        _resource(template, target).get("Type") == resource_type for target in _referenced_ids(expr)
    )


def _referenced_ids(expr: Any) -> Iterator[str]:
    if isinstance(expr, list):
        for item in expr:
            yield from _referenced_ids(item)
    elif isinstance(expr, dict):
        if isinstance(expr.get("Ref"), str):
            yield expr["Ref"]
        getatt = expr.get("Fn::GetAtt")
        if isinstance(getatt, list) and getatt and isinstance(getatt[0], str):
            yield getatt[0]
        elif isinstance(getatt, str):
            yield getatt.split(".", 1)[0]
        for value in expr.values():
            yield from _referenced_ids(value)


def _resources(template: dict) -> Iterator[tuple[str, dict]]:
    resources = template.get("Resources")
    for logical_id, resource in (resources.items() if isinstance(resources, dict) else []):
        if isinstance(resource, dict):
            yield logical_id, resource


def _resource(template: dict, logical_id: Any) -> dict:
    resource = template.get("Resources", {}).get(logical_id) if isinstance(logical_id, str) else None
    return resource if isinstance(resource, dict) else {}


def _show(value: Any, template: dict) -> str:
    """A short human form of a candidate value for messages."""
    if value is MISSING:
        return "(not set)"
    text = render(value, template)
    return text if text != UNKNOWN_TEXT else json.dumps(value, default=str)[:80]


def _find_keys(node: Any, names: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """Every (key, value) below ``node`` whose key is in ``names``, through intrinsics too."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in names:
                yield key, value
            yield from _find_keys(value, names)
    elif isinstance(node, list):
        for item in node:
            yield from _find_keys(item, names)


# --------------------------------------------------------------------------- predicates


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def _absent(value: Any) -> bool:
    return value is MISSING or value is None or (isinstance(value, (str, list, dict)) and not value)


def may_be_true(candidates: list[Any]) -> bool:
    """A switch that is, or may be at deploy time, on."""
    return any(_true(value) or is_intrinsic(value) for value in candidates)


def may_be_not_false(candidates: list[Any]) -> bool:
    """A switch that is not surely off (missing counts as on)."""
    return any(not _false(value) for value in candidates)


def may_be_absent(candidates: list[Any]) -> bool:
    """A required setting missing or empty in some branch."""
    return any(_absent(value) for value in candidates)


def may_be_other_than(candidates: list[Any], *allowed: Any) -> bool:
    """An enum that may take a value outside ``allowed`` (unknown counts as outside)."""
    return any(is_intrinsic(value) or value not in allowed for value in candidates)


def _when(condition: bool, message: str) -> list[str]:
    """``[message]`` if ``condition`` holds, else no message."""
    return [message] if condition else []


def _present(candidates: list[Any]) -> bool:
    return any(value is not MISSING for value in candidates)


_NON_INTERNET = tuple(
    ipaddress.ip_network(block)
    for block in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "255.255.255.255/32",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)


def internet_cidr(text: str) -> bool:
    """True if the CIDR or address reaches beyond private, shared, link-local and loopback space.

    ``255.255.255.255/32`` is the sentinel CDK writes for "no egress"; a malformed value counts
    as internet.
    """
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return True
    return not any(network.version == block.version and network.subnet_of(block) for block in _NON_INTERNET)


def _internet_addresses(candidates: list[Any], template: dict, unknown_is_internet: bool) -> list[str]:
    """The candidates that reach the internet, shown for messages."""
    found = [value for value in candidates if value is not MISSING]
    return [
        _show(value, template)
        for value in found
        if (unknown_is_internet if is_intrinsic(value) else internet_cidr(str(value)))
    ]


# --------------------------------------------------------------------------- policies

_MATCH_OPERATORS = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})
_RESTRICTING_KEYS = frozenset(
    {
        "aws:sourcevpce",
        "aws:sourcevpc",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourceowner",
        "aws:vpceaccount",
        "aws:vpceorgid",
        "aws:vpceorgpaths",
        "kms:calleraccount",
    }
)


def _statements(document: Any, template: dict) -> list[dict]:
    """The statements of a policy document (an object or a list of branches)."""
    found: list[dict] = []
    for candidate in values(document, template):
        if isinstance(candidate, dict) and not is_intrinsic(candidate):
            found += [
                statement
                for statement in flat(candidate.get("Statement", []), template)
                if isinstance(statement, dict) and not is_intrinsic(statement)
            ]
    return found


def _principals(principal: Any, template: dict) -> list[Any]:
    """Principal candidates, with ``{"AWS": [...]}`` opened; other kinds become ``Kind:value``."""
    found: list[Any] = []
    for candidate in values(principal, template):
        if isinstance(candidate, dict) and not is_intrinsic(candidate):
            for kind, names in candidate.items():
                opened = flat(names, template)
                if kind in ("AWS", "CanonicalUser"):
                    found += opened
                else:
                    found += [f"{kind}:{_show(name, template)}" for name in opened]
        else:
            found.append(candidate)
    return found


def _wildcard(value: Any) -> bool:
    """A condition value that matches anyone: ``*``, or an ARN with a wildcard account."""
    if not isinstance(value, str):
        return False
    if not value.strip("*?"):
        return True
    fields = value.split(":")
    return value.startswith("arn:") and len(fields) > 4 and "*" in fields[4]


def _restricts(condition: Any, template: dict) -> bool:
    """True if every branch of ``condition`` ties the caller to a network, account or org.

    Only positive match operators count: ``...IfExists`` and ``ForAllValues:`` pass a request
    that lacks the key (such as one from the internet), and ``aws:SourceIp`` names internet
    addresses, so none of these restrict.
    """
    branches = values(condition, template)
    return all(_restricts_branch(branch, template) for branch in branches)


def _restricts_branch(condition: Any, template: dict) -> bool:
    if not isinstance(condition, dict) or is_intrinsic(condition):
        return False
    for operator, block in condition.items():
        matching = operator.lower().removeprefix("foranyvalue:") in _MATCH_OPERATORS
        if not matching or not isinstance(block, dict):
            continue
        for key, value in block.items():
            if key.lower() in _RESTRICTING_KEYS and not any(_wildcard(v) for v in flat(value, template)):
                return True
    return False


_NEGATED_OPERATORS = frozenset(
    f"{base}{suffix}"
    for base in ("stringnotequals", "stringnotlike", "arnnotequals", "arnnotlike")
    for suffix in ("", "ifexists")
)
_FENCE = {(operator, key) for operator in _NEGATED_OPERATORS for key in _RESTRICTING_KEYS}
_BOOL_OPERATORS = ("bool", "boolifexists")
_VPC_GUARD = {
    (operator, key)
    for operator in ("stringnotequals", "stringnotequalsifexists")
    for key in ("aws:sourcevpce", "aws:sourcevpc")
}
_TLS_GUARD = {(operator, "aws:securetransport") for operator in _BOOL_OPERATORS}
_SERVICE_CARVE_OUTS = {
    (operator, key) for operator in _BOOL_OPERATORS for key in ("aws:principalisawsservice", "aws:viaawsservice")
}
_CALLED_VIA_CARVE_OUTS = {
    (operator, key)
    for operator in ("stringnotequals", "forallvalues:stringnotequals")
    for key in ("aws:calledvia", "aws:calledviafirst", "aws:calledvialast")
}
_SERVICE_PRINCIPAL = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com")


def _carve_out(pair: tuple[str, str], candidates: list[Any]) -> bool:
    """A condition that only exempts AWS services acting for a caller (never a network or a person):
    aws:PrincipalIsAWSService/aws:ViaAWSService false, or aws:CalledVia not a named AWS service.
    """
    if pair in _SERVICE_CARVE_OUTS:
        return all(_false(value) for value in candidates)
    return pair in _CALLED_VIA_CARVE_OUTS and all(
        isinstance(value, str) and _SERVICE_PRINCIPAL.fullmatch(value) for value in candidates
    )


def _denied_actions(statement: dict, template: dict) -> list[str] | None:
    """The actions of a Deny-to-everyone statement, or None if it is not one."""
    principals = _principals(statement.get("Principal"), template)
    if (
        values(statement.get("Effect"), template) != ["Deny"]
        or "NotPrincipal" in statement
        or "NotAction" in statement
        or not principals
        or any(principal != "*" for principal in principals)
    ):
        return None
    return [action for action in flat(statement.get("Action"), template) if isinstance(action, str)]


def _covers(patterns: list[str], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


def _specific(value: Any) -> bool:
    return not _wildcard(value)


def _only_conditions(
    statement: dict, template: dict, guard: set[tuple[str, str]], guard_value: Callable[[Any], bool]
) -> bool:
    """True if the conditions are ``guard`` (at least once, every value passing ``guard_value``)
    plus AWS-service carve-outs only.

    Any other condition key would let some caller skip a Deny, so it disqualifies the statement.
    """
    conditions = values(statement.get("Condition"), template)
    if len(conditions) != 1 or not isinstance(conditions[0], dict) or is_intrinsic(conditions[0]):
        return False
    found = False
    for operator, block in conditions[0].items():
        if not isinstance(block, dict):
            return False
        for key, value in block.items():
            pair = (operator.lower(), key.lower())
            candidates = flat(value, template)
            if pair in guard and all(guard_value(v) for v in candidates):
                found = True
            elif not _carve_out(pair, candidates):
                return False
    return found


def _fences(statements: list[dict], template: dict) -> list[list[str]]:
    """Denied actions of each statement that denies everyone outside a VPC, account or org."""
    return [
        actions
        for statement in statements
        if (actions := _denied_actions(statement, template)) is not None
        and _only_conditions(statement, template, _FENCE, _specific)
    ]


def _fenced(statement: dict, fences: list[list[str]], template: dict) -> bool:
    actions = [action for action in flat(statement.get("Action"), template) if isinstance(action, str)]
    return bool(actions) and all(any(_covers(fence, action) for fence in fences) for action in actions)


def public_statements(document: Any, template: dict) -> list[str]:
    """Messages for Allow statements that grant everyone without a restricting condition.

    An Allow to '*' is not public when the same document denies all its actions to everyone
    outside a VPC endpoint, VPC, account or organisation (the usual private API policy).
    """
    statements = _statements(document, template)
    fences = _fences(statements, template)
    messages = []
    for number, statement in enumerate(statements, start=1):
        label = statement.get("Sid") or f"#{number}"
        if "Allow" not in values(statement.get("Effect"), template) or _fenced(statement, fences, template):
            continue
        if "NotPrincipal" in statement:
            messages.append(f"statement {label}: Allow with NotPrincipal grants everyone else")
        elif "*" in _principals(statement.get("Principal"), template) and not _restricts(
            statement.get("Condition", MISSING), template
        ):
            messages.append(
                f"statement {label}: allows Principal '*' with no condition on source VPC/endpoint, "
                "account, organisation or source ARN"
            )
    return messages


# --------------------------------------------------------------------------- network perimeter


@rule("IF-EC2-IGW", "No internet gateway", "AWS::EC2::InternetGateway")
def internet_gateway(s: Subject) -> list[str]:
    """An internet gateway is the VPC's two-way door to the internet.

    Fix: remove it; reach AWS services through VPC endpoints.
    """
    return ["internet gateway: two-way path between the VPC and the internet"]


@rule("IF-EC2-EIGW", "No egress-only internet gateway", "AWS::EC2::EgressOnlyInternetGateway")
def egress_only_gateway(s: Subject) -> list[str]:
    """An egress-only internet gateway lets IPv6 traffic leave the VPC for the internet.

    Fix: remove it; use VPC endpoints for AWS services.
    """
    return ["egress-only internet gateway: IPv6 path out to the internet"]


@rule("IF-EC2-NAT", "No NAT gateway", "AWS::EC2::NatGateway")
def nat_gateway(s: Subject) -> list[str]:
    """A public NAT gateway carries private traffic to the internet; a private one carries it to
    other networks (transit gateway, VPN) that may have their own way out.

    Fix: remove it; use VPC endpoints, and CodeArtifact/ECR pull-through for packages and images.
    """
    if not may_be_other_than(s.at("ConnectivityType"), "private"):
        return ["private NAT gateway: translates VPC traffic towards networks outside the template"]
    return ["NAT gateway: path out to the internet"]


@rule("IF-EC2-EIP", "No Elastic IP", "AWS::EC2::EIP", "AWS::EC2::EIPAssociation")
def elastic_ip(s: Subject) -> list[str]:
    """An Elastic IP gives an instance, interface or NAT gateway a public address.

    Fix: remove it; nothing in an internet-free VPC needs a public address.
    """
    return [f"{s.type.rsplit('::', 1)[1]}: public IPv4 address"]


@rule("IF-EC2-GW-ATTACH", "No gateway attached to a VPC", "AWS::EC2::VPCGatewayAttachment")
def gateway_attachment(s: Subject) -> list[str]:
    """Attaching an internet or VPN gateway to a VPC opens it, even if the gateway itself lives
    in another template.

    Fix: remove the attachment.
    """
    return ["gateway attachment: connects an internet or virtual private gateway to the VPC"]


@rule(
    "IF-EC2-VGW",
    "No virtual private gateway",
    "AWS::EC2::VPNGateway",
    "AWS::EC2::VPNGatewayRoutePropagation",
)
def vpn_gateway(s: Subject) -> list[str]:
    """A virtual private gateway connects the VPC to VPNs and Direct Connect, networks that may
    reach the internet.

    Fix: remove it; if on-premises access is a requirement, route it through a reviewed,
    exempted network stack.
    """
    return ["virtual private gateway: path to networks outside AWS"]


@rule(
    "IF-EC2-VPN",
    "No site-to-site VPN",
    "AWS::EC2::CustomerGateway",
    "AWS::EC2::VPNConnection",
    "AWS::EC2::VPNConnectionRoute",
    "AWS::EC2::VPNConcentrator",
)
def site_to_site_vpn(s: Subject) -> list[str]:
    """A site-to-site VPN tunnels over the internet to a network outside AWS.

    Fix: remove it, or move it to a reviewed network stack with an exemption.
    """
    return [f"{s.type.rsplit('::', 1)[1]}: VPN tunnel over the internet to an outside network"]


@rule("IF-DX", "No Direct Connect", "AWS::DirectConnect::*")
def direct_connect(s: Subject) -> list[str]:
    """Direct Connect links AWS to an outside network; a public virtual interface reaches the
    AWS public edge.

    Fix: remove it, or move it to a reviewed network stack with an exemption.
    """
    return [f"{s.type.rsplit('::', 1)[1]}: link to a network outside AWS"]


@rule("IF-EC2-CLIENT-VPN", "No client VPN", "AWS::EC2::ClientVpn*")
def client_vpn(s: Subject) -> list[str]:
    """A client VPN endpoint accepts connections from anywhere on the internet into the VPC.

    Fix: remove it; people reach the platform through the console, SSO and Studio.
    """
    return [f"{s.type.rsplit('::', 1)[1]}: remote-access VPN from the internet"]


@rule("IF-EC2-CARRIER-GW", "No carrier gateway", "AWS::EC2::CarrierGateway")
def carrier_gateway(s: Subject) -> list[str]:
    """A carrier gateway connects a Wavelength subnet to the telecom carrier's network and the
    internet.

    Fix: remove it.
    """
    return ["carrier gateway: path to the carrier network and the internet"]


@rule("IF-EC2-LOCAL-GW", "No Outposts local gateway routing", "AWS::EC2::LocalGateway*")
def local_gateway(s: Subject) -> list[str]:
    """An Outposts local gateway route or association connects the VPC to the on-premises
    network behind the Outpost.

    Fix: remove it, or move it to a reviewed network stack with an exemption.
    """
    return [f"{s.type.rsplit('::', 1)[1]}: path to the on-premises network of an Outpost"]


@rule("IF-EC2-VPC-PEERING", "No peering with a VPC outside the template", "AWS::EC2::VPCPeeringConnection")
def vpc_peering(s: Subject) -> list[str]:
    """Peering with a VPC this template does not define (another account, region or stack)
    joins a network that may have an internet gateway.

    Fix: peer only VPCs defined in the same template and account, or reach shared services
    through PrivateLink endpoints to AWS services.
    """
    local = all(
        isinstance(peer, dict) and set(peer) == {"Ref"} and references(peer, s.template, "AWS::EC2::VPC")
        for peer in s.at("PeerVpcId")
    )
    foreign = _present(s.at("PeerOwnerId")) or _present(s.at("PeerRegion"))
    return [] if local and not foreign else ["peering with a VPC outside this template"]


@rule("IF-EC2-TGW-PEERING", "No transit gateway peering", "AWS::EC2::TransitGatewayPeeringAttachment")
def transit_gateway_peering(s: Subject) -> list[str]:
    """Peering a transit gateway joins every attached network to another region's or account's.

    Fix: remove it, or move it to a reviewed network stack with an exemption.
    """
    return ["transit gateway peering: joins networks outside this account and region"]


@rule(
    "IF-EC2-VERIFIED-ACCESS",
    "No Verified Access",
    "AWS::EC2::VerifiedAccessInstance",
    "AWS::EC2::VerifiedAccessEndpoint",
)
def verified_access(s: Subject) -> list[str]:
    """Verified Access publishes private applications to users on the internet.

    Fix: remove it.
    """
    return [f"{s.type.rsplit('::', 1)[1]}: publishes a private application to the internet"]


@rule("IF-EC2-INSTANCE-CONNECT", "No EC2 Instance Connect endpoint", "AWS::EC2::InstanceConnectEndpoint")
def instance_connect_endpoint(s: Subject) -> list[str]:
    """An EC2 Instance Connect endpoint opens SSH/RDP from the internet to private instances.

    Fix: remove it; use Session Manager through the ssm/ssmmessages endpoints if shell access is
    needed.
    """
    return ["EC2 Instance Connect endpoint: SSH/RDP into the VPC from the internet"]


@rule(
    "IF-EC2-BPA-EXCLUSION",
    "No VPC Block Public Access exclusion",
    "AWS::EC2::VPCBlockPublicAccessExclusion",
)
def block_public_access_exclusion(s: Subject) -> list[str]:
    """An exclusion switches off VPC Block Public Access for a VPC or subnet, re-allowing
    internet gateway traffic.

    Fix: remove the exclusion.
    """
    return ["VPC Block Public Access exclusion: re-allows internet gateway traffic"]


@rule(
    "IF-EC2-ROUTE-DEST",
    "No route to internet address space",
    "AWS::EC2::Route",
    "AWS::EC2::TransitGatewayRoute",
)
def route_destination(s: Subject) -> list[str]:
    """A route to 0.0.0.0/0, ::/0 or any public range sends traffic towards the internet,
    whatever the target. Split defaults such as 0.0.0.0/1 are caught too. An unresolved
    destination or a prefix list (whose entries the template does not show) is a finding; a
    blackhole transit gateway route is not.

    Fix: route only private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7).
    """
    if all(_true(value) for value in s.at("Blackhole")):
        return []
    messages = [
        f"{key} {cidr} is internet address space"
        for key in ("DestinationCidrBlock", "DestinationIpv6CidrBlock")
        for cidr in _internet_addresses(s.flat(key), s.template, unknown_is_internet=True)
    ]
    if _present(s.at("DestinationPrefixListId")):
        messages.append("DestinationPrefixListId: a prefix list's entries are not visible in the template")
    return messages


_ROUTE_TARGETS = (
    "GatewayId",
    "NatGatewayId",
    "EgressOnlyInternetGatewayId",
    "CarrierGatewayId",
    "LocalGatewayId",
    "CoreNetworkArn",
)


@rule("IF-EC2-ROUTE-TARGET", "No route to a gateway out of the VPC", "AWS::EC2::Route")
def route_target(s: Subject) -> list[str]:
    """A route to an internet, NAT, egress-only, carrier, VPN or local gateway, or to a Cloud
    WAN core network, leaves the VPC for networks that reach the internet, whatever the
    destination.

    Fix: remove the route; VPC endpoints need no routes except the S3 gateway endpoint's, which
    the endpoint manages itself.
    """
    return [f"route target {key}: leads out of the VPC" for key in _ROUTE_TARGETS if _present(s.at(key))]


@rule("IF-EC2-SUBNET-PUBLIC", "No subnet that hands out public addresses", "AWS::EC2::Subnet")
def public_subnet(s: Subject) -> list[str]:
    """A subnet that maps public IPv4, customer-owned IPv4 or (globally routable) IPv6 addresses
    on launch is a public subnet in waiting. Unknown values are findings.

    Fix: set MapPublicIpOnLaunch, MapCustomerOwnedIpOnLaunch and AssignIpv6AddressOnCreation to
    false (CDK: SubnetType.PRIVATE_ISOLATED).
    """
    keys = ("MapPublicIpOnLaunch", "MapCustomerOwnedIpOnLaunch", "AssignIpv6AddressOnCreation")
    return [f"{key} may be true" for key in keys if may_be_true(s.at(key))]


_PUBLIC_SWITCHES = (
    "AssociatePublicIpAddress",
    "AssociateCarrierIpAddress",
    "EnableDefaultInternetAccess",
    "EnableInternetAccess",
    "CreatePublicIP",
    "PublicConnectivity",
)


@rule("IF-EC2-PUBLIC-IP", "No public IP or internet-access switch", "*")
def public_ip_switch(s: Subject) -> list[str]:
    """Any property, at any depth of any resource, that gives compute a public address or
    default internet access: AssociatePublicIpAddress (instances, launch templates, fleets),
    AssignPublicIp ENABLED (ECS, Batch, Pipes, EventBridge, Scheduler), AppStream/WorkSpaces
    internet access and the like. Unknown values are findings.

    Fix: set the switch off (false / DISABLED).
    """
    messages = [
        f"{key} may be true"
        for key, value in _find_keys(s.props, _PUBLIC_SWITCHES)
        if may_be_true(values(value, s.template))
    ]
    messages += [
        "AssignPublicIp may be ENABLED"
        for _, value in _find_keys(s.props, ("AssignPublicIp",))
        if may_be_other_than(values(value, s.template), "DISABLED", MISSING)
    ]
    return messages


_SUBNET_SETTINGS: dict[str, tuple[tuple[str, ...], ...]] = {
    "AWS::EC2::Instance": (("SubnetId",), ("NetworkInterfaces",)),
    "AWS::AutoScaling::AutoScalingGroup": (("VPCZoneIdentifier",),),
    "AWS::RDS::DBInstance": (("DBSubnetGroupName",), ("DBClusterIdentifier",)),
    "AWS::RDS::DBCluster": (("DBSubnetGroupName",),),
    "AWS::Redshift::Cluster": (("ClusterSubnetGroupName",),),
    "AWS::RedshiftServerless::Workgroup": (("SubnetIds",),),
    "AWS::DMS::ReplicationInstance": (("ReplicationSubnetGroupIdentifier",),),
    "AWS::AmazonMQ::Broker": (("SubnetIds",),),
    "AWS::EMR::Cluster": (("Instances", "Ec2SubnetId"), ("Instances", "Ec2SubnetIds")),
}


@rule("IF-DEFAULT-VPC", "Nothing placed in the default VPC", *_SUBNET_SETTINGS)
def default_vpc(s: Subject) -> list[str]:
    """Instances, auto scaling groups, databases, brokers and EMR clusters created without a
    subnet land in the account's default VPC, whose subnets are public and routed to an
    internet gateway. An instance that takes its subnet only from a launch template is a
    finding too (the template is not followed).

    Fix: give the subnet (group) of the internet-free VPC.
    """
    settings = _SUBNET_SETTINGS[s.type]
    if all(may_be_absent(s.at(*path)) for path in settings):
        names = " or ".join(".".join(path) for path in settings)
        return [f"no {names}: lands in the default VPC, which is public"]
    return []


_AWS_SERVICE_NAME = re.compile(r"(com\.amazonaws|aws\.[a-z0-9-]+)\.(?!vpce\.)[^.]+\.[a-z0-9][a-z0-9.-]*")


@rule("IF-EC2-VPCE-FOREIGN", "VPC endpoints only to AWS services", "AWS::EC2::VPCEndpoint")
def foreign_endpoint(s: Subject) -> list[str]:
    """An interface endpoint to a partner or customer endpoint service (com.amazonaws.vpce.*),
    or a VPC Lattice service-network/resource endpoint, connects the VPC to someone else's
    network, which can be a proxy to the internet. An unresolved service name is a finding;
    endpoint services defined in the same template are accepted.

    Fix: create endpoints only for com.amazonaws.<region>.<service> and
    aws.sagemaker.<region>.* names; exempt a reviewed private service with a reason.
    """
    messages = []
    if any(kind in ("ServiceNetwork", "Resource") or is_intrinsic(kind) for kind in s.at("VpcEndpointType")):
        messages.append("VPC Lattice endpoint: reaches service networks or resources outside the VPC")
    for name in s.at("ServiceName"):
        text = render(name, s.template)
        own = references(name, s.template, "AWS::EC2::VPCEndpointService")
        if name is not MISSING and not own and not _AWS_SERVICE_NAME.fullmatch(text):
            messages.append(f"ServiceName {text} is not an AWS service")
    return messages


@rule(
    "IF-EC2-VPCE-SERVICE-PUB",
    "No endpoint service open to every account",
    "AWS::EC2::VPCEndpointServicePermissions",
)
def endpoint_service_public(s: Subject) -> list[str]:
    """An endpoint service that allows principal '*' can be connected to from any AWS account,
    which then reaches into the service's network.

    Fix: list the account or organisation principals that may connect.
    """
    return ["AllowedPrincipals contains '*'"] if "*" in s.flat("AllowedPrincipals") else []


def _group_rules(s: Subject, inline_key: str, standalone_type: str) -> list[dict]:
    if s.type == standalone_type:
        return [s.props]
    return [entry for entry in s.flat(inline_key) if isinstance(entry, dict) and not is_intrinsic(entry)]


def _open_rules(s: Subject, inline_key: str, standalone_type: str) -> list[str]:
    return [
        cidr
        for entry in _group_rules(s, inline_key, standalone_type)
        for key in ("CidrIp", "CidrIpv6")
        for cidr in _internet_addresses(flat(entry.get(key, MISSING), s.template), s.template, False)
    ]


@rule(
    "IF-SG-INGRESS-PUBLIC",
    "No security group ingress from internet addresses",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
)
def security_group_ingress(s: Subject) -> list[str]:
    """Ingress from 0.0.0.0/0, ::/0 or any public range admits the internet the moment a route
    exists. Unresolved peer CIDRs (imports, attributes) are accepted; prefix lists too.

    Fix: allow only the VPC CIDR or other security groups.
    """
    open_cidrs = _open_rules(s, "SecurityGroupIngress", "AWS::EC2::SecurityGroupIngress")
    return [f"ingress from {cidr}" for cidr in open_cidrs]


@rule(
    "IF-SG-EGRESS-PUBLIC",
    "No security group egress to internet addresses",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupEgress",
)
def security_group_egress(s: Subject) -> list[str]:
    """Egress to 0.0.0.0/0, ::/0 or a public range is a way out as soon as a route exists:
    defence in depth. A security group without SecurityGroupEgress keeps EC2's default
    allow-all egress, which CDK writes explicitly for allow_all_outbound=True. Unresolved peer
    CIDRs and prefix lists (the S3 gateway prefix list) are accepted.

    Fix: allow_all_outbound=False and explicit egress to the VPC CIDR, endpoint security groups
    or the S3 prefix list.
    """
    messages = [
        f"egress to {cidr}" + (" (CDK's allow_all_outbound default)" if cidr in ("0.0.0.0/0", "::/0") else "")
        for cidr in _open_rules(s, "SecurityGroupEgress", "AWS::EC2::SecurityGroupEgress")
    ]
    if s.type == "AWS::EC2::SecurityGroup" and may_be_absent(s.at("SecurityGroupEgress")):
        messages.append("no SecurityGroupEgress: EC2 keeps the default allow-all egress to 0.0.0.0/0")
    return messages


@rule("IF-EC2-NACL-PUBLIC", "No network ACL allowing internet addresses", "AWS::EC2::NetworkAclEntry")
def network_acl_public(s: Subject) -> list[str]:
    """A network ACL entry that allows a public range undoes the subnet-level guard. Unresolved
    CIDRs are accepted as for security groups.

    Fix: allow only private ranges; deny is fine.
    """
    if not any(str(action).lower() == "allow" or is_intrinsic(action) for action in s.at("RuleAction")):
        return []
    direction = "egress" if any(_true(value) for value in s.at("Egress")) else "ingress"
    return [
        f"{direction} allowed for {cidr}"
        for key in ("CidrBlock", "Ipv6CidrBlock")
        for cidr in _internet_addresses(s.flat(key), s.template, unknown_is_internet=False)
    ]


@rule("IF-R53-DNS-FIREWALL", "Every VPC has a DNS firewall", "AWS::EC2::VPC")
def dns_firewall(s: Subject) -> list[str]:
    """The VPC resolver answers any public name, so DNS queries are a tunnel out of an
    otherwise closed VPC. A Route 53 Resolver DNS Firewall association in the same template
    closes it.

    Fix: associate a firewall rule group that allows AWS service domains and blocks the rest;
    if a central firewall (Firewall Manager, Landing Zone Accelerator) does it, exempt with
    that reason.
    """
    own = {"Ref": s.logical_id}
    for _, association in s.resources("AWS::Route53Resolver::FirewallRuleGroupAssociation"):
        if own in values(association.get("Properties", {}).get("VpcId"), s.template):
            return []
    return ["no DNS firewall rule group association: DNS queries can tunnel data out"]


@rule(
    "IF-R53-FORWARD-PUBLIC",
    "No DNS forwarding to internet resolvers",
    "AWS::Route53Resolver::ResolverRule",
)
def resolver_forward_public(s: Subject) -> list[str]:
    """A forwarding rule to a public resolver sends the VPC's queries, and anything encoded in
    them, to the internet. Unresolved target addresses are findings.

    Fix: forward only to private resolver addresses.
    """
    if not may_be_other_than(s.at("RuleType"), "SYSTEM", "RECURSIVE", "DELEGATE"):
        return []
    targets = [target for target in s.flat("TargetIps") if isinstance(target, dict)]
    return [
        f"forwards to {address}"
        for target in targets
        for key in ("Ip", "Ipv6")
        for address in _internet_addresses(flat(target.get(key, MISSING), s.template), s.template, True)
    ]


# --------------------------------------------------------------------------- public endpoints


@rule(
    "IF-ELB-INTERNET-FACING",
    "No internet-facing load balancer",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancing::LoadBalancer",
)
def internet_facing_load_balancer(s: Subject) -> list[str]:
    """A load balancer without Scheme internal is internet-facing (the default). Gateway load
    balancers have no scheme and are skipped.

    Fix: Scheme internal (CDK: internet_facing=False).
    """
    if s.at("Type") and all(kind == "gateway" for kind in s.at("Type")):
        return []
    return _when(
        may_be_other_than(s.at("Scheme"), "internal"), "Scheme is not internal (missing means internet-facing)"
    )


def _private_only(candidates: list[Any], template: dict) -> bool:
    """True if every candidate is a non-empty list of exactly PRIVATE."""
    return all(
        isinstance(types, list) and types and all(kind == "PRIVATE" for kind in flat(types, template))
        for types in candidates
    )


@rule("IF-APIGW-REST-PUBLIC", "REST APIs are PRIVATE only", "AWS::ApiGateway::RestApi")
def public_rest_api(s: Subject) -> list[str]:
    """A REST API whose endpoint types are not exactly [PRIVATE] is reachable from the internet
    (no EndpointConfiguration means EDGE).

    Fix: EndpointConfiguration.Types [PRIVATE] and a resource policy on aws:SourceVpce.
    """
    types = s.at("EndpointConfiguration", "Types")
    return _when(not _private_only(types, s.template), "endpoint types are not exactly [PRIVATE] (missing means EDGE)")


@rule(
    "IF-APIGW-DOMAIN-PUBLIC",
    "API custom domains are PRIVATE only",
    "AWS::ApiGateway::DomainName",
    "AWS::ApiGateway::DomainNameV2",
)
def public_api_domain(s: Subject) -> list[str]:
    """A custom domain name that is not PRIVATE publishes APIs on the internet (missing means
    EDGE).

    Fix: EndpointConfiguration.Types [PRIVATE].
    """
    types = s.at("EndpointConfiguration", "Types")
    return _when(not _private_only(types, s.template), "endpoint types are not exactly [PRIVATE] (missing means EDGE)")


@rule("IF-APIGWV2", "No HTTP or WebSocket API", "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::DomainName")
def http_api(s: Subject) -> list[str]:
    """HTTP and WebSocket APIs and their custom domains are always public.

    Fix: use a PRIVATE REST API.
    """
    return [f"{s.type}: always reachable from the internet"]


@rule(
    "IF-APPSYNC-PUBLIC",
    "No public AppSync API",
    "AWS::AppSync::GraphQLApi",
    "AWS::AppSync::Api",
    "AWS::AppSync::DomainName",
)
def public_appsync(s: Subject) -> list[str]:
    """A GraphQL API is GLOBAL (public) unless Visibility is PRIVATE; Event APIs and AppSync
    custom domains are always public.

    Fix: Visibility PRIVATE on a GraphQL API; no Event API or custom domain.
    """
    if s.type != "AWS::AppSync::GraphQLApi":
        return [f"{s.type}: always reachable from the internet"]
    visibility = s.at("Visibility")
    return _when(may_be_other_than(visibility, "PRIVATE"), "Visibility is not PRIVATE (missing means GLOBAL)")


@rule(
    "IF-CLOUDFRONT",
    "No CloudFront",
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::StreamingDistribution",
    "AWS::CloudFront::DistributionTenant",
    "AWS::CloudFront::VpcOrigin",
)
def cloudfront(s: Subject) -> list[str]:
    """A distribution serves content to the internet; a VPC origin lets a distribution (in any
    stack) reach a private load balancer or instance.

    Fix: remove it.
    """
    return [f"{s.type}: internet edge"]


@rule("IF-GLOBAL-ACCELERATOR", "No Global Accelerator", "AWS::GlobalAccelerator::*")
def global_accelerator(s: Subject) -> list[str]:
    """Global Accelerator gives endpoints in the VPC static public anycast addresses.

    Fix: remove it.
    """
    return [f"{s.type}: public anycast entry to endpoints"]


@rule("IF-LIGHTSAIL", "No Lightsail", "AWS::Lightsail::*")
def lightsail(s: Subject) -> list[str]:
    """Lightsail resources live outside the VPC on public addresses.

    Fix: remove them.
    """
    return [f"{s.type}: public Lightsail resource outside the VPC"]


@rule("IF-AMPLIFY", "No Amplify hosting", "AWS::Amplify::App")
def amplify(s: Subject) -> list[str]:
    """Amplify hosting publishes an app on the internet and builds it from a Git host.

    Fix: remove it.
    """
    return ["Amplify app: public hosting"]


@rule("IF-APPRUNNER", "No public App Runner ingress or egress", "AWS::AppRunner::Service")
def app_runner(s: Subject) -> list[str]:
    """An App Runner service is public unless IsPubliclyAccessible is false, and its egress goes
    to the internet unless EgressType is VPC.

    Fix: IngressConfiguration.IsPubliclyAccessible false and EgressConfiguration.EgressType VPC.
    """
    network = ("NetworkConfiguration",)
    messages = []
    if may_be_not_false(s.at(*network, "IngressConfiguration", "IsPubliclyAccessible")):
        messages.append("ingress is publicly accessible (missing means public)")
    if may_be_other_than(s.at(*network, "EgressConfiguration", "EgressType"), "VPC"):
        messages.append("egress is not through the VPC (missing means DEFAULT, the internet)")
    return messages


@rule(
    "IF-TRANSFER",
    "No public Transfer Family endpoint or connector",
    "AWS::Transfer::Server",
    "AWS::Transfer::WebApp",
    "AWS::Transfer::Connector",
)
def transfer_family(s: Subject) -> list[str]:
    """A Transfer server with EndpointType PUBLIC (the default) or a VPC endpoint with Elastic
    IPs, a web app without EndpointDetails, and an SFTP/AS2 connector with service-managed
    egress all talk to the internet.

    Fix: EndpointType VPC without AddressAllocationIds; web app EndpointDetails; connector
    EgressType VPC_LATTICE.
    """
    if s.type == "AWS::Transfer::WebApp":
        return _when(may_be_absent(s.at("EndpointDetails")), "web app without EndpointDetails is public")
    if s.type == "AWS::Transfer::Connector":
        egress = s.at("EgressType")
        return _when(may_be_other_than(egress, "VPC_LATTICE"), "connector egress is not VPC_LATTICE (missing: internet)")
    messages = []
    if may_be_other_than(s.at("EndpointType"), "VPC", "VPC_ENDPOINT"):
        messages.append("EndpointType is not VPC (missing means PUBLIC)")
    if any(not _absent(value) for value in s.at("EndpointDetails", "AddressAllocationIds")):
        messages.append("AddressAllocationIds make the VPC endpoint internet-facing")
    return messages


@rule("IF-EKS-PUBLIC-ENDPOINT", "No public EKS API endpoint", "AWS::EKS::Cluster")
def eks_public_endpoint(s: Subject) -> list[str]:
    """The Kubernetes API endpoint is public unless EndpointPublicAccess is false.

    Fix: EndpointPublicAccess false, EndpointPrivateAccess true.
    """
    public = s.at("ResourcesVpcConfig", "EndpointPublicAccess")
    return _when(may_be_not_false(public), "EndpointPublicAccess is not false (missing means public)")


_PUBLIC_BY_DEFAULT = ("AWS::DMS::ReplicationInstance",)


@rule("IF-PUBLICLY-ACCESSIBLE", "No publicly accessible database or broker", "*")
def publicly_accessible(s: Subject) -> list[str]:
    """PubliclyAccessible true (RDS, Redshift, DMS, Amazon MQ, Neptune, Timestream...) gives the
    endpoint a public address. DMS replication instances are public when the property is
    missing. Unknown values are findings.

    Fix: PubliclyAccessible false.
    """
    candidates = s.at("PubliclyAccessible")
    missing_is_public = s.type in _PUBLIC_BY_DEFAULT and MISSING in candidates
    return _when(may_be_true(candidates) or missing_is_public, "PubliclyAccessible may be true")


@rule(
    "IF-OPENSEARCH-VPC",
    "OpenSearch domains inside the VPC",
    "AWS::OpenSearchService::Domain",
    "AWS::Elasticsearch::Domain",
)
def opensearch_vpc(s: Subject) -> list[str]:
    """A domain without VPCOptions has a public endpoint.

    Fix: VPCOptions with SubnetIds and SecurityGroupIds.
    """
    return _when(may_be_absent(s.at("VPCOptions", "SubnetIds")), "no VPCOptions.SubnetIds: public endpoint")


def _parse_json(expr: Any, template: dict) -> list[Any]:
    """Parse a JSON string (or a Join/Sub building one); unparseable candidates become MISSING.

    Candidates that are absent are skipped.
    """
    parsed = []
    for candidate in values(expr, template):
        if candidate is MISSING:
            continue
        if isinstance(candidate, (dict, list)) and not is_intrinsic(candidate):
            parsed.append(candidate)
            continue
        try:
            parsed.append(json.loads(render(candidate, template)))
        except ValueError:
            parsed.append(MISSING)
    return parsed


@rule(
    "IF-AOSS-PUBLIC",
    "No public OpenSearch Serverless collection",
    "AWS::OpenSearchServerless::SecurityPolicy",
)
def opensearch_serverless_public(s: Subject) -> list[str]:
    """A network security policy with AllowFromPublic true exposes collections or dashboards to
    the internet. A policy that cannot be parsed is a finding.

    Fix: AllowFromPublic false with SourceVPCEs.
    """
    if not may_be_other_than(s.at("Type"), "encryption", "data"):
        return []
    messages = []
    for policy in _parse_json(s.props.get("Policy", MISSING), s.template):
        if policy is MISSING:
            messages.append("network policy cannot be parsed")
        elif any(_true(value) for _, value in _find_keys(policy, ("AllowFromPublic",))):
            messages.append("network policy has AllowFromPublic true")
    return messages


@rule("IF-MSK-PUBLIC", "No public MSK brokers", "AWS::MSK::Cluster")
def msk_public(s: Subject) -> list[str]:
    """MSK public access (SERVICE_PROVIDED_EIPS) puts the brokers on public addresses.

    Fix: PublicAccess.Type DISABLED or omit it.
    """
    kind = s.at("BrokerNodeGroupInfo", "ConnectivityInfo", "PublicAccess", "Type")
    return _when(may_be_other_than(kind, "DISABLED", MISSING), "public access may be on")


@rule("IF-MWAA-PUBLIC", "No public Airflow web server", "AWS::MWAA::Environment")
def mwaa_public(s: Subject) -> list[str]:
    """An Airflow web server in PUBLIC_ONLY or PUBLIC_AND_PRIVATE mode is on the internet
    (missing means PRIVATE_ONLY).

    Fix: WebserverAccessMode PRIVATE_ONLY.
    """
    mode = s.at("WebserverAccessMode")
    return _when(may_be_other_than(mode, "PRIVATE_ONLY", MISSING), "web server access mode is public")


@rule("IF-ECR-PUBLIC", "No ECR Public repository", "AWS::ECR::PublicRepository")
def ecr_public(s: Subject) -> list[str]:
    """An ECR Public repository publishes images to the internet.

    Fix: use a private ECR repository.
    """
    return ["ECR Public repository: images published to the internet"]


@rule("IF-LAMBDA-URL", "No Lambda function URL", "AWS::Lambda::Url")
def lambda_url(s: Subject) -> list[str]:
    """A function URL is an HTTPS endpoint on the internet, even with AWS_IAM auth.

    Fix: invoke the function through a PRIVATE API or the lambda VPC endpoint.
    """
    return ["function URL: HTTPS endpoint on the internet"]


@rule(
    "IF-LAMBDA-PERMISSION-PUB",
    "No Lambda permission for everyone",
    "AWS::Lambda::Permission",
    "AWS::Lambda::LayerVersionPermission",
)
def lambda_permission_public(s: Subject) -> list[str]:
    """A permission for Principal '*' without SourceArn, SourceAccount or PrincipalOrgID (or a
    layer permission without OrganizationId) lets anyone invoke the function or use the layer;
    FunctionUrlAuthType NONE makes a function URL anonymous.

    Fix: name the calling service and its SourceArn/SourceAccount, or the organisation.
    """
    if s.type == "AWS::Lambda::LayerVersionPermission":
        scoped = not may_be_absent(s.at("OrganizationId"))
    else:
        scoped = any(not may_be_absent(s.at(key)) for key in ("SourceArn", "SourceAccount", "PrincipalOrgID"))
    messages = _when("*" in s.flat("Principal") and not scoped, "Principal '*' without a source or org condition")
    if may_be_other_than(s.at("FunctionUrlAuthType"), "AWS_IAM", MISSING):
        messages.append("FunctionUrlAuthType NONE: anonymous function URL")
    return messages


# --------------------------------------------------------------------------- compute outside the VPC


def _no_vpc(s: Subject, *paths: tuple[str, ...]) -> bool:
    return any(may_be_absent(s.at(*path)) for path in paths)


@rule("IF-LAMBDA-VPC", "Every Lambda function in the VPC", "AWS::Lambda::Function")
def lambda_vpc(s: Subject) -> list[str]:
    """A function without VpcConfig runs on the Lambda service network, which reaches the
    internet. CDK's own helper functions (custom resource providers) are included.

    Fix: VpcConfig with SubnetIds and SecurityGroupIds of the internet-free VPC.
    """
    missing = _no_vpc(s, ("VpcConfig", "SubnetIds"), ("VpcConfig", "SecurityGroupIds"))
    return _when(missing, "no VpcConfig (SubnetIds and SecurityGroupIds): runs with internet access")


@rule("IF-CODEBUILD-VPC", "Every CodeBuild project in the VPC", "AWS::CodeBuild::Project")
def codebuild_vpc(s: Subject) -> list[str]:
    """A project without VpcConfig builds on a network with internet access.

    Fix: VpcConfig with VpcId, Subnets and SecurityGroupIds.
    """
    missing = _no_vpc(s, ("VpcConfig", "VpcId"), ("VpcConfig", "Subnets"), ("VpcConfig", "SecurityGroupIds"))
    return _when(missing, "no VpcConfig: builds with internet access")


@rule("IF-GLUE-JOB-VPC", "Every Glue job on a VPC connection", "AWS::Glue::Job")
def glue_job_vpc(s: Subject) -> list[str]:
    """A Glue job without a connection runs on the Glue service network, which reaches the
    internet.

    Fix: Connections with a NETWORK connection in the internet-free VPC.
    """
    return _when(may_be_absent(s.at("Connections", "Connections")), "no Connections: runs with internet access")


@rule("IF-SM-DOMAIN-VPC-ONLY", "SageMaker domains are VpcOnly", "AWS::SageMaker::Domain")
def sagemaker_domain(s: Subject) -> list[str]:
    """A domain that is not VpcOnly gives Studio apps SageMaker-managed internet access
    (missing means PublicInternetOnly).

    Fix: AppNetworkAccessType VpcOnly.
    """
    mode = s.at("AppNetworkAccessType")
    message = "AppNetworkAccessType is not VpcOnly (missing means PublicInternetOnly)"
    return _when(may_be_other_than(mode, "VpcOnly"), message)


@rule(
    "IF-SM-NOTEBOOK-INTERNET",
    "No notebook with direct internet access",
    "AWS::SageMaker::NotebookInstance",
)
def notebook_internet(s: Subject) -> list[str]:
    """A notebook instance has direct internet access unless DirectInternetAccess is Disabled
    (missing means Enabled), and without SubnetId it cannot be placed in the VPC at all.

    Fix: DirectInternetAccess Disabled with SubnetId and SecurityGroupIds.
    """
    messages = []
    if may_be_other_than(s.at("DirectInternetAccess"), "Disabled"):
        messages.append("DirectInternetAccess is not Disabled (missing means Enabled)")
    if may_be_absent(s.at("SubnetId")):
        messages.append("no SubnetId: not in the VPC")
    return messages


@rule("IF-SM-NOTEBOOK-ROOT", "No notebook with root access", "AWS::SageMaker::NotebookInstance")
def notebook_root(s: Subject) -> list[str]:
    """Root on a notebook lets its user change the network configuration and install from
    anywhere the network allows (missing means Enabled).

    Fix: RootAccess Disabled.
    """
    root = s.at("RootAccess")
    return _when(may_be_other_than(root, "Disabled"), "RootAccess is not Disabled (missing means Enabled)")


@rule("IF-SM-MODEL-VPC", "Every SageMaker model in the VPC", "AWS::SageMaker::Model")
def model_vpc(s: Subject) -> list[str]:
    """A model without VpcConfig serves from the SageMaker service network, which reaches the
    internet, and reads S3 outside the VPC endpoint.

    Fix: VpcConfig with Subnets and SecurityGroupIds.
    """
    missing = _no_vpc(s, ("VpcConfig", "Subnets"), ("VpcConfig", "SecurityGroupIds"))
    return _when(missing, "no VpcConfig: container runs with internet access")


@rule("IF-SM-MODEL-ISOLATION", "No model that turns network isolation off", "AWS::SageMaker::Model")
def model_isolation(s: Subject) -> list[str]:
    """Network isolation cuts the container off every network, the VPC included: defence in
    depth on top of IF-SM-MODEL-VPC. Many serving containers (LMI, TGI) cannot run isolated, so
    only an explicit false (or an unresolved value) is a finding: a deliberate opt-out must be
    justified with an exemption reason. A missing flag is the service default and not flagged.

    Fix: EnableNetworkIsolation true, or exempt with the reason the container needs the network.
    """
    flag = s.at("EnableNetworkIsolation")
    turned_off = any(_false(value) or is_intrinsic(value) for value in flag)
    return _when(turned_off, "EnableNetworkIsolation is false")


_MONITORING_JOBS = (
    "AWS::SageMaker::DataQualityJobDefinition",
    "AWS::SageMaker::ModelBiasJobDefinition",
    "AWS::SageMaker::ModelExplainabilityJobDefinition",
    "AWS::SageMaker::ModelQualityJobDefinition",
)


@rule(
    "IF-SM-JOB-VPC",
    "Every SageMaker monitoring job and cluster in the VPC",
    *_MONITORING_JOBS,
    "AWS::SageMaker::MonitoringSchedule",
    "AWS::SageMaker::Cluster",
)
def sagemaker_job_vpc(s: Subject) -> list[str]:
    """Monitoring job definitions (and schedules with an inline definition) without
    NetworkConfig.VpcConfig, and HyperPod clusters without VpcConfig, run on the SageMaker
    service network, which reaches the internet.

    Fix: NetworkConfig.VpcConfig (or VpcConfig) with Subnets and SecurityGroupIds.
    """
    if s.type == "AWS::SageMaker::Cluster":
        prefix: tuple[str, ...] = ("VpcConfig",)
    elif s.type == "AWS::SageMaker::MonitoringSchedule":
        prefix = ("MonitoringScheduleConfig", "MonitoringJobDefinition", "NetworkConfig", "VpcConfig")
        if not _present(s.at(*prefix[:2])):
            return []
    else:
        prefix = ("NetworkConfig", "VpcConfig")
    missing = _no_vpc(s, (*prefix, "Subnets"), (*prefix, "SecurityGroupIds"))
    return _when(missing, f"no {'.'.join(prefix)}: runs with internet access")


_HUB_MODEL_KEYS = ("HF_MODEL_ID", "OPTION_MODEL_ID")
_HUB_TOKEN_KEYS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


@rule(
    "IF-SM-HUB-PULL",
    "No model weights pulled from a hub at run time",
    "AWS::SageMaker::Model",
    "AWS::SageMaker::InferenceComponent",
)
def hub_pull(s: Subject) -> list[str]:
    """A container told to load a model by hub id (HF_MODEL_ID, OPTION_MODEL_ID not an s3:// or
    local path) or given a hub token downloads weights from the internet when it starts. An
    unresolved model id is a finding.

    Fix: stage the weights in S3 and point the container at s3:// or /opt/ml/model.
    """
    messages = []
    for key, value in _find_keys(s.props, _HUB_MODEL_KEYS):
        for candidate in values(value, s.template):
            text = render(candidate, s.template)
            if candidate is not MISSING and not text.startswith(("s3://", "/")):
                messages.append(f"{key} {text}: loads from a model hub")
    messages += [f"{key}: hub credential in the container" for key, _ in _find_keys(s.props, _HUB_TOKEN_KEYS)]
    return messages


_AGENTCORE_MODES = {
    "AWS::BedrockAgentCore::Runtime": ("VPC",),
    "AWS::BedrockAgentCore::BrowserCustom": ("VPC",),
    "AWS::BedrockAgentCore::CodeInterpreterCustom": ("VPC", "SANDBOX", MISSING),
}


@rule("IF-AGENTCORE-PUBLIC", "AgentCore runtimes and tools in the VPC", *_AGENTCORE_MODES)
def agentcore_network(s: Subject) -> list[str]:
    """An AgentCore runtime, browser or code interpreter in PUBLIC network mode reaches the
    internet (a browser's default is PUBLIC; a code interpreter's is SANDBOX, which is fine).

    Fix: NetworkConfiguration.NetworkMode VPC (or SANDBOX for a code interpreter).
    """
    mode = s.at("NetworkConfiguration", "NetworkMode")
    return _when(may_be_other_than(mode, *_AGENTCORE_MODES[s.type]), "network mode is PUBLIC")


# --------------------------------------------------------------------------- data leaving the account


@rule("IF-BEDROCK-DATASOURCE", "Knowledge bases read only from S3 or the account", "AWS::Bedrock::DataSource")
def bedrock_data_source(s: Subject) -> list[str]:
    """A knowledge-base data source of type WEB crawls the internet; CONFLUENCE, SALESFORCE,
    SHAREPOINT and managed connectors read SaaS on the internet.

    Fix: stage documents in S3 (type S3) or ingest them directly (CUSTOM).
    """
    kind = s.at("DataSourceConfiguration", "Type")
    if may_be_other_than(kind, "S3", "CUSTOM", "REDSHIFT_METADATA"):
        return [f"data source type {', '.join(_show(k, s.template) for k in kind)} reads from the internet"]
    return []


@rule(
    "IF-EVENTS-HTTP",
    "No EventBridge call to a public HTTP endpoint",
    "AWS::Events::Connection",
    "AWS::Events::ApiDestination",
)
def events_http(s: Subject) -> list[str]:
    """An EventBridge connection without InvocationConnectivityParameters calls a public HTTPS
    endpoint (API destinations, Step Functions HTTP tasks); an API destination is a finding
    unless its connection is a private one in the same template.

    Fix: InvocationConnectivityParameters with a VPC Lattice resource configuration.
    """
    if s.type == "AWS::Events::Connection":
        return _when(may_be_absent(s.at("InvocationConnectivityParameters")), "connection calls a public endpoint")
    for connection_arn in s.at("ConnectionArn"):
        connections = [
            _resource(s.template, target)
            for target in _referenced_ids(connection_arn)
            if _resource(s.template, target).get("Type") == "AWS::Events::Connection"
        ]
        private = connections and "InvocationConnectivityParameters" in connections[0].get("Properties", {})
        if not private:
            return ["API destination through a public or unknown connection"]
    return []


_EXTERNAL_PROTOCOLS = ("http", "https", "email", "email-json", "sms", "application")


@rule(
    "IF-NOTIFY-EXTERNAL",
    "No notification to the internet",
    "AWS::SNS::Subscription",
    "AWS::SNS::Topic",
    "AWS::Chatbot::SlackChannelConfiguration",
    "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
)
def external_notification(s: Subject) -> list[str]:
    """SNS subscriptions over HTTP(S), email, SMS or mobile push, and Chatbot channels (Slack,
    Teams), deliver message content to the internet. Unknown protocols are findings.

    Fix: deliver to SQS, Lambda or Firehose in the account.
    """
    if s.type.startswith("AWS::Chatbot::"):
        return [f"{s.type.rsplit('::', 1)[1]}: sends notifications to a chat service"]
    if s.type == "AWS::SNS::Subscription":
        protocols = s.at("Protocol")
    else:
        entries = [entry for entry in s.flat("Subscription") if isinstance(entry, dict)]
        protocols = [protocol for entry in entries for protocol in at(entry, s.template, "Protocol")]
    return [
        f"subscription protocol {_show(protocol, s.template)} leaves AWS"
        for protocol in protocols
        if is_intrinsic(protocol) or str(protocol).lower() in _EXTERNAL_PROTOCOLS
    ]


@rule("IF-FIREHOSE-EXTERNAL", "No Firehose delivery to the internet", "AWS::KinesisFirehose::DeliveryStream")
def firehose_external(s: Subject) -> list[str]:
    """HTTP endpoint and Splunk destinations deliver records to the internet, and Snowflake
    does too without a PrivateLink VPC configuration.

    Fix: deliver to S3, Redshift, OpenSearch or Iceberg in the account.
    """
    messages = [
        f"{key}: delivers to the internet"
        for key in ("HttpEndpointDestinationConfiguration", "SplunkDestinationConfiguration")
        if _present(s.at(key))
    ]
    snowflake = ("SnowflakeDestinationConfiguration",)
    if _present(s.at(*snowflake)) and may_be_absent(s.at(*snowflake, "SnowflakeVpcConfiguration")):
        messages.append("Snowflake destination without SnowflakeVpcConfiguration")
    return messages


@rule(
    "IF-APPFLOW-SAAS",
    "No AppFlow SaaS connection",
    "AWS::AppFlow::ConnectorProfile",
    "AWS::AppFlow::Connector",
)
def appflow_saas(s: Subject) -> list[str]:
    """AppFlow connector profiles and custom connectors move data to and from SaaS
    applications on the internet.

    Fix: remove them.
    """
    return [f"{s.type.rsplit('::', 1)[1]}: data exchange with a SaaS application"]


_EXTERNAL_SOURCES = ("GITHUB", "GITHUB_ENTERPRISE", "BITBUCKET", "GITLAB", "GITLAB_SELF_MANAGED")


@rule(
    "IF-CODE-SOURCE-EXTERNAL",
    "No source code from an internet host",
    "AWS::CodeStarConnections::Connection",
    "AWS::CodeConnections::Connection",
    "AWS::CodePipeline::Webhook",
    "AWS::CodeBuild::SourceCredential",
    "AWS::CodeBuild::Project",
)
def external_source(s: Subject) -> list[str]:
    """Connections, webhooks and source credentials for GitHub, GitLab or Bitbucket bring code in
    from the internet and let the internet trigger builds.

    Fix: use CodeCommit or S3 sources in the account; exempt the governance pipeline's
    connection with a reason if the organisation accepts it.
    """
    if s.type != "AWS::CodeBuild::Project":
        return [f"{s.type.rsplit('::', 1)[1]}: link to an internet code host"]
    secondary = [source for source in s.flat("SecondarySources") if isinstance(source, dict)]
    kinds = s.at("Source", "Type") + [kind for source in secondary for kind in at(source, s.template, "Type")]
    messages = [f"source type {kind} is an internet code host" for kind in kinds if kind in _EXTERNAL_SOURCES]
    if may_be_true([value for value in s.at("Triggers", "Webhook") if value is not MISSING]):
        messages.append("webhook trigger from an internet code host")
    return messages


@rule(
    "IF-IAM-USER-CREDENTIALS",
    "No long-lived IAM user credentials",
    "AWS::IAM::AccessKey",
    "AWS::IAM::User",
)
def iam_user_credentials(s: Subject) -> list[str]:
    """Access keys and console passwords are credentials that work from anywhere on the
    internet; roles federated through SSO do not leave keys behind.

    Fix: use IAM Identity Center and roles.
    """
    if s.type == "AWS::IAM::AccessKey":
        return ["access key: long-lived credential usable from the internet"]
    return _when(_present(s.at("LoginProfile")), "LoginProfile: console password usable from the internet")


# --------------------------------------------------------------------------- S3 and resource policies


@rule("IF-S3-WEBSITE", "No S3 website hosting", "AWS::S3::Bucket")
def s3_website(s: Subject) -> list[str]:
    """Website hosting serves the bucket over a public HTTP endpoint.

    Fix: remove WebsiteConfiguration.
    """
    return _when(_present(s.at("WebsiteConfiguration")), "WebsiteConfiguration: public website endpoint")


_BLOCK_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


@rule("IF-S3-PUBLIC-ACCESS-BLOCK", "All four S3 public access blocks on", "AWS::S3::Bucket")
def s3_public_access_block(s: Subject) -> list[str]:
    """Without all four public access blocks a bucket policy or ACL can make objects public.

    Fix: PublicAccessBlockConfiguration with all four flags true (CDK: BlockPublicAccess.BLOCK_ALL).
    """
    if may_be_absent(s.at("PublicAccessBlockConfiguration")):
        return ["no PublicAccessBlockConfiguration"]
    return [
        f"PublicAccessBlockConfiguration.{flag} is not true"
        for flag in _BLOCK_FLAGS
        if not all(_true(value) for value in s.at("PublicAccessBlockConfiguration", flag))
    ]


_PUBLIC_ACLS = ("PublicRead", "PublicReadWrite", "AuthenticatedRead")


@rule("IF-S3-ACL", "No public canned ACL", "AWS::S3::Bucket")
def s3_acl(s: Subject) -> list[str]:
    """PublicRead, PublicReadWrite and AuthenticatedRead (any AWS account) open the bucket.
    Unknown values are findings.

    Fix: remove AccessControl (or Private) and enforce bucket-owner object ownership.
    """
    acl = s.at("AccessControl")
    public = [value for value in acl if is_intrinsic(value) or value in _PUBLIC_ACLS]
    return [f"AccessControl {_show(value, s.template)} is public" for value in public]


@rule("IF-S3-POLICY-PUBLIC", "No public bucket policy", "AWS::S3::BucketPolicy")
def s3_policy_public(s: Subject) -> list[str]:
    """An Allow to Principal '*' without a condition on aws:SourceVpce, aws:SourceVpc,
    organisation, account or source ARN makes the bucket public.

    Fix: name principals, or add a StringEquals condition on aws:SourceVpce or aws:PrincipalOrgID.
    """
    return public_statements(s.props.get("PolicyDocument", MISSING), s.template)


def _bucket_policy_statements(s: Subject) -> list[dict]:
    own = {"Ref": s.logical_id}
    return [
        statement
        for _, policy in s.resources("AWS::S3::BucketPolicy")
        if own in values(policy.get("Properties", {}).get("Bucket"), s.template)
        for statement in _statements(policy.get("Properties", {}).get("PolicyDocument"), s.template)
    ]


def _is_guard(
    statement: dict, template: dict, guard: set[tuple[str, str]], guard_value: Callable[[Any], bool]
) -> bool:
    """A Deny of s3:* to everyone, conditioned only on ``guard`` (and AWS-service carve-outs)."""
    actions = _denied_actions(statement, template)
    if actions is None or not _covers(actions, "s3:*"):
        return False
    return _only_conditions(statement, template, guard, guard_value)


@rule("IF-S3-VPCE-ONLY", "Buckets deny access from outside the VPC endpoint", "AWS::S3::Bucket")
def s3_vpce_only(s: Subject) -> list[str]:
    """Without a bucket policy (in the same template) that denies s3:* to everyone when
    aws:SourceVpce or aws:SourceVpc does not match, stolen credentials read the bucket from the
    internet. Only StringNotEquals(IfExists) on those keys counts, and the only other
    conditions allowed are AWS-service carve-outs (aws:PrincipalIsAWSService or
    aws:ViaAWSService false, aws:CalledVia not a named *.amazonaws.com service); anything else,
    such as an admin-role escape hatch, lets that caller in from the internet.

    Fix: add that Deny statement to the bucket policy.
    """
    if any(_is_guard(statement, s.template, _VPC_GUARD, _specific) for statement in _bucket_policy_statements(s)):
        return []
    return ["no bucket policy denies requests from outside the VPC endpoint (aws:SourceVpce)"]


@rule("IF-S3-TLS-ONLY", "Buckets deny requests without TLS", "AWS::S3::Bucket")
def s3_tls_only(s: Subject) -> list[str]:
    """Without a Deny on aws:SecureTransport false, requests can travel in clear text.

    Fix: CDK enforce_ssl=True (a Deny of s3:* when aws:SecureTransport is false).
    """
    if any(_is_guard(statement, s.template, _TLS_GUARD, _false) for statement in _bucket_policy_statements(s)):
        return []
    return ["no bucket policy denies requests without TLS (aws:SecureTransport false)"]


@rule("IF-S3-ACCESS-POINT", "S3 access points bound to a VPC", "AWS::S3::AccessPoint")
def s3_access_point(s: Subject) -> list[str]:
    """An access point without VpcConfiguration has network origin Internet.

    Fix: VpcConfiguration.VpcId of the internet-free VPC.
    """
    vpc = s.at("VpcConfiguration", "VpcId")
    return _when(may_be_absent(vpc), "no VpcConfiguration: network origin is Internet")


_OWN_POLICY_RULES = ("AWS::S3::BucketPolicy", "AWS::EC2::VPCEndpoint")


def _policy_documents(node: Any, template: dict) -> Iterator[Any]:
    """Every policy document below ``node``: objects with a Statement, or strings building one."""
    if isinstance(node, dict):
        if "Statement" in node:
            yield node
        elif node.keys() & {"Fn::Join", "Fn::Sub"} and '"Statement"' in render(node, template):
            yield node
        else:
            for value in node.values():
                yield from _policy_documents(value, template)
    elif isinstance(node, list):
        for item in node:
            yield from _policy_documents(item, template)
    elif isinstance(node, str) and '"Statement"' in node:
        yield node


def _legacy_event_bus_statement(props: dict) -> dict:
    """The one statement an old-style EventBusPolicy (Principal/Condition properties) grants."""
    condition = props.get("Condition")
    converted = MISSING
    if isinstance(condition, dict) and {"Type", "Key", "Value"} <= condition.keys():
        converted = {condition["Type"]: {condition["Key"]: condition["Value"]}}
    return {"Effect": "Allow", "Principal": props.get("Principal"), "Condition": converted}


@rule("IF-POLICY-PUBLIC", "No public resource policy", "*")
def resource_policy_public(s: Subject) -> list[str]:
    """Any resource policy or trust policy below the properties of any resource (SNS, SQS, KMS,
    Secrets Manager, ECR, EventBridge, Logs, OpenSearch, API Gateway, IAM trust, backup, Glue,
    DynamoDB...) that allows Principal '*' without a restricting condition is public. Policies
    built as strings are parsed; an unparseable one is a finding. Bucket policies have their
    own rule; VPC endpoint policies only narrow the endpoint and are skipped.

    Fix: name principals, or add a StringEquals condition on aws:SourceVpce, aws:PrincipalOrgID,
    aws:SourceAccount or aws:SourceArn.
    """
    if s.type in _OWN_POLICY_RULES:
        return []
    documents = list(_policy_documents(s.props, s.template))
    if s.type == "AWS::Events::EventBusPolicy" and "Principal" in s.props:
        documents.append({"Statement": [_legacy_event_bus_statement(s.props)]})
    messages = []
    for document in documents:
        for parsed in _parse_json(document, s.template):
            if parsed is MISSING:
                messages.append("policy document cannot be parsed")
            else:
                messages += public_statements(parsed, s.template)
    return messages


# --------------------------------------------------------------------------- template level


@rule("IF-CFN-TRANSFORM", "No transform or macro", TEMPLATE)
def transforms(s: Subject) -> list[str]:
    """A Transform section or Fn::Transform (SAM, AWS::Include, macros) rewrites the template at
    deploy time, so what is checked is not what is deployed.

    Fix: synthesize plain CloudFormation (CDK does) and check the result.
    """
    messages = []
    if "Transform" in s.template:
        messages.append(f"Transform {json.dumps(s.template['Transform'])}: template rewritten at deploy time")
    if any(True for _ in _find_keys(s.template.get("Resources", {}), ("Fn::Transform",))):
        messages.append("Fn::Transform: part of the template rewritten at deploy time")
    return messages


_CDK_ASSET_URL = re.compile(r".*cdk-[a-z0-9]+-assets-.*/[0-9a-f]{64}\.json")


def _template_urls(s: Subject) -> list[Any]:
    if s.type == "AWS::ServiceCatalog::CloudFormationProduct":
        return [
            url
            for artifact in s.flat("ProvisioningArtifactParameters")
            if isinstance(artifact, dict)
            for url in at(artifact, s.template, "Info", "LoadTemplateFromURL")
        ]
    return s.at("TemplateURL")


def _embedded_findings(s: Subject) -> list[str]:
    """Check a StackSet's inline TemplateBody as a template of its own."""
    messages = []
    for body in _parse_json(s.props.get("TemplateBody", MISSING), s.template):
        if not isinstance(body, dict):
            messages.append("TemplateBody cannot be parsed, so it cannot be checked")
            continue
        messages += [
            f"TemplateBody {found.logical_id} ({found.resource_type}) {found.rule_id}: {found.message}"
            for found in check_template(body, s.logical_id)
        ]
    return messages


@rule(
    "IF-CFN-UNCHECKED-TEMPLATE",
    "No template deployed from outside the cloud assembly",
    "AWS::CloudFormation::Stack",
    "AWS::CloudFormation::StackSet",
    "AWS::ServiceCatalog::CloudFormationProduct",
)
def unchecked_template(s: Subject) -> list[str]:
    """Nested stacks, StackSets and Service Catalog products deploy other templates. CDK nested
    stacks and product stacks are file assets of the cloud assembly (a cdk-*-assets-* bucket
    key that is a 64-hex hash) and ``load_templates`` checks them; a template from any other
    URL is not checked and is a finding. A StackSet's inline JSON TemplateBody is checked here
    (any other body cannot be, and is a finding).

    Fix: build the template with CDK (NestedStack, ProductStack) so it is checked, or check it
    separately and exempt with that reason.
    """
    if s.type == "AWS::CloudFormation::StackSet" and _present(s.at("TemplateBody")):
        return _embedded_findings(s)
    return [
        f"template from {_show(url, s.template)} is not part of the cloud assembly"
        for url in _template_urls(s)
        if not _CDK_ASSET_URL.fullmatch(render(url, s.template))
    ]


def _exemption_problems(entry: Any) -> list[str]:
    if not isinstance(entry, dict):
        return ["must be an object with 'rules' and 'reason'"]
    problems = []
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        problems.append("has no reason")
    rule_ids = entry.get("rules")
    if not isinstance(rule_ids, list) or not rule_ids:
        problems.append("names no rules")
    else:
        known = {r.id for r in RULES if r.id != "IF-EXEMPTION"}
        problems += [
            f"names unknown or unexemptable rule {rule_id!r}" for rule_id in rule_ids if rule_id not in known
        ]
    return problems


@rule("IF-EXEMPTION", "Exemptions name known rules and give a reason", "*", TEMPLATE)
def exemption(s: Subject) -> list[str]:
    """An exemption is the only way around a rule, so it must say which rules and why; a
    malformed one exempts nothing.

    Fix: Metadata {"fmops:internet-free-exempt": {"rules": ["IF-..."], "reason": "..."}}.
    """
    metadata = s.resource.get("Metadata")
    if not isinstance(metadata, dict) or EXEMPT_KEY not in metadata:
        return []
    return [f"{EXEMPT_KEY} {problem}" for problem in _exemption_problems(metadata[EXEMPT_KEY])]


RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}


# --------------------------------------------------------------------------- engine


def _exempted(resource: dict) -> frozenset[str]:
    """Rule ids a well-formed exemption in the resource's metadata names."""
    metadata = resource.get("Metadata")
    entry = metadata.get(EXEMPT_KEY) if isinstance(metadata, dict) else None
    if entry is None or _exemption_problems(entry):
        return frozenset()
    return frozenset(entry["rules"])


def _subjects(template: dict) -> Iterator[tuple[str, dict]]:
    """The template itself (as a pseudo resource of type TEMPLATE), then each resource."""
    yield TEMPLATE, {"Type": TEMPLATE, "Metadata": template.get("Metadata", {})}
    yield from _resources(template)


def check_template(template: dict, name: str) -> list[Finding]:
    """Run every rule over one template; ``name`` labels the findings."""
    findings = []
    for logical_id, resource in _subjects(template):
        exempt = _exempted(resource)
        for checked in RULES:
            if checked.id in exempt:
                continue
            for message in checked.check(logical_id, resource, template):
                findings.append(Finding(name, logical_id, resource.get("Type", ""), checked.id, message))
    return findings


# --------------------------------------------------------------------------- loading

_TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml", ".template")
_TEMPLATE_SECTIONS = frozenset(
    {
        "AWSTemplateFormatVersion",
        "Description",
        "Metadata",
        "Parameters",
        "Rules",
        "Mappings",
        "Conditions",
        "Transform",
        "Resources",
        "Outputs",
        "Hooks",
    }
)


def load_templates(paths: Iterable[str | Path]) -> list[tuple[str, dict]]:
    """Templates named by ``paths``: template files, or cloud assembly folders (cdk.out).

    An assembly contributes the templates of its stack artifacts, of nested assemblies
    (stages), and, through each stack's asset manifest, of nested stacks and Service Catalog
    product stacks. Nothing is found by globbing. Raises ValueError for anything else.
    """
    loaded: dict[Path, tuple[str, dict]] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            _load_assembly(path, loaded)
        elif path.name == "manifest.json" and path.is_file():
            _load_assembly(path.parent, loaded)
        elif path.is_file():
            _load_template_file(path, loaded)
        else:
            raise ValueError(f"{path}: no such file or directory")
    return list(loaded.values())


def _load_assembly(directory: Path, loaded: dict[Path, tuple[str, dict]]) -> None:
    manifest = _read_json(directory / "manifest.json") if (directory / "manifest.json").is_file() else None
    if not isinstance(manifest, dict):
        raise ValueError(f"{directory}: not a cloud assembly (no manifest.json)")
    for artifact in manifest.get("artifacts", {}).values():
        properties = artifact.get("properties", {})
        if artifact.get("type") == "aws:cloudformation:stack":
            _load_template_file(directory / properties.get("templateFile", ""), loaded)
        elif artifact.get("type") == "cdk:cloud-assembly":
            _load_assembly(directory / properties.get("directoryName", ""), loaded)


def _load_template_file(path: Path, loaded: dict[Path, tuple[str, dict]]) -> None:
    key = path.resolve()
    if key in loaded:
        return
    if not path.is_file():
        raise ValueError(f"{path}: template file not found")
    if path.suffix not in _TEMPLATE_SUFFIXES:
        raise ValueError(f"{path}: not a CloudFormation template or cloud assembly")
    template = _read_json(path) if path.suffix == ".json" else _read_yaml(path)
    if not isinstance(template, dict) or not template or not template.keys() <= _TEMPLATE_SECTIONS:
        raise ValueError(f"{path}: not a CloudFormation template")
    loaded[key] = (str(path), template)
    for nested in _asset_templates(path):
        _load_template_file(nested, loaded)


def _asset_templates(template_path: Path) -> list[Path]:
    """Templates among the file assets of a stack (nested stacks, product stacks)."""
    if not template_path.name.endswith(".template.json"):
        return []
    stem = template_path.name.removesuffix(".template.json")
    manifest_path = template_path.with_name(f"{stem}.assets.json")
    manifest = _read_json(manifest_path) if manifest_path.is_file() else {}
    return [
        template_path.parent / asset["source"]["path"]
        for asset in manifest.get("files", {}).values()
        if str(asset.get("source", {}).get("path", "")).endswith(".template.json")
    ]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: cannot read JSON ({error})") from error


def _read_yaml(path: Path) -> Any:
    """YAML with CloudFormation short forms (!Ref, !GetAtt...), through cfn-lint's loader."""
    from cfnlint.decode import cfn_yaml

    try:
        document = cfn_yaml.load(str(path))
    except Exception as error:  # cfn-lint raises its own parse errors and yaml's
        raise ValueError(f"{path}: cannot read YAML ({error})") from error
    return json.loads(json.dumps(document, default=str))


def check_paths(paths: Iterable[str | Path]) -> list[Finding]:
    """Load every template under ``paths`` and check it."""
    return [finding for name, template in load_templates(paths) for finding in check_template(template, name)]


# --------------------------------------------------------------------------- CLI

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
