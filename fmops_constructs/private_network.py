"""An internet-free VPC: isolated subnets, VPC endpoints only, flow logs, closed default SG."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

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

    Interface endpoints get private DNS and one security group that admits HTTPS from the VPC
    CIDR only. The S3 gateway endpoint policy admits the organisation's buckets
    (``s3:ResourceAccount``) and the AWS-owned buckets that AWS-managed flows need (with
    ``package_assets``, CodeArtifact's package-asset bucket, which npm installs read).
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
        for statement in self._s3_endpoint_statements(organisation_account_ids, package_assets):
            s3_endpoint.add_to_policy(statement)
        self.s3_endpoint_id = s3_endpoint.vpc_endpoint_id
        for short_name, service in interface_endpoints.items():
            self.endpoints[short_name] = self.vpc.add_interface_endpoint(
                _endpoint_id(short_name),
                service=ec2.InterfaceVpcEndpointService(service, 443),
                private_dns_enabled=True,
                security_groups=[self.endpoint_security_group],
                subnets=self.subnets,
                open=False,
            )

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

    def _s3_endpoint_statements(self, account_ids: list[str], package_assets: bool) -> list[iam.PolicyStatement]:
        anyone = [iam.AnyPrincipal()]
        extra = []
        if package_assets:
            # npm packages from CodeArtifact are downloaded from its asset bucket (pip's are not).
            extra.append(iam.PolicyStatement(
                sid="CodeArtifactPackageAssets", principals=anyone, actions=["s3:GetObject"],
                resources=[codeartifact_asset_objects(self.region)]))
        return extra + [
            iam.PolicyStatement(
                sid="OrganisationBuckets",
                principals=anyone,
                actions=["s3:*"],
                resources=["*"],
                conditions={"StringEquals": {"s3:ResourceAccount": account_ids}},
            ),
            # ECR stores image layers in this AWS-owned bucket; pulls fail without it.
            iam.PolicyStatement(
                sid="EcrImageLayers",
                principals=anyone,
                actions=["s3:GetObject"],
                resources=[f"arn:aws:s3:::prod-{self.region}-starport-layer-bucket/*"],
            ),
            # CloudFormation custom resources inside the VPC answer through a pre-signed URL
            # on this AWS-owned bucket.
            iam.PolicyStatement(
                sid="CloudFormationCustomResourceResponses",
                principals=anyone,
                actions=["s3:PutObject"],
                resources=[f"arn:aws:s3:::cloudformation-custom-resource-response-{self.region.replace('-', '')}/*"],
            ),
        ]


def _endpoint_id(short_name: str) -> str:
    return "".join(part.capitalize() for part in short_name.replace("-", ".").split("."))
