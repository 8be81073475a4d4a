"""Control-plane changes that reopen a path without any internet gateway: DNS firewall rules,
resolver rules shared in, networks shared or attached, network firewalls that pass traffic and
traffic mirroring.
"""

from __future__ import annotations

from infra.compliance.internet_free.intrinsics import MISSING, at, flat, referenced_ids, template_resource, texts
from infra.compliance.internet_free.identity import account_outside, arn_outside
from infra.compliance.internet_free.predicates import may_be_not_false, may_be_other_than, present, when
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "network"


def _domain_lists(s: Subject, list_id: object) -> list[list[str]]:
    """The domains of a rule's domain list: the template's list, or None-like for an outside one."""
    targets = [template_resource(s.template, target) for target in referenced_ids(list_id)]
    lists = [t for t in targets if t.get("Type") == "AWS::Route53Resolver::FirewallDomainList"]
    if not lists:
        return [["(a domain list outside this template)"]]
    return [[d for value in at(lst.get("Properties", {}), s.template, "Domains") for d in flat(value, s.template)
             if isinstance(d, str)] or ["(no inline domains)"] for lst in lists]


_PRIVATE_TLDS = ("internal",)
"""Top-level domains reserved for private use (ICANN, 2024): never delegated on the internet."""


def _opens(domain: str) -> bool:
    """A domain entry that lets every name, or a whole public top-level domain, through."""
    labels = domain.strip(".").split(".")
    if domain.startswith("("):
        return True
    if labels[0] == "*" and len(labels) == 2 and labels[1] in _PRIVATE_TLDS:
        return False
    return domain.strip() in ("*", "*.") or (labels[0] == "*" and len(labels) <= 2)


@rule(
    "IF-R53-FIREWALL-RULES",
    "DNS firewall rules block every name they do not allow",
    "AWS::Route53Resolver::FirewallRuleGroup",
    "AWS::Route53Resolver::FirewallDomainList",
    "AWS::Route53Resolver::FirewallConfig",
)
def dns_firewall_rules(s: Subject) -> list[str]:
    """A DNS firewall only closes the DNS tunnel if it blocks what it does not allow. A rule
    group is a finding when an ALLOW or ALERT rule matches every name or a whole top-level
    domain (``*``, ``*.com``) or a domain list the template does not show, when no BLOCK rule
    matches ``*``, or when the catch-all BLOCK has a lower priority than any ALLOW of the
    catch-all. A domain list loaded from a file (DomainFileUrl) cannot be checked. A firewall
    config with FirewallFailOpen ENABLED lets queries through when the firewall is impaired.

    Fix: ALLOW the AWS service and organisation domains by inline lists, then BLOCK ``*`` at the
    highest priority number; FirewallFailOpen DISABLED.
    """
    if s.type == "AWS::Route53Resolver::FirewallConfig":
        return when(may_be_other_than(s.at("FirewallFailOpen"), "DISABLED", MISSING),
                    "FirewallFailOpen may be ENABLED: queries pass when the firewall is impaired")
    if s.type == "AWS::Route53Resolver::FirewallDomainList":
        return when(present(s.at("DomainFileUrl")), "DomainFileUrl: domains kept outside the template")
    messages, catch_all_block = [], False
    for entry in s.flat("FirewallRules"):
        if not isinstance(entry, dict):
            messages.append("a rule only known at deploy time")
            continue
        actions = at(entry, s.template, "Action")
        lists = _domain_lists(s, entry.get("FirewallDomainListId"))
        opened = [d for domains in lists for d in domains if _opens(d)]
        if opened and may_be_other_than(actions, "BLOCK"):
            messages.append(f"{'/'.join(map(str, actions))} rule on {', '.join(opened)}: lets names through")
        if actions == ["BLOCK"] and all("*" in domains for domains in lists):
            catch_all_block = True
    if not catch_all_block:
        messages.append("no BLOCK rule on '*': names outside the allow-list resolve")
    return messages


@rule(
    "IF-R53-RESOLVER-RULE-SHARED",
    "No resolver rule or outbound endpoint from outside the template",
    "AWS::Route53Resolver::ResolverRuleAssociation",
    "AWS::Route53Resolver::ResolverEndpoint",
)
def resolver_rule_shared(s: Subject) -> list[str]:
    """Associating a resolver rule the template does not define (one shared in through RAM, or
    imported) can forward the VPC's queries anywhere; an OUTBOUND resolver endpoint carries them
    to whatever those rules name.

    Fix: define forwarding rules in the template (IF-R53-FORWARD-PUBLIC checks their targets), or
    exempt a reviewed central rule with the reason.
    """
    if s.type == "AWS::Route53Resolver::ResolverEndpoint":
        return when(may_be_other_than(s.at("Direction"), "INBOUND"), "OUTBOUND resolver endpoint: queries leave the VPC")
    own = [template_resource(s.template, target).get("Type") for value in s.at("ResolverRuleId")
           for target in referenced_ids(value)]
    return when("AWS::Route53Resolver::ResolverRule" not in own, "associates a resolver rule defined outside this template")


