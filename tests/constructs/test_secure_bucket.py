"""SecureBucket: an s3.Bucket with SSE-KMS, TLS 1.2+, VPC-endpoint-only access, versioning,
access logs and retention; its grants are the Bucket's own."""

from __future__ import annotations

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from fmops_constructs.kms import EncryptionKey
from fmops_constructs.secure_bucket import SecureBucket
from tests.constructs.bare import ORG, TEAM, app_names, bare_stack, resources, statement, template

ENDPOINT = "vpce-0123456789abcdef0"
PIPELINE = f"arn:aws:iam::123456789012:role/{ORG}/delivery/*"


@pytest.fixture(scope="module")
def built():
    stack = bare_stack()
    key = EncryptionKey(stack, "Key", alias="alias/lake", description="lake")
    logs = s3.Bucket.from_bucket_name(stack, "Logs", f"{ORG}-logs")
    named = SecureBucket(stack, "Lake", encryption_key=key, access_logs=logs, vpc_endpoint_ids=[ENDPOINT],
                         log_prefix=f"{TEAM}/lake", bucket_name=f"{ORG}-{TEAM}-lake")
    admitting = SecureBucket(stack, "Artifacts", encryption_key=key, access_logs=logs, vpc_endpoint_ids=[ENDPOINT],
                             log_prefix="artifacts", admit_outside_vpc=[PIPELINE])
    reader = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    grant = named.grant_read(reader)
    return named, admitting, grant, template(stack)


def _bucket(template, log_prefix):
    [found] = [b for b in resources(template, "AWS::S3::Bucket").values()
               if b["Properties"]["LoggingConfiguration"]["LogFilePrefix"] == log_prefix]
    return found


def _policy(template, bucket_logical_id):
    [found] = [p["Properties"]["PolicyDocument"] for p in resources(template, "AWS::S3::BucketPolicy").values()
               if p["Properties"]["Bucket"] == {"Ref": bucket_logical_id}]
    return found


def _logical_id(template, bucket):
    return next(k for k, v in template["Resources"].items() if v is bucket)


def test_is_a_bucket_at_the_path_of_its_first_version(built):
    named, _, _, _ = built
    assert isinstance(named, s3.Bucket)
    assert named.node.path == "Bare/Lake/Bucket"


def test_kms_with_bucket_key_private_versioned_logged_retained(built):
    synthesized = built[3]
    bucket = _bucket(synthesized, f"{TEAM}/lake/")
    properties = bucket["Properties"]
    assert properties["BucketName"] == f"{ORG}-{TEAM}-lake"
    [rule] = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][1] == "Arn"
    assert rule["BucketKeyEnabled"] is True
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert properties["LoggingConfiguration"]["DestinationBucketName"] == f"{ORG}-logs"
    [lifecycle] = properties["LifecycleConfiguration"]["Rules"]
    assert lifecycle["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert lifecycle["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert bucket["DeletionPolicy"] == "Retain"


def test_default_name_is_left_to_cloudformation(built):
    assert "BucketName" not in _bucket(built[3], "artifacts/")["Properties"]


def test_tls_only_and_only_through_the_endpoints(built):
    synthesized = built[3]
    policy = _policy(synthesized, _logical_id(synthesized, _bucket(synthesized, f"{TEAM}/lake/")))
    [tls] = [s for s in policy["Statement"] if s["Condition"].get("Bool") == {"aws:SecureTransport": "false"}]
    assert tls["Effect"] == "Deny"
    assert [s for s in policy["Statement"] if s["Condition"].get("NumericLessThan") == {"s3:TlsVersion": 1.2}]
    deny = statement(policy, "DenyOutsideVpcEndpoint")
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"} and deny["Action"] == "s3:*"
    assert deny["Condition"]["StringNotEquals"] == {"aws:SourceVpce": [ENDPOINT]}
    assert deny["Condition"]["BoolIfExists"] == {"aws:PrincipalIsAWSService": "false", "aws:ViaAWSService": "false"}
    assert deny["Condition"]["ForAllValues:StringNotEquals"] == {"aws:CalledVia": ["cloudformation.amazonaws.com"]}
    assert "ArnNotLike" not in deny["Condition"]


def test_admitted_principals_are_left_out_of_the_endpoint_deny(built):
    synthesized = built[3]
    policy = _policy(synthesized, _logical_id(synthesized, _bucket(synthesized, "artifacts/")))
    assert statement(policy, "DenyOutsideVpcEndpoint")["Condition"]["ArnNotLike"] == {"aws:PrincipalArn": [PIPELINE]}


def test_grants_are_the_buckets_own(built):
    _, _, grant, synthesized = built
    assert isinstance(grant, iam.Grant) and grant.success
    [policy] = resources(synthesized, "AWS::IAM::Policy").values()
    actions = {a for s in policy["Properties"]["PolicyDocument"]["Statement"] for a in s["Action"]}
    assert {"s3:GetObject*", "s3:List*", "kms:Decrypt"} <= actions


def test_carries_no_app_names(built):
    assert app_names(built[3]) == []
