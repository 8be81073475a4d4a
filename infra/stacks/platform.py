"""Per-account platform stack: the internet-free network, log key and access-log bucket."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_organizations as organizations
from constructs import Construct

from fmops_constructs.aspects import FrameworkLambdasInVpc
from fmops_constructs.audit import AuditTrail, ConfigRecorder, LogArchive
from fmops_constructs.kms import EncryptionKey
from fmops_constructs.model_promotion_runtime.promotion import INCOMING
from fmops_constructs.private_network import ExistingVpcProps, PrivateNetwork
from fmops_constructs.secure_bucket import AccessLogBucket
from fmops_constructs.vpc_egress import endpoints_only_security_group
from fmops_constructs.bedrock import invocation_allow_list, restrict_bedrock_endpoints
from fmops_constructs.persona import PermissionBoundary, PersonaRole
from infra import naming, personas
from infra.plan import AccountPlan, endpoints


class PlatformStack(Stack):
    """One per account (governance and workload): the VPC every team of the account shares."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: AccountPlan, scp_model_arns: tuple[str, ...] = (),
                 **kwargs) -> None:
        """:param plan: the account and the teams in it.
        :param scp_model_arns: the organisation's Bedrock allow-list, for the SCPs that the governance
            account creates (mode organisation) and attaches to ``organisation.scp_target_ids``."""
        super().__init__(scope, construct_id, **kwargs)
        self._plan = plan
        account, org = plan.account, plan.org.organisation
        self._zones = _network_props(plan).get("availability_zones") or [
            s.availability_zone for s in account.network.existing.subnets]  # type: ignore[union-attr]
        self.log_key = EncryptionKey(self, "LogKey", alias=f"alias/{org.name}/logs",
                                     description=f"{org.name}: CloudWatch Logs of account {account.name}")
        self.log_key.grant_logs(naming.log_prefix(org.name))
        self.network = PrivateNetwork(
            self, "Network",
            interface_endpoints={n: endpoints.service_name(n, org.region) for n in plan.interface_endpoints},
            organisation_account_ids=list(plan.org.account_ids),
            log_key=self.log_key,
            log_group_name=f"/{org.name}/vpc-flow-logs/{account.name}",
            log_retention_days=org.log_retention_days,
            dns_allowed_domains=org.dns_allowed_domains,
            package_assets=plan.runs_delivery,  # npm ci of the delivery pipelines
            organization_id=None if plan.org.single_account else org.aws_organization_id,
            # model promotion: the previous stage writes below incoming/<its account>/ of the next one's bucket
            drop_zone_prefix=None if plan.org.single_account else INCOMING,
            # the delivery pipelines' asset step publishes to the workload accounts' CDK asset buckets
            cdk_asset_qualifier=naming.CDK_QUALIFIER if plan.runs_delivery else None,
            **_network_props(plan),
        )
        restrict_bedrock_endpoints(self.network.endpoints, perimeter=self.network.perimeter,
                                   models=list(plan.bedrock_models))
        self.access_logs = AccessLogBucket(self, "AccessLogs", vpc_endpoint_ids=[self.network.s3_endpoint_id],
                                           source_account=account.id,
                                           bucket_name=plan.access_log_bucket)
        # Only a VPC we create has CDK's default-SG custom resource.
        framework_lambdas = self._framework_lambdas_in_vpc() if account.network.existing is None else None
        self._platform_personas(plan)
        self._audit(plan)
        if account.role == "governance" and not plan.org.single_account:
            self._service_control_policies(list(scp_model_arns))
        if framework_lambdas is not None:
            framework_lambdas.apply_to(self)  # last: every construct of the stack exists

    @property
    def availability_zones(self) -> list[str]:
        """The configured AZs: no context lookup, so synth needs no credentials."""
        return self._zones

    def _platform_personas(self, plan: AccountPlan) -> None:
        """MLOps admin, security & architect and auditor of the account, under the platform boundary."""
        org = plan.org.organisation
        models = [m for team in plan.teams for m in team.bedrock_models]
        scope = personas.Scope(org=org.name, team="platform", account=plan.account.id, region=org.region,
                               model_arns=tuple(invocation_allow_list(self, models)))
        name = naming.boundary_name(org.name, "platform")
        self.boundary = PermissionBoundary(
            self, "PlatformBoundary", name=name,
            document=personas.boundary_document(naming.policy_arn("aws", self.account, name), list(scope.model_arns),
                                                org=org.name, team="platform"),
        )
        matrix = personas.load_matrix()
        for persona in matrix.platform_personas():
            PersonaRole(
                self, f"Persona-{persona}", role_name=naming.persona_role_name(org.name, "platform", persona),
                persona=persona, description=matrix.personas[persona].description,
                policy_description=f"{persona} of platform, generated from infra/personas/matrix.yaml",
                tags={naming.TAG_TEAM: "platform", naming.TAG_PERSONA: persona},
                statements=personas.persona_statements(persona, scope, matrix),
                boundary=self.boundary.policy, principal_arn=org.platform_assume_principal,
            )

    def _audit(self, plan: AccountPlan) -> None:
        """The log archive and the trail (governance account, or the only one), the Config recorder."""
        audit, org = plan.audit, plan.org.organisation
        if audit is None:
            return
        alias = naming.log_archive_key_alias(org.name)
        self.log_archive: LogArchive | None = None
        if plan.hosts_archive:
            self.log_archive = LogArchive(
                self, "LogArchive", bucket_name=audit.archive_bucket, key_alias=alias, trail_name=audit.trail_name,
                access_logs=self.access_logs, vpc_endpoint_ids=[self.network.s3_endpoint_id],
                recorder_account_ids=list(audit.account_ids) if audit.config_recorder else [],
                recorder_role_arns=audit.recorder_role_arns(self.partition) if audit.config_recorder else [],
                retention_days=audit.retention_days, lock_mode=audit.lock_mode,
                organisation_id=None if plan.org.single_account else org.aws_organization_id)
            if audit.trail:
                AuditTrail(self, "AuditTrail", archive=self.log_archive, trail_name=audit.trail_name,
                           data_event_buckets=audit.data_event_buckets, organisation_trail=audit.organisation_trail)
        if audit.config_recorder:
            local = self.log_archive is not None
            recorder = ConfigRecorder(
                self, "ConfigRecorder", role_name=audit.recorder_role_name, archive_bucket=audit.archive_bucket,
                archive_key_arn=self.log_archive.key.key_arn if self.log_archive is not None else None,
                archive_account=None if local else audit.archive_account.id,
                archive_key_alias=None if local else alias)
            if self.log_archive is not None:  # the channel names the archive; it must exist and admit Config
                recorder.channel.node.add_dependency(self.log_archive.bucket)
                if self.log_archive.bucket.policy is not None:
                    recorder.channel.node.add_dependency(self.log_archive.bucket.policy)

    def _service_control_policies(self, model_arns: list[str]) -> None:
        """The preventive SCPs, attached to the configured OUs/accounts (``scp_target_ids``; none:
        created, attached to nothing, and ``fmops validate`` warns). Needs Organizations rights."""
        for name, document in personas.scp_documents(model_arns).items():
            organizations.CfnPolicy(
                self, f"Scp-{name}", name=name, type="SERVICE_CONTROL_POLICY", content=document,
                target_ids=self._plan.org.organisation.scp_target_ids or None,
                description="FMOps preventive controls (infra/personas/preventive_statements)",
            )

    def _framework_lambdas_in_vpc(self) -> FrameworkLambdasInVpc:
        network = self.network
        group = endpoints_only_security_group(
            self, "FrameworkLambdaSecurityGroup", vpc=network.vpc,
            description="CDK custom-resource Lambdas: HTTPS to VPC endpoints and the S3 gateway endpoint",
        )
        subnet_ids = network.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids
        org = self._plan.org.organisation
        cost_tags = {**org.tags, naming.TAG_ORGANISATION: org.name, naming.TAG_COST_CENTRE: org.cost_centre}
        return FrameworkLambdasInVpc(subnet_ids, group, cost_tags)


def _network_props(plan: AccountPlan) -> dict:
    net = plan.account.network
    if net.existing is None:
        return {"cidr": net.cidr, "availability_zones": plan.org.organisation.availability_zones[: net.az_count]}
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
