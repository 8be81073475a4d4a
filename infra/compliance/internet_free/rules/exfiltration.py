"""Data delivered outside the organisation: replication, subscriptions, event targets, log
subscriptions, stream and backup destinations in other accounts or foreign buckets.
"""

from __future__ import annotations

from infra.compliance.internet_free.identity import account_outside, arn_outside, bucket_outside, template_local
from infra.compliance.internet_free.intrinsics import MISSING, at, texts
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "resource"

# (resource type, path to a list or value, key below each element or None): destination ARNs.
_ARN_DESTINATIONS: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {
    "AWS::SNS::Subscription": (((), ("Endpoint",)),),
    "AWS::SNS::Topic": ((("Subscription",), ("Endpoint",)),),
    "AWS::Events::Rule": ((("Targets",), ("Arn",)),),
    "AWS::Logs::SubscriptionFilter": (((), ("DestinationArn",)),),
    "AWS::Pipes::Pipe": (((), ("Target",)),),
    "AWS::Scheduler::Schedule": (((), ("Target", "Arn")),),
    "AWS::Backup::BackupPlan": ((("BackupPlan", "BackupPlanRule"), ("CopyActions",)),),
    "AWS::Route53Resolver::ResolverQueryLoggingConfig": (((), ("DestinationArn",)),),
    "AWS::EC2::FlowLog": (((), ("LogDestination",)),),
    "AWS::CloudTrail::Trail": (((), ("CloudWatchLogsLogGroupArn",)),),
}
_BUCKETS: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {
    "AWS::S3::Bucket": (
        (("ReplicationConfiguration", "Rules"), ("Destination", "Bucket")),
        (("InventoryConfigurations",), ("Destination", "BucketArn")),
        (("AnalyticsConfigurations",), ("StorageClassAnalysis", "DataExport", "Destination", "BucketArn")),
        ((), ("LoggingConfiguration", "DestinationBucketName")),
    ),
    "AWS::KinesisFirehose::DeliveryStream": (
        ((), ("S3DestinationConfiguration", "BucketARN")),
        ((), ("ExtendedS3DestinationConfiguration", "BucketARN")),
    ),
    "AWS::CloudTrail::Trail": (((), ("S3BucketName",)),),
    "AWS::Config::DeliveryChannel": (((), ("S3BucketName",)),),
    "AWS::EC2::FlowLog": (((), ("LogDestination",)),),
}


def _values(s: Subject, outer: tuple[str, ...], inner: tuple[str, ...]) -> list[object]:
    elements = [item for item in s.flat(*outer) if isinstance(item, dict)] if outer else [s.props]
    found = []
    for element in elements:
        for value in at(element, s.template, *inner):
            if isinstance(value, list):
                found += value
            elif value is not MISSING:
                found.append(value)
    return found


@rule("IF-DATA-OUTSIDE-ORG", "Data delivered only inside the organisation", *sorted({*_ARN_DESTINATIONS, *_BUCKETS}))
def data_outside_org(s: Subject) -> list[str]:
    """Replication, inventory and log buckets, SNS subscriptions, EventBridge rule and Pipes or
    Scheduler targets, log subscription filters, backup copies, query and flow logs, trails and
    Firehose buckets whose destination is in an account outside the organisation, or a bucket not
    named for one of its accounts (S3 ARNs carry no account; see ``identity.bucket_outside``),
    send the organisation's data out. A replication rule's Destination.Account is judged too.
    SNS over http(s)/email/SMS is IF-NOTIFY-EXTERNAL (refused: it leaves AWS).

    Fix: deliver to resources of the organisation's accounts.
    """
    messages = []
    for outer, inner in _ARN_DESTINATIONS.get(s.type, ()):
        for value in _values(s, outer, inner):
            if isinstance(value, dict) and not template_local(value, s.template):
                value = value.get("DestinationBackupVaultArn", value)
            if template_local(value, s.template):
                continue
            for text in texts(value, s.template):
                if text.startswith("arn:") and ":s3:::" not in text and (reason := arn_outside(text, s.organisation)):
                    messages.append(f"{'.'.join(inner)}: {reason}")
    for outer, inner in _BUCKETS.get(s.type, ()):
        for value in _values(s, outer, inner):
            if s.type == "AWS::EC2::FlowLog" and not any(":s3:::" in t for t in texts(value, s.template)):
                continue
            messages += [f"{'.'.join(inner)}: {reason}" for reason in bucket_outside(value, s.template, s.organisation)]
    if s.type == "AWS::S3::Bucket":
        for value in _values(s, ("ReplicationConfiguration", "Rules"), ("Destination", "Account")):
            for text in texts(value, s.template):
                messages += [f"replication to {reason}"] if (reason := account_outside(text, s.organisation)) else []
    return messages
