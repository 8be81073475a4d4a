"""Per-account platform stack: the internet-free network, log key and access-log bucket."""

from __future__ import annotations

from aws_cdk import Aspects, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from fmops_constructs.aspects import FrameworkLambdasInVpc, exempt_from_internet_free
from fmops_constructs.kms import EncryptionKey
from fmops_constructs.private_network import ExistingVpcProps, PrivateNetwork
from fmops_constructs.secure_bucket import AccessLogBucket
from infra import endpoints
from infra.config import Account, OrgConfig


def access_log_bucket_name(config: OrgConfig, account: Account) -> str:
    """Deterministic, so team stacks can log to it without a cross-stack reference."""
    return f"{config.organisation.name}-access-logs-{account.id}-{config.organisation.region}"


class PlatformStack(Stack):
    """One per account (governance and workload): the VPC every team of the account shares."""

    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, account: Account, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        org = config.organisation
        self._zones = _network_props(config, account).get("availability_zones") or [
            s.availability_zone for s in account.network.existing.subnets]  # type: ignore[union-attr]
        self.log_key = EncryptionKey(self, "LogKey", alias=f"alias/{org.name}/logs",
                                     description=f"{org.name}: CloudWatch Logs of account {account.name}")
        self.log_key.grant_logs(f"/{org.name}/")
        names = endpoints.interface_endpoints(config.features_of(account))
        self.network = PrivateNetwork(
            self, "Network",
            interface_endpoints={n: endpoints.service_name(n, org.region) for n in names},
            organisation_account_ids=config.account_ids,
            log_key=self.log_key.key,
            log_group_name=f"/{org.name}/vpc-flow-logs/{account.name}",
            log_retention_days=org.log_retention_days,
            dns_allowed_domains=org.dns_allowed_domains,
            **_network_props(config, account),
        )
        self.access_logs = AccessLogBucket(self, "AccessLogs", vpc_endpoint_ids=[self.network.s3_endpoint_id],
                                           source_account=account.id)
        self.access_logs.bucket.node.default_child.add_property_override(  # type: ignore[union-attr]
            "BucketName", access_log_bucket_name(config, account))
        if account.network.existing is None:  # only a VPC we create has CDK's default-SG custom resource
            self._framework_lambdas_in_vpc()

    @property
    def availability_zones(self) -> list[str]:
        """The configured AZs: no context lookup, so synth needs no credentials."""
        return self._zones

    def _framework_lambdas_in_vpc(self) -> None:
        network = self.network
        group = ec2.SecurityGroup(
            self, "FrameworkLambdaSecurityGroup", vpc=network.vpc, allow_all_outbound=False,
            description="CDK custom-resource Lambdas: HTTPS to VPC endpoints and the S3 gateway endpoint",
        )
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443),
                              "HTTPS via the S3 gateway endpoint (no internet route exists)")
        exempt_from_internet_free(
            group.node.default_child,  # type: ignore[arg-type]
            ["IF-SG-EGRESS-PUBLIC"],
            "CloudFormation custom-resource Lambdas must PUT their response to a pre-signed S3 URL, "
            "reached through the S3 gateway endpoint whose prefix list cannot be resolved offline. "
            "The VPC has no internet or NAT gateway and no default route, so 0.0.0.0/0:443 only "
            "reaches VPC and gateway endpoints.",
        )
        subnet_ids = network.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids
        Aspects.of(self).add(FrameworkLambdasInVpc(subnet_ids, group))


def _network_props(config: OrgConfig, account: Account) -> dict:
    net = account.network
    if net.existing is None:
        return {"cidr": net.cidr, "availability_zones": config.organisation.availability_zones[: net.az_count]}
    existing = net.existing
    return {"existing": ExistingVpcProps(
        vpc_id=existing.vpc_id,
        cidr=existing.cidr,
        subnet_ids=[s.id for s in existing.subnets],
        availability_zones=[s.availability_zone for s in existing.subnets],
        route_table_ids=[s.route_table_id for s in existing.subnets],
        create_endpoints=existing.endpoints == "create",
        s3_gateway_endpoint_id=existing.s3_gateway_endpoint_id,
    )}
