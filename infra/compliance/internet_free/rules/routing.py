"""Routes, subnets and public addresses: no traffic routed out, nothing handed a public address."""

from __future__ import annotations

from infra.compliance.internet_free.intrinsics import MISSING, find_keys, values
from infra.compliance.internet_free.predicates import (
    internet_addresses,
    is_true,
    may_be_absent,
    may_be_other_than,
    may_be_true,
    present,
)
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "network"


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
    if all(is_true(value) for value in s.at("Blackhole")):
        return []
    messages = [
        f"{key} {cidr} is internet address space"
        for key in ("DestinationCidrBlock", "DestinationIpv6CidrBlock")
        for cidr in internet_addresses(s.flat(key), s.template, unknown_is_internet=True)
    ]
    if present(s.at("DestinationPrefixListId")):
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
    return [f"route target {key}: leads out of the VPC" for key in _ROUTE_TARGETS if present(s.at(key))]


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
        for key, value in find_keys(s.props, _PUBLIC_SWITCHES)
        if may_be_true(values(value, s.template))
    ]
    messages += [
        "AssignPublicIp may be ENABLED"
        for _, value in find_keys(s.props, ("AssignPublicIp",))
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
