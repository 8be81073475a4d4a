"""The audit trail: a KMS-encrypted, Object-Lock log archive, a CloudTrail trail into it, and an
AWS Config recorder with the managed rules that watch an internet-free ML account."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge, acknowledge_resolved_wildcards
from fmops_constructs.aspects import exempt_from_internet_free
from fmops_constructs.kms import EncryptionKey
from fmops_constructs.secure_bucket import deny_outside_vpc_endpoint

# Bedrock resource types that CloudTrail records as data events (agents, flows, knowledge bases,
# guardrails, prompts). Model invocations (InvokeModel, Converse and their streams) are management
# events, so the management selector records them.
BEDROCK_DATA_EVENT_TYPES = (
    "AWS::Bedrock::AgentAlias",
    "AWS::Bedrock::FlowAlias",
    "AWS::Bedrock::Guardrail",
    "AWS::Bedrock::KnowledgeBase",
    "AWS::Bedrock::PromptVersion",
)

# AWS Config managed rules (identifiers from the AWS Config developer guide) for the invariants of
# an internet-free ML account; none takes a parameter here.
MANAGED_RULES = (
    "SAGEMAKER_NOTEBOOK_NO_DIRECT_INTERNET_ACCESS",
    "SAGEMAKER_NOTEBOOK_INSTANCE_INSIDE_VPC",
    "SAGEMAKER_NOTEBOOK_INSTANCE_KMS_KEY_CONFIGURED",
    "SAGEMAKER_DOMAIN_IN_VPC",
    "SAGEMAKER_MODEL_IN_VPC",
    "SAGEMAKER_ENDPOINT_CONFIGURATION_KMS_KEY_CONFIGURED",
    "S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC",
    "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED",
    "S3_BUCKET_SSL_REQUESTS_ONLY",
    "CLOUD_TRAIL_ENABLED",
    "MULTI_REGION_CLOUD_TRAIL_ENABLED",
    "CLOUD_TRAIL_ENCRYPTION_ENABLED",
    "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
    "INTERNET_GATEWAY_AUTHORIZED_VPC_ONLY",
    "VPC_DEFAULT_SECURITY_GROUP_CLOSED",
    "VPC_FLOW_LOGS_ENABLED",
    "LAMBDA_INSIDE_VPC",
    "KMS_CMK_NOT_SCHEDULED_FOR_DELETION",
)

CONFIG_PREFIX = "config"
"""Key prefix of AWS Config's deliveries in the archive (CloudTrail's are below ``AWSLogs/``)."""


def _rule_name(identifier: str) -> str:
    return identifier.lower().replace("_", "-")


class LogArchive(Construct):
    """The bucket CloudTrail and AWS Config deliver to: SSE-KMS with its own key, Object Lock on
    every object (``lock_mode`` for ``retention_days``, then expired), versioned, TLS only, public
    access blocked, reachable only through ``vpc_endpoint_ids`` (and by the AWS services and
    recorder roles that deliver into it), server access logs to ``access_logs``, retained.

    The bucket lives at ``<construct_id>/Bucket`` and the key at ``<construct_id>/Key/Key``.

    :param bucket_name: the bucket's name.
    :param key_alias: the key's alias (``alias/<name>``).
    :param trail_name: the trail that writes below ``AWSLogs/`` (CloudTrail is admitted for it only).
    :param recorder_account_ids: the accounts whose AWS Config deliveries the archive accepts.
    :param recorder_role_arns: the roles those recorders deliver with (admitted by ARN).
    :param organisation_id: the AWS Organizations ID of the recorders' accounts: the key policy then
        admits the organisation (``aws:SourceOrgID``, ``aws:PrincipalOrgID``) instead of listing the
        accounts, so it stays the same when accounts join. Default: the accounts, listed.
    """

    def __init__(self, scope: Construct, construct_id: str, *, bucket_name: str, key_alias: str, trail_name: str,
                 access_logs: s3.IBucket, vpc_endpoint_ids: list[str], recorder_account_ids: Sequence[str],
                 recorder_role_arns: Sequence[str], retention_days: int, lock_mode: str = "GOVERNANCE",
                 organisation_id: str | None = None) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.trail_arn = stack.format_arn(service="cloudtrail", resource="trail", resource_name=trail_name)
        self.key = EncryptionKey(self, "Key", alias=key_alias,
                                 description="Log archive: CloudTrail and AWS Config deliveries")
        retention = Duration.days(retention_days)
        self.bucket = s3.Bucket(
            self, "Bucket", bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS, encryption_key=self.key, bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True, minimum_tls_version=1.2,
            versioned=True, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            object_lock_enabled=True,
            object_lock_default_retention=(s3.ObjectLockRetention.compliance(retention) if lock_mode == "COMPLIANCE"
                                           else s3.ObjectLockRetention.governance(retention)),
            server_access_logs_bucket=access_logs, server_access_logs_prefix="log-archive/",
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(retention_days + 1),
                                              noncurrent_version_expiration=Duration.days(retention_days + 1))],
        )
        self.key.allow_s3(bucket_name)  # readers and the account's recorder role, through S3
        self._cloudtrail_access()
        self._config_access(list(recorder_account_ids), list(recorder_role_arns), organisation_id)
        deny_outside_vpc_endpoint(self.bucket, vpc_endpoint_ids, except_principals=list(recorder_role_arns))
        if recorder_role_arns:
            exempt_from_internet_free(
                self.bucket.node.default_child, ["IF-S3-VPCE-ONLY"],  # type: ignore[arg-type]
                "AWS Config delivers with the recorder's role from the AWS service, not from a VPC: besides requests "
                "through the VPC's S3 endpoint and AWS service principals (CloudTrail, Config), the archive admits "
                "only the recorder roles (assumable only by config.amazonaws.com), whose policies allow only "
                "writing below their own account's prefix.")
        acknowledge(self.bucket, "bucket-replication", "no-object-event-consumer")
        if not isinstance(access_logs, s3.Bucket):
            acknowledge(self.bucket, "access-logs-granted-by-log-bucket")

    def _cloudtrail_access(self) -> None:
        trail = {"StringEquals": {"aws:SourceArn": self.trail_arn}}
        principal = [iam.ServicePrincipal("cloudtrail.amazonaws.com")]
        self.bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudTrailAclCheck", principals=principal, actions=["s3:GetBucketAcl"],
            resources=[self.bucket.bucket_arn], conditions=trail))
        self.bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudTrailWrite", principals=principal, actions=["s3:PutObject"],
            resources=[self.bucket.arn_for_objects("AWSLogs/*")],
            conditions={"StringEquals": {"aws:SourceArn": self.trail_arn,
                                         "s3:x-amz-acl": "bucket-owner-full-control"}}))
        stack = Stack.of(self)
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudTrailEncryptsForTheTrail", principals=principal, actions=["kms:GenerateDataKey*"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceArn": self.trail_arn},
                        "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                                       f"arn:{stack.partition}:cloudtrail:*:{stack.account}:trail/*"}}))
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudTrailDescribesKey", principals=principal, actions=["kms:DescribeKey"], resources=["*"],
            conditions=trail))

    def _config_access(self, account_ids: list[str], role_arns: list[str], organisation_id: str | None) -> None:
        if not account_ids:
            return
        stack = Stack.of(self)
        accounts = {"StringEquals": {"aws:SourceAccount": account_ids}}
        principal = [iam.ServicePrincipal("config.amazonaws.com")]
        deliveries = [self.bucket.arn_for_objects(f"{CONFIG_PREFIX}/AWSLogs/{account}/Config/*")
                      for account in account_ids]
        self.bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="ConfigAclCheck", principals=principal, actions=["s3:GetBucketAcl", "s3:ListBucket"],
            resources=[self.bucket.bucket_arn], conditions=accounts))
        self.bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="ConfigWrite", principals=principal, actions=["s3:PutObject"], resources=deliveries,
            conditions={"StringEquals": {"aws:SourceAccount": account_ids,
                                         "s3:x-amz-acl": "bucket-owner-full-control"}}))
        # The recorders' own roles (AWS Config delivers with the role it records with).
        anyone = [iam.AnyPrincipal()]
        recorders = {"ArnEquals": {"aws:PrincipalArn": role_arns}}
        self.bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="ConfigRecorderRolesAclCheck", principals=anyone, actions=["s3:GetBucketAcl"],
            resources=[self.bucket.bucket_arn], conditions=recorders))
        self.bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="ConfigRecorderRolesWrite", principals=anyone, actions=["s3:PutObject"], resources=deliveries,
            conditions=recorders))
        s3_service = {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}
        # The key (a stateful resource) keeps its policy when accounts join if the organisation is known.
        source = {"aws:SourceOrgID": organisation_id} if organisation_id else {"aws:SourceAccount": account_ids}
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="ConfigEncryptsDeliveries", principals=principal, actions=["kms:GenerateDataKey", "kms:Decrypt"],
            resources=["*"], conditions={"StringEquals": {**source, **s3_service}}))
        if organisation_id:
            role_name = role_arns[0].rsplit("/", 1)[1]
            recorders_of = {"ArnLike": {"aws:PrincipalArn": f"arn:{stack.partition}:iam::*:role/{role_name}"},
                            "StringEquals": {"aws:PrincipalOrgID": organisation_id, **s3_service}}
            principals: list[iam.IPrincipal] = [iam.AnyPrincipal()]
            acknowledge(self.key, "log-archive-key-organisation-recorders")
        else:
            recorders_of = {"ArnEquals": {"aws:PrincipalArn": role_arns}, "StringEquals": s3_service}
            principals = [iam.AccountPrincipal(account) for account in account_ids]
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="ConfigRecorderRolesEncryptDeliveries", principals=principals,
            actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=["*"], conditions=recorders_of))


class AuditTrail(Construct):
    """A multi-Region CloudTrail trail with log file validation into a :class:`LogArchive`:
    management events (global services included), object-level S3 events of
    ``data_event_buckets`` and the Bedrock data events (:data:`BEDROCK_DATA_EVENT_TYPES`).

    :param organisation_trail: record every account of the organisation (the stack must be deployed
        in the management account or a CloudTrail delegated administrator).
    """

    def __init__(self, scope: Construct, construct_id: str, *, archive: LogArchive, trail_name: str,
                 data_event_buckets: Sequence[str], organisation_trail: bool) -> None:
        super().__init__(scope, construct_id)
        partition = Stack.of(self).partition
        selectors = [cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
            name="Management events", field_selectors=[_equals("eventCategory", "Management")])]
        if data_event_buckets:
            selectors.append(cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
                name="Team data buckets", field_selectors=[
                    _equals("eventCategory", "Data"), _equals("resources.type", "AWS::S3::Object"),
                    cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(
                        field="resources.ARN",
                        starts_with=[f"arn:{partition}:s3:::{bucket}/" for bucket in data_event_buckets])]))
        selectors += [cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
            name=f"Bedrock {kind.rsplit(':', 1)[1]}",
            field_selectors=[_equals("eventCategory", "Data"), _equals("resources.type", kind)])
            for kind in BEDROCK_DATA_EVENT_TYPES]
        self.trail = cloudtrail.CfnTrail(
            self, "Trail", trail_name=trail_name, is_logging=True, s3_bucket_name=archive.bucket.bucket_name,
            kms_key_id=archive.key.key_arn, enable_log_file_validation=True, include_global_service_events=True,
            is_multi_region_trail=True, is_organization_trail=organisation_trail, advanced_event_selectors=selectors)
        if archive.bucket.policy is not None:
            self.trail.node.add_dependency(archive.bucket.policy)
        acknowledge(self.trail, "trail-without-cloudwatch-logs")


def _equals(field: str, value: str) -> cloudtrail.CfnTrail.AdvancedFieldSelectorProperty:
    return cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(field=field, equal_to=[value])


class ConfigRecorder(Construct):
    """An AWS Config recorder of every supported resource type (global ones included), its delivery
    channel into a log archive (possibly in another account) and :data:`MANAGED_RULES`.

    The recorder's role has AWS's ``AWS_ConfigRole`` policy (read the configuration of every
    resource type) and may write only its own account's prefix of the archive.

    :param role_name: the role's name (the archive admits it by ARN).
    :param archive_bucket: the archive's bucket name.
    :param archive_key_arn: the archive key's ARN, or ``None`` when the archive is in another account:
        then the role may use the key of ``archive_account`` named by ``archive_key_alias``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, role_name: str, archive_bucket: str,
                 archive_key_arn: str | None = None, archive_account: str | None = None,
                 archive_key_alias: str | None = None) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self, "Role", role_name=role_name, assumed_by=iam.ServicePrincipal("config.amazonaws.com"),
            description="AWS Config: records resource configurations and delivers them to the log archive",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWS_ConfigRole")])
        bucket_arn = f"arn:{stack.partition}:s3:::{archive_bucket}"
        statements = [iam.PolicyStatement(actions=["s3:GetBucketAcl"], resources=[bucket_arn]), iam.PolicyStatement(
            actions=["s3:PutObject"], resources=[f"{bucket_arn}/{CONFIG_PREFIX}/AWSLogs/{stack.account}/Config/*"],
            conditions={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}})]
        via_s3 = {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}
        if archive_key_arn is not None:
            statements.append(iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[archive_key_arn],
                conditions={"StringEquals": via_s3}))
        else:
            if archive_account is None or archive_key_alias is None:
                raise ValueError("ConfigRecorder needs archive_key_arn, or archive_account and archive_key_alias")
            statements.append(iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[f"arn:{stack.partition}:kms:{stack.region}:{archive_account}:key/*"],
                conditions={"StringEquals": via_s3,
                            "ForAnyValue:StringEquals": {"kms:ResourceAliases": [archive_key_alias]}}))
        for statement in statements:
            self.role.add_to_policy(statement)
        acknowledge(self.role, "config-recorder-role")
        acknowledge_resolved_wildcards(
            self.role, statements,
            "the recorder writes only below its own account's prefix of the log archive (AWS Config names the "
            "objects), and uses the archive's key, which lives in the governance account and is named by its "
            "alias (kms:ResourceAliases), only through S3 (kms:ViaService)")
        self.recorder = config.CfnConfigurationRecorder(
            self, "Recorder", role_arn=self.role.role_arn,
            recording_group=config.CfnConfigurationRecorder.RecordingGroupProperty(
                all_supported=True, include_global_resource_types=True))
        self.channel = config.CfnDeliveryChannel(
            self, "DeliveryChannel", s3_bucket_name=archive_bucket, s3_key_prefix=CONFIG_PREFIX,
            config_snapshot_delivery_properties=config.CfnDeliveryChannel.ConfigSnapshotDeliveryPropertiesProperty(
                delivery_frequency="TwentyFour_Hours"))
        self.channel.node.add_dependency(self.recorder)
        self.rules = []
        for identifier in MANAGED_RULES:
            rule = config.ManagedRule(self, identifier.title().replace("_", ""), identifier=identifier,
                                      config_rule_name=_rule_name(identifier))
            rule.node.add_dependency(self.recorder)
            self.rules.append(rule)