@rule("IF-RAM-SHARE", "No resource share outside the organisation", "AWS::RAM::ResourceShare")
def ram_share(s: Subject) -> list[str]:
    """A RAM share with AllowExternalPrincipals not false (the default is true) can be accepted by
    any account; principals outside the organisation (accounts, another organisation's ARN) get
    the shared subnets, transit gateways, resolver rules or prefix lists, and with them a way
    into or out of the network.

    Fix: AllowExternalPrincipals false and principals of the organisation only.
    """
    messages = when(may_be_not_false(s.at("AllowExternalPrincipals")),
                    "AllowExternalPrincipals is not false (missing means true)")
    for value in s.flat("Principals"):
        for text in texts(value, s.template):
            if text.isdigit() or text.startswith("{"):  # an account: literal, own, parameter, unknown
                reason = account_outside(text, s.organisation)
            elif ":organization/" in text or ":ou/" in text:
                org_id = text.split(":organization/")[-1].split(":ou/")[-1].split("/")[0]
                ours = s.organisation.organization_id
                reason = None if ours and org_id == ours and arn_outside(text, s.organisation) is None else \
                    f"{text} is not the organisation"
            else:
                reason = arn_outside(text, s.organisation) if text.startswith("arn:") else f"principal {text} unknown"
            messages += [f"Principals: {reason}"] if reason else []
    return messages


@rule(
    "IF-NETWORK-ATTACHMENT",
    "No transit gateway or Cloud WAN attachment",
    "AWS::EC2::TransitGatewayAttachment",
    "AWS::EC2::TransitGatewayVpcAttachment",
    "AWS::EC2::TransitGatewayConnect",
    "AWS::EC2::TransitGatewayConnectPeer",
    "AWS::NetworkManager::VpcAttachment",
    "AWS::NetworkManager::ConnectAttachment",
    "AWS::NetworkManager::SiteToSiteVpnAttachment",
    "AWS::NetworkManager::TransitGatewayRouteTableAttachment",
)
def network_attachment(s: Subject) -> list[str]:
    """Attaching the VPC to a transit gateway or a Cloud WAN core network joins it to networks the
    template does not show (an egress VPC with NAT or proxies is the usual one), without any
    internet gateway here. Routes decide only which destinations go there; return paths and
    proxies at private addresses do not need routes to 0.0.0.0/0.

    Fix: reach shared services through VPC endpoints; if the organisation routes through a
    reviewed hub, exempt the attachment with that reason.
    """
    return [f"{s.type.rsplit('::', 1)[1]}: joins the VPC to networks outside this template"]


@rule(
    "IF-NETWORK-FIREWALL-PASS",
    "No network firewall that passes traffic by default",
    "AWS::NetworkFirewall::FirewallPolicy",
    "AWS::NetworkFirewall::RuleGroup",
)
def network_firewall_pass(s: Subject) -> list[str]:
    """A Network Firewall in the template means traffic is inspected on its way somewhere; a
    policy whose stateless default actions pass or forward everything to a stateful engine
    without a drop default, or a rule group that passes traffic to any destination or by a
    domain allow-list (which only makes sense with a way out), reopens a path.

    Fix: stateless default aws:drop (or forward with a stateful drop default), and no PASS rules
    or allow-lists to the internet.
    """
    messages = []
    if s.type == "AWS::NetworkFirewall::FirewallPolicy":
        for key in ("StatelessDefaultActions", "StatelessFragmentDefaultActions"):
            actions = s.flat("FirewallPolicy", key)
            if "aws:pass" in actions:
                messages.append(f"{key} aws:pass: traffic passes uninspected")
        forwards = "aws:forward_to_sfe" in s.flat("FirewallPolicy", "StatelessDefaultActions")
        drops = [a for a in s.flat("FirewallPolicy", "StatefulDefaultActions") if isinstance(a, str) and "drop" in a]
        if forwards and not drops:
            messages.append("stateful engine without a drop default: traffic no rule matches passes")
        return messages
    source = ("RuleGroup", "RulesSource")
    for rule_entry in s.flat(*source, "StatefulRules"):
        if isinstance(rule_entry, dict) and str(rule_entry.get("Action", "")).upper() == "PASS":
            destination = str(rule_entry.get("Header", {}).get("Destination", "ANY"))
            if destination.upper() in ("ANY", "0.0.0.0/0", "::/0", "$EXTERNAL_NET"):
                messages.append(f"PASS rule to {destination}")
    for text in s.at(*source, "RulesString"):
        for line in str(text if text is not MISSING else "").splitlines():
            words = line.split()
            if words[:1] == ["pass"] and ("any" in words[5:7] or "$EXTERNAL_NET" in words[5:7]):
                messages.append(f"Suricata rule passes to {words[5]}: {line.strip()[:80]}")
    if "ALLOWLIST" in s.flat(*source, "RulesSourceList", "GeneratedRulesType"):
        messages.append("domain allow-list: implies a path to the internet")
    return messages


@rule(
    "IF-TRAFFIC-MIRROR",
    "No traffic mirroring",
    "AWS::EC2::TrafficMirrorSession",
    "AWS::EC2::TrafficMirrorTarget",
)
def traffic_mirror(s: Subject) -> list[str]:
    """Traffic mirroring copies every packet of an interface to a target (an interface, load
    balancer or Gateway Load Balancer endpoint, possibly of another account).

    Fix: remove it; use VPC flow logs in the account.
    """
    return [f"{s.type.rsplit('::', 1)[1]}: copies VPC traffic to another target"]
