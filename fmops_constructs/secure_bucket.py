"""S3 buckets that can only be reached over TLS, through the VPC's S3 endpoint."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge

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


class AccessLogBucket(Construct):
    """Target of S3 server access logs for the account's buckets.

    S3 server access logging writes only to buckets encrypted with SSE-S3, so this bucket
    cannot use KMS; it holds no business data, only request logs.
    """

    def __init__(self, scope: Construct, construct_id: str, *, vpc_endpoint_ids: list[str], source_account: str,
                 expiration: Duration = Duration.days(365)) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(expiration=expiration, noncurrent_version_expiration=Duration.days(30))],
        )
        # Buckets in other stacks of the account log here; they cannot grant this themselves.
        self.bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="S3ServerAccessLogsFromThisAccount",
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[self.bucket.arn_for_objects("*")],
            conditions={"StringEquals": {"aws:SourceAccount": source_account}},
        ))
        deny_outside_vpc_endpoint(self.bucket, vpc_endpoint_ids)
        acknowledge(self.bucket, "access-log-bucket-sse-s3", "access-log-bucket-no-own-logs", "bucket-replication")


class SecureBucket(Construct):
    """An S3 bucket for team data or artifacts: SSE-KMS with a bucket key, TLS 1.2+ only,
    reachable only through the given VPC endpoints (and by the ``admit_outside_vpc`` principals
    from anywhere, see :func:`deny_outside_vpc_endpoint`), versioned, public access blocked,
    server access logs to the account's log bucket, retained when the stack or team is removed.
    """

    def __init__(self, scope: Construct, construct_id: str, *, encryption_key: kms.IKey,
                 access_logs: s3.IBucket, vpc_endpoint_ids: list[str], log_prefix: str,
                 bucket_name: str | None = None, admit_outside_vpc: Sequence[str] = ()) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
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
        deny_outside_vpc_endpoint(self.bucket, vpc_endpoint_ids, admit_outside_vpc)
        acknowledge(self.bucket, "bucket-replication")
        if not isinstance(access_logs, s3.Bucket):
            acknowledge(self.bucket, "access-logs-granted-by-log-bucket")

    def grant_read_write(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.bucket.grant_read_write(grantee)

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.bucket.grant_read(grantee)
