"""An internet-free VPC: isolated subnets, VPC endpoints only, flow logs, closed default SG."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from fmops_constructs import endpoint_policy
from fmops_constructs.acknowledge import acknowledge
from fmops_constructs.dns_firewall import DnsFirewall
from fmops_constructs.log_group import retained_log_group
from fmops_constructs.package_mirror import codeartifact_asset_objects


@dataclass(frozen=True)
class ExistingVpcProps:
    """A VPC the organisation already has; nothing is looked up at synth."""

    vpc_id: str
    cidr: str
    subnet_ids: list[str]
    availability_zones: list[str]
    route_table_ids: list[str]
    create_endpoints: bool
    s3_gateway_endpoint_id: str | None = None


class PrivateNetwork(Construct):
    """A VPC with no route to or from the internet.

    New VPC: isolated subnets only in the given AZs, no internet/NAT gateway, the default
    security group stripped of its rules, flow logs to a KMS-encrypted log group, and a DNS
    firewall that resolves only AWS names (and ``dns_allowed_domains``).
    Existing VPC: imported from IDs (no lookups); endpoints are created in it, or, with central
    endpoints, only the given S3 gateway endpoint is used.

    Interface endpoints get private DNS, one security group that admits HTTPS from the VPC CIDR
    only, and a policy that admits the organisation's principals only
    (:func:`~fmops_constructs.endpoint_policy.organisation_only`; replace it for one endpoint with
    :meth:`set_endpoint_policy`). The S3 gateway endpoint reaches the buckets of this account, the
    AWS-owned buckets that AWS-managed flows need (ECR image layers; with ``package_assets``,
    CodeArtifact's package-asset bucket, which npm installs read) and, when asked, drop zones and
    CDK asset buckets of the organisation (:func:`~fmops_constructs.endpoint_policy.s3_gateway`).

    :param organisation_account_ids: the organisation's accounts (this one among them).
    :param organization_id: its AWS Organizations ID; the endpoints then admit principals by
        ``aws:PrincipalOrgID`` instead of by account.
    :param drop_zone_prefix: key prefix below which this account's principals may write into the
        organisation's buckets (``<prefix>/<this account>/``). Default: none.
    :param cdk_asset_qualifier: the CDK bootstrap qualifier, when this VPC publishes CDK assets
        to the organisation's accounts (a delivery pipeline). Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        interface_endpoints: dict[str, str],
        organisation_account_ids: list[str],
        log_key: kms.IKey,
        log_group_name: str,
        log_retention_days: int,
        dns_allowed_domains: list[str] | None = None,
        cidr: str | None = None,
        availability_zones: list[str] | None = None,
        existing: ExistingVpcProps | None = None,
        package_assets: bool = False,
        organization_id: str | None = None,
        drop_zone_prefix: str | None = None,
        cdk_asset_qualifier: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.region = Stack.of(self).region
        if existing is None:
            if cidr is None or not availability_zones:
                raise ValueError("PrivateNetwork needs cidr and availability_zones, or existing")
            vpc = self._new_vpc(cidr, availability_zones, log_key, log_group_name, log_retention_days)
            DnsFirewall(self, "DnsFirewall", vpc_id=vpc.vpc_id, name=Stack.of(self).stack_name,
                        extra_domains=dns_allowed_domains)
            self.vpc: ec2.IVpc = vpc
            self.cidr = cidr
        else:
            self.vpc = ec2.Vpc.from_vpc_attributes(
                self, "Vpc",
                vpc_id=existing.vpc_id,
                vpc_cidr_block=existing.cidr,
                availability_zones=existing.availability_zones,
                isolated_subnet_ids=existing.subnet_ids,
                isolated_subnet_route_table_ids=existing.route_table_ids,
            )
            self.cidr = existing.cidr
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

        self.endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        self.perimeter = endpoint_policy.Perimeter.of(organisation_account_ids, organization_id)
        if existing is not None and not existing.create_endpoints:
            self.endpoint_security_group = None
            self.s3_endpoint_id: str = existing.s3_gateway_endpoint_id or ""
            return
        self.endpoint_security_group = ec2.SecurityGroup(
            self, "EndpointSecurityGroup",
            vpc=self.vpc,
            description="VPC interface endpoints: HTTPS from inside the VPC only",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(self.cidr), ec2.Port.tcp(443), "HTTPS from the VPC"
        )
        s3_endpoint = self.vpc.add_gateway_endpoint(
            "S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[self.subnets]
        )
        stack = Stack.of(self)
        aws_owned = [("EcrImageLayers", f"arn:{stack.partition}:s3:::prod-{self.region}-starport-layer-bucket/*")]
        if package_assets:  # npm packages from CodeArtifact are downloaded from its asset bucket (pip's are not)
            aws_owned.append(("CodeArtifactPackageAssets", codeartifact_asset_objects(self.region)))
        _set_policy(s3_endpoint, endpoint_policy.s3_gateway(
            self.perimeter, account=stack.account, region=self.region, partition=stack.partition,
            aws_owned_reads=aws_owned, drop_zone_prefix=drop_zone_prefix, cdk_asset_qualifier=cdk_asset_qualifier))
        self.s3_endpoint_id = s3_endpoint.vpc_endpoint_id
        interface_policy = endpoint_policy.organisation_only(self.perimeter)
        for short_name, service in interface_endpoints.items():
            endpoint = self.endpoints[short_name] = self.vpc.add_interface_endpoint(
                _endpoint_id(short_name),
                service=ec2.InterfaceVpcEndpointService(service, 443),
                private_dns_enabled=True,
                security_groups=[self.endpoint_security_group],
                subnets=self.subnets,
                open=False,
            )
            _set_policy(endpoint, interface_policy)

    def set_endpoint_policy(self, short_name: str, document: dict) -> None:
        """Replace the policy of interface endpoint ``short_name`` with ``document`` (a dict)."""
        _set_policy(self.endpoints[short_name], document)

    def _new_vpc(self, cidr: str, zones: list[str], key: kms.IKey, log_group_name: str,
                 retention_days: int) -> ec2.Vpc:
        prefix = int(cidr.split("/")[1])
        vpc = ec2.Vpc(
            self, "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            availability_zones=zones,
            nat_gateways=0,
            create_internet_gateway=False,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=prefix + 2
                )
            ],
            restrict_default_security_group=True,
            enable_dns_hostnames=True,
            enable_dns_support=True,
        )
        acknowledge(vpc, "explicit-availability-zones")
        flow_logs = retained_log_group(self, "FlowLogs", name=log_group_name, key=key, retention_days=retention_days)
        flow_log = vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        acknowledge(flow_log, "scoped-inline-policy")
        return vpc


def _set_policy(endpoint: ec2.IVpcEndpoint, document: dict) -> None:
    """The endpoint's policy as a plain L1 property (its L2 ``add_to_policy`` would build statement
    objects per endpoint, a cost at every synth); it replaces what ``add_to_policy`` would add."""
    endpoint.node.default_child.policy_document = document  # type: ignore[union-attr]


def _endpoint_id(short_name: str) -> str:
    return "".join(part.capitalize() for part in short_name.replace("-", ".").split("."))
