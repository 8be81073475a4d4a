"""Security groups for workloads in the internet-free VPC that only talk to AWS endpoints."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from fmops_constructs.aspects import exempt_from_internet_free

ENDPOINTS_ONLY_REASON = (
    "HTTPS egress reaches the VPC's interface endpoints and the S3 gateway endpoint, whose prefix list "
    "cannot be resolved offline. The VPC has no internet or NAT gateway and no default route, so "
    "0.0.0.0/0:443 only reaches VPC and gateway endpoints."
)
HTTPS_EGRESS_DESCRIPTION = "HTTPS to VPC endpoints and the S3 gateway endpoint (no internet route exists)"


def endpoints_only_security_group(scope: Construct, construct_id: str, *, vpc: ec2.IVpc,
                                  description: str) -> ec2.SecurityGroup:
    """A security group with no ingress and HTTPS egress only, exempted from IF-SG-EGRESS-PUBLIC
    with the reason above."""
    group = ec2.SecurityGroup(scope, construct_id, vpc=vpc, description=description, allow_all_outbound=False)
    allow_https_to_endpoints(group)
    return group


def allow_https_to_endpoints(group: ec2.SecurityGroup) -> None:
    """Add HTTPS egress to the VPC's endpoints (0.0.0.0/0:443, see the reason) with its exemption."""
    group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), HTTPS_EGRESS_DESCRIPTION)
    exempt_from_internet_free(group.node.default_child, ["IF-SG-EGRESS-PUBLIC"], ENDPOINTS_ONLY_REASON)  # type: ignore[arg-type]


def restrict_to_endpoints(group: ec2.SecurityGroup) -> None:
    """Narrow a security group that CDK created with all outbound traffic allowed (as for the
    Lambda function of an ``AwsCustomResource``) to HTTPS egress, with the same exemption."""
    cfn = group.node.default_child
    cfn.add_property_override("SecurityGroupEgress", [{  # type: ignore[union-attr]
        "CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "Description": HTTPS_EGRESS_DESCRIPTION,
    }])
    exempt_from_internet_free(cfn, ["IF-SG-EGRESS-PUBLIC"], ENDPOINTS_ONLY_REASON)  # type: ignore[arg-type]
