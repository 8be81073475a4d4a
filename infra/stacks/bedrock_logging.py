"""``<org>-<account>-bedrock-logging``, one per account whose VPC has Bedrock endpoints: the
account's model invocation logging (an account-and-Region-wide setting)."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from fmops_constructs.invocation_logging import ModelInvocationLogging
from fmops_constructs.private_network import PrivateNetwork
from infra import naming
from infra.plan import AccountPlan


class BedrockLoggingStack(Stack):
    """Model invocation logging of one account: every Bedrock call, logged and encrypted."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: AccountPlan, network: PrivateNetwork,
                 **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        org = plan.org.organisation
        self.invocation_logging = ModelInvocationLogging(
            self, "InvocationLogging",
            vpc=network.vpc,
            vpc_subnets=network.subnets,
            access_logs=s3.Bucket.from_bucket_name(self, "AccessLogs", plan.access_log_bucket),
            vpc_endpoint_ids=[network.s3_endpoint_id],
            log_group_name=naming.bedrock_invocation_log_group(org.name),
            retention_days=org.log_retention_days,
            key_alias=f"alias/{org.name}/bedrock-invocation-logs",
        )
