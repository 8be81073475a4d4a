"""Customer-managed KMS key with rotation, retention and a key policy scoped to the services that use it."""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import ArnFormat, Duration, IStableListProducer, Lazy, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")

ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey",
    "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations",
    "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RevokeGrant", "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
"""What administering a key takes (CloudFormation creating, updating, tagging, rotating and
scheduling the deletion of it), and nothing that touches data: no Encrypt, Decrypt,
GenerateDataKey or ReEncrypt, and no CreateGrant (a grant is a way to decrypt). CDK's default
(``kms:*``) and its ``grantAdmin`` list (``kms:Create*`` includes CreateGrant) both would."""

USE_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
               "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:RetireGrant")
"""The cryptographic actions the account's principals may make, through an AWS service only."""

S3_CONTEXT = "kms:EncryptionContext:aws:s3:arn"


def via(service: str, region: str) -> str:
    """The ``kms:ViaService`` value of ``service`` (``s3``, ``sagemaker``...) in ``region``."""
    return f"{service}.{region}.amazonaws.com"


@jsii.implements(IStableListProducer)
class _Arns:
    """The S3 encryption contexts the key admits, filled as buckets are added (resolved at synth)."""

    def __init__(self, partition: str) -> None:
        self.partition = partition
        self.items: list[str] = []
        self.any_bucket = False

    def produce(self, *_args) -> list[str]:
        return [f"arn:{self.partition}:s3:::*"] if self.any_bucket else list(self.items)


