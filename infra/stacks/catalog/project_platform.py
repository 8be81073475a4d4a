"""What a team's projects run on in one account, written by its catalog stack."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from fmops_constructs.guardrail import Guardrail
from fmops_constructs.kms import EncryptionKey
from fmops_constructs.private_network import PrivateNetwork
from fmops_constructs.product import PlatformValue
from fmops_constructs.vpc_egress import endpoints_only_security_group
from infra import naming
from infra.config import Team
from infra.plan import TeamPlan
from infra.stacks.catalog.labeling import LabelingWorkforceStack
from templates.registry import TemplateEntry


class ProjectPlatform(Construct):
    """Per team and account: the key of project resources and logs, the security group of project
    workloads, the templates' seed bundles, and the SSM parameters product templates read."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: TeamPlan,
                 network: PrivateNetwork, data_key_arn: str, guardrail: Guardrail | None,
                 labeling: LabelingWorkforceStack | None, entries: Sequence[TemplateEntry]) -> None:
        super().__init__(scope, construct_id)
        org, account, team = plan.org, plan.account, plan.team
        self.key = EncryptionKey(self, "ProjectKey", alias=f"alias/{org.name}/{team.name}/projects",
                                 # what products encrypt with it: buckets (named by CloudFormation, so any
                                 # bucket of the account), SageMaker volumes and captures, Lambda environments,
                                 # SNS topics, Bedrock prompts, CodeBuild artifacts
                                 services=("s3", "sagemaker", "lambda", "sns", "bedrock", "codebuild"),
                                 description=f"{org.name}: project resources and logs of team {team.name} in "
                                             f"{account.name}")
        self.key.grant_logs(naming.log_prefix(org.name, team.name))
        self._admit_endpoint_logs(team)
        self._admit_notifications()
        self.security_group = endpoints_only_security_group(
            self, "ProjectSecurityGroup", vpc=network.vpc,
            description=f"Project workloads of team {team.name}: HTTPS to VPC endpoints only, no ingress")
        subnets = network.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids
        self.subnet_ids = subnets
        values: dict[PlatformValue, str | list[str]] = {
            PlatformValue.VPC_ID: network.vpc.vpc_id,
            PlatformValue.SUBNET_IDS: subnets,
            PlatformValue.SECURITY_GROUP_ID: self.security_group.security_group_id,
            PlatformValue.S3_ENDPOINT_ID: network.s3_endpoint_id,
            PlatformValue.DATA_KEY_ARN: data_key_arn,
            PlatformValue.PROJECT_KEY_ARN: self.key.key_arn,
        }
        if "execute-api" in network.endpoints:
            values[PlatformValue.API_ENDPOINT_ID] = network.endpoints["execute-api"].vpc_endpoint_id
        if guardrail is not None:
            values[PlatformValue.GUARDRAIL_ARN] = guardrail.guardrail_arn
            values[PlatformValue.GUARDRAIL_KEY_ARN] = guardrail.encryption_key.key_arn
        if team.has_alarm_topic:
            stack = Stack.of(self)
            values[PlatformValue.ALARM_TOPIC_ARN] = stack.format_arn(
                service="sns", resource=naming.alarm_topic_name(org.name, team.name))
        if labeling is not None:
            values[PlatformValue.LABELING_USER_POOL_ID] = labeling.user_pool.user_pool_id
            values[PlatformValue.LABELING_CLIENT_ID] = labeling.client.user_pool_client_id
        # Read by version 1.0.0 of the fm-finetuning and classical-ml products (event forwarding,
        # replaced by ModelPromotion): kept so that their provisioned projects can still be updated.
        following = plan.next_account
        values[PlatformValue.PROMOTION_ACCOUNT] = following.id if following else "none"
        prefix = naming.catalog_parameter_prefix(org.name, team.name)
        for value, text in values.items():
            name = f"{prefix}/{value.key}"
            if value.is_list:
                ssm.StringListParameter(self, f"Param-{value.key}", parameter_name=name, string_list_value=text,
                                        description=value.description)
            else:
                ssm.StringParameter(self, f"Param-{value.key}", parameter_name=name, string_value=text,
                                    description=value.description)
        self.available = set(values)
        bucket = None
        for entry in entries:
            asset = s3_assets.Asset(self, f"Seed-{entry.id}", path=str(entry.seed), exclude=["__pycache__", "*.pyc"])
            bucket = asset.s3_bucket_name
            ssm.StringParameter(self, f"Param-seed-{entry.id}", parameter_name=f"{prefix}/{naming.seed_key_parameter(entry.id)}",
                                string_value=asset.s3_object_key,
                                description=f"Seed code bundle of template {entry.id} {entry.version}")
        if bucket is not None:
            ssm.StringParameter(self, "Param-seed-bucket", parameter_name=f"{prefix}/{PlatformValue.SEED_BUCKET.key}",
                                string_value=bucket, description=PlatformValue.SEED_BUCKET.description)
            self.available.add(PlatformValue.SEED_BUCKET)

    def _admit_endpoint_logs(self, team: Team) -> None:
        """SageMaker names endpoint log groups itself (/aws/sagemaker/Endpoints/<endpoint>);
        project endpoints are named <team>-<project>."""
        self.key.grant_logs(f"/aws/sagemaker/Endpoints/{team.name}-", sid="CloudWatchLogsForTeamEndpoints")

    def _admit_notifications(self) -> None:
        """Project topics use this key: EventBridge rules of this account publish to them (alarms
        publish to the team's alarm topic, which has its own key)."""
        stack = Stack.of(self)
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="EventsPublishesToProjectTopics",
            principals=[iam.ServicePrincipal("events.amazonaws.com")], actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"], conditions={"StringEquals": {"aws:SourceAccount": stack.account},
                                         "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:events:{stack.region}:"
                                                                      f"{stack.account}:rule/*"}}))
