"""Bedrock model invocation logging as code.

CloudFormation has no resource for it, so an ``AwsCustomResource`` calls the Bedrock control
plane: ``PutModelInvocationLoggingConfiguration`` on create and update,
``DeleteModelInvocationLoggingConfiguration`` on delete. The setting is per account and
Region: deploy one of these per account (it replaces whatever configuration was there).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge
from fmops_constructs.kms import EncryptionKey
from fmops_constructs.log_group import retained_log_group
from fmops_constructs.secure_bucket import SecureBucket
from fmops_constructs.vpc_egress import restrict_to_endpoints

BEDROCK = "bedrock.amazonaws.com"
S3_PREFIX = "invocations"
LARGE_PAYLOAD_PREFIX = "large-payloads"
# Bedrock writes every record to this stream of the configured log group.
LOG_STREAM = "aws/bedrock/modelinvocations"


class ModelInvocationLogging(Construct):
    """Log every Bedrock invocation of the account and Region (prompts, responses, metadata) to a
    KMS-encrypted CloudWatch log group and a KMS-encrypted, VPC-endpoint-only S3 bucket.

    Text, image, embedding and video data are all delivered: an audit of what went in and out of
    a model needs the content, not only the metadata. Payloads above CloudWatch's event size go
    to the bucket under ``large-payloads/``. The custom resource's Lambda runs in ``vpc`` and
    reaches Bedrock through the VPC's ``bedrock`` interface endpoint.
    """

    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, vpc_subnets: ec2.SubnetSelection,
                 access_logs: s3.IBucket, vpc_endpoint_ids: list[str], log_group_name: str,
                 retention_days: int, key_alias: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        from_bedrock_here = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": stack.format_arn(service="bedrock", resource="*",
                                                          arn_format=ArnFormat.NO_RESOURCE_NAME)},
        }
        self.key = EncryptionKey(self, "Key", alias=key_alias,
                                 description="Bedrock model invocation logs (CloudWatch Logs and S3)")
        self.key.grant_logs(log_group_name)
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="BedrockWritesEncryptedInvocationLogs", principals=[iam.ServicePrincipal(BEDROCK)],
            actions=["kms:GenerateDataKey"], resources=["*"], conditions=from_bedrock_here))

        self.log_group = retained_log_group(self, "LogGroup", name=log_group_name, key=self.key,
                                            retention_days=retention_days)
        self.bucket = SecureBucket(self, "Bucket", encryption_key=self.key, access_logs=access_logs,
                                   vpc_endpoint_ids=vpc_endpoint_ids, log_prefix="bedrock-invocation-logs")
        self.bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="BedrockWritesInvocationLogs", principals=[iam.ServicePrincipal(BEDROCK)], actions=["s3:PutObject"],
            resources=[self.bucket.arn_for_objects(f"{S3_PREFIX}/*"),
                       self.bucket.arn_for_objects(f"{LARGE_PAYLOAD_PREFIX}/*")],
            conditions=from_bedrock_here))

        self.delivery_role = iam.Role(
            self, "DeliveryRole", description="Bedrock delivers model invocation logs to CloudWatch Logs",
            assumed_by=iam.ServicePrincipal(BEDROCK, conditions=from_bedrock_here))
        self.delivery_role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[stack.format_arn(service="logs", resource="log-group",
                                        resource_name=f"{log_group_name}:log-stream:{LOG_STREAM}",
                                        arn_format=ArnFormat.COLON_RESOURCE_NAME)]))
        acknowledge(self.delivery_role, "scoped-inline-policy")

        self.configuration = self._configuration(vpc, vpc_subnets, log_group_name, retention_days)

    def logging_config(self) -> dict[str, Any]:
        """The ``loggingConfig`` sent to PutModelInvocationLoggingConfiguration."""
        bucket_name = self.bucket.bucket_name
        return {
            "cloudWatchConfig": {
                "logGroupName": self.log_group.log_group_name,
                "roleArn": self.delivery_role.role_arn,
                "largeDataDeliveryS3Config": {"bucketName": bucket_name, "keyPrefix": LARGE_PAYLOAD_PREFIX},
            },
            "s3Config": {"bucketName": bucket_name, "keyPrefix": S3_PREFIX},
            "textDataDeliveryEnabled": True,
            "imageDataDeliveryEnabled": True,
            "embeddingDataDeliveryEnabled": True,
            "videoDataDeliveryEnabled": True,
        }

    def _configuration(self, vpc: ec2.IVpc, vpc_subnets: ec2.SubnetSelection, log_group_name: str,
                       retention_days: int) -> cr.AwsCustomResource:
        put = cr.AwsSdkCall(
            service="bedrock", action="PutModelInvocationLoggingConfiguration",
            parameters={"loggingConfig": self.logging_config()},
            physical_resource_id=cr.PhysicalResourceId.of("bedrock-model-invocation-logging"),
        )
        handler_logs = retained_log_group(self, "HandlerLogGroup", name=f"{log_group_name}-handler",
                                          key=self.key, retention_days=retention_days)
        configuration = cr.AwsCustomResource(
            self, "Configuration",
            resource_type="Custom::BedrockModelInvocationLogging",
            on_create=put,
            on_update=put,
            on_delete=cr.AwsSdkCall(service="bedrock", action="DeleteModelInvocationLoggingConfiguration"),
            policy=cr.AwsCustomResourcePolicy.from_statements([
                iam.PolicyStatement(actions=["bedrock:PutModelInvocationLoggingConfiguration",
                                             "bedrock:DeleteModelInvocationLoggingConfiguration"],
                                    resources=["*"]),
                iam.PolicyStatement(actions=["iam:PassRole"], resources=[self.delivery_role.role_arn],
                                    conditions={"StringEquals": {"iam:PassedToService": BEDROCK}}),
            ]),
            install_latest_aws_sdk=False,
            log_group=handler_logs,
            timeout=Duration.minutes(2),
            vpc=vpc,
            vpc_subnets=vpc_subnets,
        )
        # Bedrock checks the destinations when the configuration is put: create them first.
        configuration.node.add_dependency(self.bucket, self.log_group, self.delivery_role, self.key)
        self._harden_handler()
        acknowledge(configuration, "scoped-inline-policy", "actions-without-resource-scope")
        return configuration

    def _harden_handler(self) -> None:
        """The stack's single AwsCustomResource function: HTTPS egress only, documented skips."""
        function_id = "AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", "")
        function = Stack.of(self).node.find_child(function_id)
        restrict_to_endpoints(function.node.find_child("SecurityGroup"))  # type: ignore[arg-type]
        acknowledge(function, "cloudformation-provider-lambda", "custom-resource-lambda-managed-policies",
                    "control-tower-computed-value")  # its subnets are the platform stack's exports
