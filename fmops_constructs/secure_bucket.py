"""S3 buckets that can only be reached over TLS, through the VPC's S3 endpoint."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge
from fmops_constructs.kms import EncryptionKey

def deny_outside_vpc_endpoint(bucket: s3.IBucket, vpc_endpoint_ids: list[str],
                              except_principals: Sequence[str] = ()) -> None:
    """Deny every S3 call on the bucket that does not come through one of ``vpc_endpoint_ids``.

    This is AWS's data-perimeter pattern, with three carve-outs for callers that never come
    through a VPC: AWS service principals (log delivery), AWS services acting with the caller's
    credentials (``aws:ViaAWSService``), and CloudFormation (``aws:CalledVia``), so stack updates
    can still manage the bucket. Stolen credentials used from the internet are refused, for
    reads and for policy changes alike.

    ``except_principals`` (role ARNs or ``ArnLike`` patterns) are also admitted from outside the
    endpoint: for services that act with a role of their own and do not run in a VPC, such as
    CodePipeline and the CloudFormation actions of a cross-account pipeline. A bucket that uses
    it says why in its internet-free exemption.
    """
    conditions: dict = {
        "StringNotEquals": {"aws:SourceVpce": vpc_endpoint_ids},
        "BoolIfExists": {"aws:PrincipalIsAWSService": "false", "aws:ViaAWSService": "false"},
        "ForAllValues:StringNotEquals": {"aws:CalledVia": ["cloudformation.amazonaws.com"]},
    }
    if except_principals:
        conditions["ArnNotLike"] = {"aws:PrincipalArn": list(except_principals)}
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid="DenyOutsideVpcEndpoint",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["s3:*"],
            resources=[bucket.bucket_arn, bucket.arn_for_objects("*")],
            conditions=conditions,
        )
    )


class AccessLogBucket(s3.Bucket):
    """Target of S3 server access logs for the account's buckets.

    S3 server access logging writes only to buckets encrypted with SSE-S3, so this bucket
    cannot use KMS; it holds no business data, only request logs. TLS 1.2+ only, reachable only
    through ``vpc_endpoint_ids`` (see :func:`deny_outside_vpc_endpoint`), versioned, public access
    blocked, retained; ``logging.s3.amazonaws.com`` may write the logs of ``source_account``'s
    buckets, including those of other stacks, which cannot grant this themselves.

    The bucket lives at ``<construct_id>/Bucket`` in the construct tree (see
    :class:`SecureBucket`).

    :param vpc_endpoint_ids: the S3 endpoints requests must come through.
    :param source_account: the account whose buckets log here.
    :param bucket_name: the bucket's name. Default: a name CloudFormation generates.
    :param expiration: how long logs are kept. Default: 365 days.
    """

    def __init__(self, scope: Construct, construct_id: str, *, vpc_endpoint_ids: list[str], source_account: str,
                 bucket_name: str | None = None, expiration: Duration = Duration.days(365)) -> None:
        super().__init__(
            Construct(scope, construct_id),
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(expiration=expiration, noncurrent_version_expiration=Duration.days(30))],
        )
        # A bucket policy statement: CDK's grant_put to a service principal has no aws:SourceAccount
        # condition and more actions.
        self.add_to_resource_policy(iam.PolicyStatement(
            sid="S3ServerAccessLogsFromThisAccount",
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[self.arn_for_objects("*")],
            conditions={"StringEquals": {"aws:SourceAccount": source_account}},
        ))
        deny_outside_vpc_endpoint(self, vpc_endpoint_ids)
        acknowledge(self, "access-log-bucket-sse-s3", "access-log-bucket-no-own-logs", "bucket-replication",
                    "access-log-bucket-no-object-lock", "no-object-event-consumer")


class SecureBucket(s3.Bucket):
    """An S3 bucket for team data or artifacts: SSE-KMS with a bucket key, TLS 1.2+ only,
    reachable only through the given VPC endpoints (and by the ``admit_outside_vpc`` principals
    from anywhere, see :func:`deny_outside_vpc_endpoint`), versioned, public access blocked,
    server access logs to the account's log bucket, retained when the stack or team is removed.

    It is an ``s3.Bucket``: grant access with its ``grant_*`` methods (``grant_read``,
    ``grant_put``...), which add to the grantee's identity policy and, for principals of other
    accounts, to this bucket's policy.

    The bucket lives at ``<construct_id>/Bucket`` in the construct tree (a scope named
    ``construct_id`` holds it), the path of the first version of this construct, so the logical
    ids of deployed buckets stay the same.

    :param encryption_key: the bucket's KMS key; an :class:`~fmops_constructs.kms.EncryptionKey`
        admits S3 for this bucket (:meth:`~fmops_constructs.kms.EncryptionKey.allow_s3`).
    :param access_logs: the account's server access log bucket.
    :param vpc_endpoint_ids: the S3 endpoints requests must come through.
    :param log_prefix: the key prefix of this bucket's access logs (``<log_prefix>/``).
    :param bucket_name: the bucket's name. Default: a name CloudFormation generates.
    :param admit_outside_vpc: role ARNs (or ``ArnLike`` patterns) also admitted from outside the
        endpoints. Default: none.
    :param object_events: send the bucket's object events to EventBridge (something starts on
        them). Default: off.
    """

    def __init__(self, scope: Construct, construct_id: str, *, encryption_key: kms.IKey,
                 access_logs: s3.IBucket, vpc_endpoint_ids: list[str], log_prefix: str,
                 bucket_name: str | None = None, admit_outside_vpc: Sequence[str] = (),
                 object_events: bool = False) -> None:
        super().__init__(
            Construct(scope, construct_id),
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"{log_prefix}/",
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(90),
                                              abort_incomplete_multipart_upload_after=Duration.days(7))],
        )
        deny_outside_vpc_endpoint(self, vpc_endpoint_ids, admit_outside_vpc)
        acknowledge(self, "bucket-replication")
        if isinstance(encryption_key, EncryptionKey):  # the key admits S3 for this bucket's objects
            encryption_key.allow_s3(bucket_name)
        acknowledge(self, "erasable-data-no-object-lock")
        if object_events:
            self.node.default_child.add_property_override(  # type: ignore[union-attr]
                "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True)
        else:
            acknowledge(self, "no-object-event-consumer")
        if not isinstance(access_logs, s3.Bucket):
            acknowledge(self, "access-logs-granted-by-log-bucket")
