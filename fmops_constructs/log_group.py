"""Log groups of the platform: KMS-encrypted, retained, kept for the configured number of days."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from fmops_constructs.acknowledge import acknowledge

CONTROL_TOWER_RETENTION_DAYS = 365
"""Control Tower's CT.CLOUDWATCH.PR.2: log groups kept for at least a year."""


def acknowledge_log_group(group: IConstruct, *, retention_days: int, key_in_template: bool) -> None:
    """The Control Tower acknowledgments a log group of the platform needs, and only those: a
    retention shorter than a year (the config's), a key from another stack or a parameter."""
    if retention_days < CONTROL_TOWER_RETENTION_DAYS:
        acknowledge(group, "log-retention-from-config")
    if not key_in_template:
        acknowledge(group, "control-tower-computed-value")


def retained_log_group(scope: Construct, construct_id: str, *, name: str, key: kms.IKey,
                       retention_days: int) -> logs.LogGroup:
    """A log group named ``name``, encrypted with ``key``, kept when its stack is deleted.

    The L2 takes a ``RetentionDays`` enum; config holds the day count CloudWatch accepts, so the
    retention is set on the L1 resource.
    """
    group = logs.LogGroup(scope, construct_id, log_group_name=name, encryption_key=key,
                          removal_policy=RemovalPolicy.RETAIN)
    group.node.default_child.retention_in_days = retention_days  # type: ignore[union-attr]
    acknowledge_log_group(group, retention_days=retention_days,
                          key_in_template=isinstance(key, kms.Key) and Stack.of(key) is Stack.of(group))
    return group
