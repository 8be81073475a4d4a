"""Every cdk-nag acknowledgment of the project, with its reason, in one reviewable place.

Constructs call ``acknowledge(scope, "key", ...)`` with keys from ``ACKNOWLEDGMENTS``; nothing
else in the code base calls ``Validations.of(...).acknowledge``. A reviewer reads this file
to see every accepted finding and why. Unknown keys fail at synth.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


@dataclass(frozen=True)
class Accepted:
    rules: tuple[str, ...]
    reason: str


ACKNOWLEDGMENTS: dict[str, Accepted] = {
    "access-log-bucket-sse-s3": Accepted(
        ("AwsSolutions-S3", "HIPAA.Security-S3DefaultEncryptionKMS", "NIST.800.53.R5-S3DefaultEncryptionKMS"),
        "S3 server access logging can only deliver to buckets encrypted with SSE-S3 (AES256), not "
        "SSE-KMS; the bucket holds request logs, no business data, and is still TLS-only, "
        "VPC-endpoint-only and private.",
    ),
    "access-log-bucket-no-own-logs": Accepted(
        ("AwsSolutions-S1", "HIPAA.Security-S3BucketLoggingEnabled", "NIST.800.53.R5-S3BucketLoggingEnabled"),
        "This is the access-log bucket itself; logging it into itself would loop. Access to it "
        "is recorded by CloudTrail data events at the organisation level.",
    ),
    "bucket-replication": Accepted(
        ("HIPAA.Security-S3BucketReplicationEnabled", "NIST.800.53.R5-S3BucketReplicationEnabled"),
        "Cross-region replication would copy regulated data out of the region chosen for data "
        "residency; recovery relies on versioning, retention on delete and AWS Backup plans "
        "owned by the organisation.",
    ),
    "scoped-inline-policy": Accepted(
        ("HIPAA.Security-IAMNoInlinePolicy", "NIST.800.53.R5-IAMNoInlinePolicy"),
        "CDK generates this policy for exactly one role and scopes it to the resources the role "
        "serves (for flow logs: one log group). An inline policy lives and dies with its role "
        "and cannot be attached to any other principal, which is stricter than a managed policy.",
    ),
}


def acknowledge(scope: IConstruct, *keys: str) -> None:
    """Acknowledge the cdk-nag rules registered under ``keys`` on ``scope`` and its children."""
    for key in keys:
        accepted = ACKNOWLEDGMENTS[key]
        Validations.of(scope).acknowledge(
            *[Acknowledgment(id=rule, reason=accepted.reason) for rule in accepted.rules]
        )
