"""Internet edge and public hosting: CloudFront, Global Accelerator, Lightsail, Amplify, App
Runner, Transfer Family.
"""

from __future__ import annotations

from infra.compliance.internet_free.predicates import (
    is_absent,
    may_be_absent,
    may_be_not_false,
    may_be_other_than,
    when,
)
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "network"


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
        return when(may_be_absent(s.at("EndpointDetails")), "web app without EndpointDetails is public")
    if s.type == "AWS::Transfer::Connector":
        egress = s.at("EgressType")
        return when(may_be_other_than(egress, "VPC_LATTICE"), "connector egress is not VPC_LATTICE (missing: internet)")
    messages = []
    if may_be_other_than(s.at("EndpointType"), "VPC", "VPC_ENDPOINT"):
        messages.append("EndpointType is not VPC (missing means PUBLIC)")
    if any(not is_absent(value) for value in s.at("EndpointDetails", "AddressAllocationIds")):
        messages.append("AddressAllocationIds make the VPC endpoint internet-facing")
    return messages
