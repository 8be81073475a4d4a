"""Customer-managed KMS key with rotation, retention and a scoped key policy."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")


class EncryptionKey(kms.Key):
    """A KMS key for one purpose (``logs``, ``data``...): rotated, retained on delete, with an alias.

    The key policy is CDK's default (the account administers the key through IAM, no one else)
    plus narrow grants added with :meth:`grant_logs`, each limited by encryption context to
    log groups of this account. Use the key wherever CDK takes a ``kms.IKey``.

    The key lives at ``<construct_id>/Key`` in the construct tree (a scope named
    ``construct_id`` holds it), the path of the first version of this construct, so the logical
    ids of deployed keys stay the same.

    :param alias: the key's alias, ``alias/<name>``.
    :param description: what the key protects.
    :param rotation_period: how often KMS rotates the key material. Default: 365 days.
    :param pending_window: the waiting period before a scheduled deletion. Default: 30 days.
    :param removal_policy: what happens to the key when it leaves the stack. Default: retained.
    """

    def __init__(self, scope: Construct, construct_id: str, *, alias: str, description: str,
                 rotation_period: Duration = Duration.days(365), pending_window: Duration = Duration.days(30),
                 removal_policy: RemovalPolicy = RemovalPolicy.RETAIN) -> None:
        super().__init__(
            Construct(scope, construct_id), "Key",
            alias=alias,
            description=description,
            enable_key_rotation=True,
            rotation_period=rotation_period,
            pending_window=pending_window,
            removal_policy=removal_policy,
        )

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
