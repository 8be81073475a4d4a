"""Every accepted cdk-nag and checkov finding of the project, with its reason, in one place.

Constructs call ``acknowledge(scope, "key", ...)`` with keys from ``ACKNOWLEDGMENTS``; nothing
else in the code base calls ``Validations.of(...).acknowledge`` or writes checkov skips. A
reviewer reads this file to see every accepted finding and why. cdk-nag rules are acknowledged
on the scope (CDK's Validations API); checkov checks are skipped on each CloudFormation
resource below the scope through its ``Metadata.checkov.skip`` entry, with the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct


@dataclass(frozen=True)
class Accepted:
    rules: tuple[str, ...]
    reason: str
    checkov: tuple[str, ...] = ()


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
        checkov=("CKV_AWS_18",),
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
    "access-logs-granted-by-log-bucket": Accepted(
        ("@aws-cdk/aws-s3:accessLogsPolicyNotAdded",),
        "CDK cannot edit the policy of a log bucket imported from another stack; the account's "
        "access-log bucket (AccessLogBucket) already admits logging.s3.amazonaws.com for every "
        "bucket of its own account (aws:SourceAccount), so the delivery permission exists.",
    ),
    "explicit-availability-zones": Accepted(
        ("CloudFormation-Validate::W3010",),
        "The AZs come from the organisation config on purpose: synth needs no credentials or "
        "context lookups, and the VPC spans exactly the zones the platform team chose (the "
        "AZ names map to the same zone IDs only within one account, which is the VPC's own).",
    ),
    "cloudformation-provider-lambda": Accepted(
        (),
        "CDK's custom-resource provider handler runs only when CloudFormation creates, updates or "
        "deletes its resource: CloudFormation is the caller and retries, and a failure fails the "
        "stack operation visibly, so a dead-letter queue would hold nothing and a reserved "
        "concurrency would only take capacity from the account's workloads.",
        checkov=("CKV_AWS_115", "CKV_AWS_116"),
    ),
}


def acknowledge(scope: IConstruct, *keys: str) -> None:
    """Acknowledge the cdk-nag rules registered under ``keys`` on ``scope`` and its children."""
    for key in keys:
        accepted = ACKNOWLEDGMENTS[key]
        if accepted.rules:
            Validations.of(scope).acknowledge(
                *[Acknowledgment(id=rule, reason=accepted.reason) for rule in accepted.rules]
            )
        if accepted.checkov:
            for resource in _cfn_resources(scope):
                _skip_checkov(resource, accepted)


def _cfn_resources(scope: IConstruct) -> list[CfnResource]:
    return [node for node in scope.node.find_all() if isinstance(node, CfnResource)]


def _skip_checkov(resource: CfnResource, accepted: Accepted) -> None:
    metadata = resource.get_metadata("checkov") or {"skip": []}
    metadata["skip"] = metadata["skip"] + [{"id": check, "comment": accepted.reason} for check in accepted.checkov]
    resource.add_metadata("checkov", metadata)