class EncryptionKey(kms.Key):
    """A KMS key for one purpose (``logs``, ``data``...): rotated, retained on delete, with an alias,
    and a key policy that admits the account's own principals only through the AWS services that
    use the key.

    The key policy, statement by statement:

    - ``KeyAdministration``: the account (``arn:aws:iam::<account>:root``, that is whoever IAM
      allows, such as the CDK deploy role CloudFormation uses) may administer the key:
      :data:`ADMIN_ACTIONS`, no cryptographic action, no CreateGrant. Without it the key could not
      be updated or deleted by anyone (KMS's lockout check refuses such a policy).
    - ``DenyGrantsOutsideAwsServices``: nobody creates a grant unless an AWS service does it
      (``aws:PrincipalIsAWSService``) or the grant is for an AWS resource
      (``kms:GrantIsForAWSResource``), Control Tower's proactive control CT.KMS.PR.3.
    - ``ThisAccountThroughServices``: the account's principals may use the key (:data:`USE_ACTIONS`)
      only when one of ``services`` makes the call for them (``kms:ViaService``) and only as
      callers of this account (``kms:CallerAccount``); ``ThisAccountGrantsForServices`` lets those
      services create grants for their resources (``kms:GrantIsForAWSResource``), as SageMaker,
      EFS, EBS, Lambda and ECR do. A principal calling KMS directly (``aws kms decrypt``) is refused
      whatever its IAM policy says.
    - ``ThisAccountThroughS3`` (:meth:`allow_s3`): the same through S3, and only for the named
      buckets (the ``aws:s3:arn`` encryption context S3 sets: the bucket's ARN with an S3 Bucket
      Key, an object's ARN without); a bucket whose name CloudFormation generates cannot be
      named in advance, and makes it any bucket (the caller still of this account; from the VPC
      the S3 endpoint reaches only the account's own buckets).
    - narrower statements for AWS service principals, each limited by encryption context or
      source ARN: :meth:`grant_logs`, and whatever the owner adds with ``add_to_resource_policy``.

    CDK's grants (``grant_decrypt``...) to roles of the same account still write the role's IAM
    policy only; those permissions take effect through the services above.

    The key lives at ``<construct_id>/Key`` in the construct tree (a scope named
    ``construct_id`` holds it), the path of the first version of this construct, so the logical
    ids of deployed keys stay the same.

    :param alias: the key's alias, ``alias/<name>``.
    :param description: what the key protects.
    :param services: the AWS services (``kms:ViaService`` names: ``sagemaker``, ``sns``...) through
        which the account's principals use the key; S3 is added per bucket with :meth:`allow_s3`,
        or listed here (any bucket of the account) when the buckets are not known to this stack.
        Default: none (only service principals such as CloudWatch Logs use the key).
    :param rotation_period: how often KMS rotates the key material. Default: 365 days.
    :param pending_window: the waiting period before a scheduled deletion. Default: 30 days.
    :param removal_policy: what happens to the key when it leaves the stack. Default: retained.
    """

    def __init__(self, scope: Construct, construct_id: str, *, alias: str, description: str,
                 services: Sequence[str] = (),
                 rotation_period: Duration = Duration.days(365), pending_window: Duration = Duration.days(30),
                 removal_policy: RemovalPolicy = RemovalPolicy.RETAIN) -> None:
        account = iam.AccountRootPrincipal()
        super().__init__(
            Construct(scope, construct_id), "Key",
            alias=alias,
            description=description,
            enable_key_rotation=True,
            rotation_period=rotation_period,
            pending_window=pending_window,
            removal_policy=removal_policy,
            policy=iam.PolicyDocument(statements=[
                iam.PolicyStatement(sid="KeyAdministration", principals=[account], actions=list(ADMIN_ACTIONS),
                                    resources=["*"]),
                # Control Tower CT.KMS.PR.3: only AWS services, for AWS resources, create grants.
                iam.PolicyStatement(sid="DenyGrantsOutsideAwsServices", effect=iam.Effect.DENY,
                                    principals=[iam.AnyPrincipal()], actions=["kms:CreateGrant"], resources=["*"],
                                    conditions={"BoolIfExists": {"kms:GrantIsForAWSResource": "false",
                                                                 "aws:PrincipalIsAWSService": "false"}}),
            ]),
        )
        stack = Stack.of(self)
        self._s3_contexts: _Arns | None = None
        self._any_bucket = "s3" in services
        if services:
            through = {"kms:CallerAccount": stack.account,
                       "kms:ViaService": sorted(via(service, stack.region) for service in set(services))}
            self.add_to_resource_policy(iam.PolicyStatement(
                sid="ThisAccountThroughServices", principals=[account], actions=list(USE_ACTIONS),
                resources=["*"], conditions={"StringEquals": through}))
            self.add_to_resource_policy(iam.PolicyStatement(
                sid="ThisAccountGrantsForServices", principals=[account], actions=["kms:CreateGrant"],
                resources=["*"], conditions={"StringEquals": through, "Bool": {"kms:GrantIsForAWSResource": "true"}}))

    def allow_s3(self, bucket_name: str | None) -> None:
        """Let the account's principals use the key through S3 for the objects of the bucket named
        ``bucket_name`` (``ThisAccountThroughS3``: ``kms:ViaService`` S3, ``kms:CallerAccount`` and
        the ``aws:s3:arn`` encryption context, bucket or object ARN); buckets of one key share one
        statement. ``None`` (a bucket CloudFormation names): any bucket.

        The bucket is named, never referenced: the bucket refers to its key, so a reference back
        from the key policy would be a circular dependency CloudFormation refuses. Nothing to add
        when ``services`` lists S3 (any bucket of the account)."""
        if self._any_bucket:
            return
        if self._s3_contexts is None:
            stack = Stack.of(self)
            self._s3_contexts = _Arns(stack.partition)
            self.add_to_resource_policy(iam.PolicyStatement(
                sid="ThisAccountThroughS3", principals=[iam.AccountRootPrincipal()], actions=list(USE_ACTIONS),
                resources=["*"],
                conditions={"StringEquals": {"kms:CallerAccount": stack.account, "kms:ViaService": via("s3", stack.region)},
                            "ArnLike": {S3_CONTEXT: Lazy.list(self._s3_contexts)}}))
        if bucket_name is None:
            self._s3_contexts.any_bucket = True
        else:
            arn = f"arn:{Stack.of(self).partition}:s3:::{bucket_name}"
            self._s3_contexts.items += [arn, f"{arn}/*"]

    def grant_logs(self, log_group_prefix: str, *,
                   sid: str = "CloudWatchLogsForThisAccount") -> iam.AddToResourcePolicyResult:
        """Let CloudWatch Logs of this Region use the key, only for the log groups of this account
        named ``log_group_prefix*`` (``kms:EncryptionContext:aws:logs:arn``).

        A key-policy statement ``sid`` (CDK's ``Key.grant`` would write neither a Sid nor the
        encryption-context condition).
        """
        stack = Stack.of(self)
        return self.add_to_resource_policy(iam.PolicyStatement(
            sid=sid,
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=list(LOGS_KEY_ACTIONS),
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                service="logs", resource="log-group", resource_name=f"{log_group_prefix}*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME)}},
        ))
