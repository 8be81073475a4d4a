"""Security groups and network ACLs: no rule that admits or allows internet addresses."""

from __future__ import annotations

from infra.compliance.internet_free.intrinsics import MISSING, flat, is_intrinsic
from infra.compliance.internet_free.predicates import internet_addresses, is_true, may_be_absent
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "network"


def _group_rules(s: Subject, inline_key: str, standalone_type: str) -> list[dict]:
    if s.type == standalone_type:
        return [s.props]
    return [entry for entry in s.flat(inline_key) if isinstance(entry, dict) and not is_intrinsic(entry)]


def _open_rules(s: Subject, inline_key: str, standalone_type: str) -> list[str]:
    return [
        cidr
        for entry in _group_rules(s, inline_key, standalone_type)
        for key in ("CidrIp", "CidrIpv6")
        for cidr in internet_addresses(flat(entry.get(key, MISSING), s.template), s.template, False)
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
    direction = "egress" if any(is_true(value) for value in s.at("Egress")) else "ingress"
    return [
        f"{direction} allowed for {cidr}"
        for key in ("CidrBlock", "Ipv6CidrBlock")
        for cidr in internet_addresses(s.flat(key), s.template, unknown_is_internet=False)
    ]
