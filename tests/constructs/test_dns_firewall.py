"""DnsFirewall: AWS names (and the extra domains) allowed, every other query blocked, on the VPC."""

from __future__ import annotations

import pytest

from fmops_constructs.dns_firewall import AWS_DOMAINS, DnsFirewall
from tests.constructs.bare import ORG, app_names, bare_stack, only, resources, template

VPC = "vpc-0123456789abcdef0"


@pytest.fixture(scope="module")
def synthesized():
    stack = bare_stack()
    DnsFirewall(stack, "Dns", vpc_id=VPC, name=f"{ORG}-dev", extra_domains=["pypi.internal.example"])
    return template(stack)


def _list(template, name):
    [found] = [d["Properties"] for d in resources(template, "AWS::Route53Resolver::FirewallDomainList").values()
               if d["Properties"]["Name"] == name]
    return found


def test_aws_names_and_extra_domains_are_allowed_then_everything_blocked(synthesized):
    assert _list(synthesized, f"{ORG}-dev-allowed")["Domains"] == [*AWS_DOMAINS, "pypi.internal.example"]
    assert _list(synthesized, f"{ORG}-dev-everything")["Domains"] == ["*"]
    rules = only(synthesized, "AWS::Route53Resolver::FirewallRuleGroup")["FirewallRules"]
    assert [(r["Action"], r["Priority"]) for r in sorted(rules, key=lambda r: r["Priority"])] == [
        ("ALLOW", 100), ("BLOCK", 200)]
    assert next(r for r in rules if r["Action"] == "BLOCK")["BlockResponse"] == "NXDOMAIN"


def test_associated_with_the_vpc_and_protected(synthesized):
    association = only(synthesized, "AWS::Route53Resolver::FirewallRuleGroupAssociation")
    assert association["VpcId"] == VPC and association["MutationProtection"] == "ENABLED"
    assert association["Name"] == f"{ORG}-dev-dns-egress"


def test_carries_no_app_names(synthesized):
    assert app_names(synthesized) == []
