"""Route 53 Resolver DNS Firewall: a closed VPC must not be able to tunnel data out over DNS."""

from __future__ import annotations

from aws_cdk import aws_route53resolver as resolver
from constructs import Construct

# Names a workload in an internet-free VPC legitimately resolves: AWS service endpoints
# (interface endpoints answer for these names with private DNS), Studio's UI domain, the
# dual-stack API domain, and the VPC's own EC2 host names.
AWS_DOMAINS = ("amazonaws.com", "*.amazonaws.com", "*.api.aws", "*.sagemaker.aws", "*.internal")


class DnsFirewall(Construct):
    """Allow AWS service names (plus ``extra_domains``) and block every other DNS query.

    Without it the VPC's resolver recursively resolves any public name, and an attacker with
    code inside the VPC can encode data into queries for a domain whose name server they run.
    The VPC keeps Resolver's default "fail open: disabled", so when the firewall cannot answer,
    queries fail instead of going through.
    """

    def __init__(self, scope: Construct, construct_id: str, *, vpc_id: str, name: str,
                 extra_domains: list[str] | None = None) -> None:
        super().__init__(scope, construct_id)
        allowed = resolver.CfnFirewallDomainList(
            self, "Allowed", name=f"{name}-allowed", domains=[*AWS_DOMAINS, *(extra_domains or [])])
        everything = resolver.CfnFirewallDomainList(self, "Everything", name=f"{name}-everything", domains=["*"])
        group = resolver.CfnFirewallRuleGroup(
            self, "Rules",
            name=f"{name}-dns-egress",
            firewall_rules=[
                resolver.CfnFirewallRuleGroup.FirewallRuleProperty(
                    action="ALLOW", firewall_domain_list_id=allowed.attr_id, priority=100),
                resolver.CfnFirewallRuleGroup.FirewallRuleProperty(
                    action="BLOCK", block_response="NXDOMAIN", firewall_domain_list_id=everything.attr_id,
                    priority=200),
            ],
        )
        resolver.CfnFirewallRuleGroupAssociation(
            self, "Association",
            firewall_rule_group_id=group.attr_id,
            vpc_id=vpc_id,
            priority=101,
            name=f"{name}-dns-egress",
            mutation_protection="ENABLED",
        )
