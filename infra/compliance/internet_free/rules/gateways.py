"""Gateways and links out of the VPC: internet, NAT, VPN, Direct Connect, peering and the like."""

from __future__ import annotations

from infra.compliance.internet_free.intrinsics import references
from infra.compliance.internet_free.predicates import may_be_other_than, present
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "network"


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
    foreign = present(s.at("PeerOwnerId")) or present(s.at("PeerRegion"))
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
