"""DNS: a DNS firewall on every VPC, and no forwarding to internet resolvers."""

from __future__ import annotations

from infra.compliance.internet_free.intrinsics import MISSING, flat, values
from infra.compliance.internet_free.predicates import internet_addresses, may_be_other_than
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "network"


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
        for address in internet_addresses(flat(target.get(key, MISSING), s.template), s.template, True)
    ]
