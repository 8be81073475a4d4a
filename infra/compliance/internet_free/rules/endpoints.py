"""VPC endpoints and endpoint services: only to AWS services, never open to every account."""

from __future__ import annotations

import re

from infra.compliance.internet_free.intrinsics import MISSING, is_intrinsic, references, render
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "network"


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
    perimeter="resource",
)
def endpoint_service_public(s: Subject) -> list[str]:
    """An endpoint service that allows principal '*' can be connected to from any AWS account,
    which then reaches into the service's network.

    Fix: list the account or organisation principals that may connect.
    """
    return ["AllowedPrincipals contains '*'"] if "*" in s.flat("AllowedPrincipals") else []
