"""Log groups of the platform: KMS-encrypted, retained, kept for the configured number of days."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct


def retained_log_group(scope: Construct, construct_id: str, *, name: str, key: kms.IKey,
                       retention_days: int) -> logs.LogGroup:
    """A log group named ``name``, encrypted with ``key``, kept when its stack is deleted.

    The L2 takes a ``RetentionDays`` enum; config holds the day count CloudWatch accepts, so the
    retention is set on the L1 resource.
    """
    group = logs.LogGroup(scope, construct_id, log_group_name=name, encryption_key=key,
                          removal_policy=RemovalPolicy.RETAIN)
    group.node.default_child.retention_in_days = retention_days  # type: ignore[union-attr]
    return group
