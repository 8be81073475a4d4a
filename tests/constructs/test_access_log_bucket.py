"""AccessLogBucket: SSE-S3 (the only encryption S3 server access logging delivers to), TLS only,
VPC-endpoint only, retained, written by S3's log delivery for one account's buckets."""

from __future__ import annotations

import pytest
from aws_cdk import Duration
from aws_cdk import aws_s3 as s3

from fmops_constructs.secure_bucket import AccessLogBucket
from tests.constructs.bare import ACCOUNT, ORG, app_names, bare_stack, only, statement, template

ENDPOINT = "vpce-0123456789abcdef0"


@pytest.fixture(scope="module")
def built():
    stack = bare_stack()
    bucket = AccessLogBucket(stack, "AccessLogs", vpc_endpoint_ids=[ENDPOINT], source_account=ACCOUNT,
                             bucket_name=f"{ORG}-request-logs")
    return bucket, template(stack)


@pytest.fixture(scope="module")
def unnamed():
    stack = bare_stack()
    AccessLogBucket(stack, "AccessLogs", vpc_endpoint_ids=[ENDPOINT], source_account=ACCOUNT,
                    expiration=Duration.days(30))
    return template(stack)


def test_is_a_bucket_at_the_path_of_its_first_version(built):
    bucket, _ = built
    assert isinstance(bucket, s3.Bucket) and bucket.node.path == "Bare/AccessLogs/Bucket"


def test_sse_s3_versioned_retained_and_kept_a_year_by_default(built):
    properties = only(built[1], "AWS::S3::Bucket")
    assert properties["BucketName"] == f"{ORG}-request-logs"
    [rule] = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    [lifecycle] = properties["LifecycleConfiguration"]["Rules"]
    assert lifecycle["ExpirationInDays"] == 365 and lifecycle["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    [bucket] = [r for r in built[1]["Resources"].values() if r["Type"] == "AWS::S3::Bucket"]
    assert bucket["DeletionPolicy"] == "Retain"


def test_name_and_expiration_are_props(unnamed):
    properties = only(unnamed, "AWS::S3::Bucket")
    assert "BucketName" not in properties
    assert properties["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 30


def test_log_delivery_of_the_source_account_only_through_the_endpoint(built):
    policy = only(built[1], "AWS::S3::BucketPolicy")["PolicyDocument"]
    delivery = statement(policy, "S3ServerAccessLogsFromThisAccount")
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"} and delivery["Action"] == "s3:PutObject"
    assert delivery["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert statement(policy, "DenyOutsideVpcEndpoint")["Condition"]["StringNotEquals"] == {
        "aws:SourceVpce": [ENDPOINT]}


def test_carries_no_app_names(built):
    assert app_names(built[1]) == []
