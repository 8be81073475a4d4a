"""ModelInvocationLogging: every Bedrock invocation of the account logged to an encrypted,
retained log group and a VPC-endpoint-only bucket, configured by a custom resource in the VPC."""

from __future__ import annotations

import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3

from fmops_constructs.invocation_logging import LARGE_PAYLOAD_PREFIX, S3_PREFIX, ModelInvocationLogging
from tests.constructs.bare import ACCOUNT, ORG, REGION, app_names, bare_stack, only, resources, statement, template

GROUP = f"/{ORG}/bedrock/invocations"


@pytest.fixture(scope="module")
def built():
    stack = bare_stack()
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=[f"{REGION}a"],
                                      isolated_subnet_ids=["subnet-01234567"])
    logging = ModelInvocationLogging(
        stack, "InvocationLogging", vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        access_logs=s3.Bucket.from_bucket_name(stack, "AccessLogs", f"{ORG}-logs"),
        vpc_endpoint_ids=["vpce-0123456789abcdef0"], log_group_name=GROUP, retention_days=731,
        key_alias=f"alias/{ORG}/bedrock-logs")
    return logging, template(stack)


def test_logs_text_image_embeddings_and_video_to_both_destinations(built):
    logging, _ = built
    config = logging.logging_config()
    assert config["s3Config"]["keyPrefix"] == S3_PREFIX
    assert config["cloudWatchConfig"]["largeDataDeliveryS3Config"]["keyPrefix"] == LARGE_PAYLOAD_PREFIX
    assert all(config[f"{kind}DataDeliveryEnabled"] for kind in ("text", "image", "embedding", "video"))


def test_log_groups_encrypted_and_retained(built):
    groups = {g["Properties"]["LogGroupName"]: g for g in resources(built[1], "AWS::Logs::LogGroup").values()}
    assert set(groups) == {GROUP, f"{GROUP}-handler"}
    assert all(g["Properties"]["RetentionInDays"] == 731 and g["DeletionPolicy"] == "Retain" for g in groups.values())


def test_bedrock_of_this_account_may_write_the_bucket_and_use_the_key(built):
    [bucket_policy] = resources(built[1], "AWS::S3::BucketPolicy").values()
    write = statement(bucket_policy["Properties"]["PolicyDocument"], "BedrockWritesInvocationLogs")
    assert write["Principal"] == {"Service": "bedrock.amazonaws.com"} and write["Action"] == "s3:PutObject"
    assert write["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    key = only(built[1], "AWS::KMS::Key")["KeyPolicy"]
    assert statement(key, "BedrockWritesEncryptedInvocationLogs")["Action"] == "kms:GenerateDataKey"
    assert statement(key, "CloudWatchLogsForThisAccount")


def test_configured_by_a_custom_resource_after_its_destinations(built):
    [configuration] = [r for r in built[1]["Resources"].values() if r["Type"] == "Custom::BedrockModelInvocationLogging"]
    assert len(configuration["DependsOn"]) >= 4
    [function] = resources(built[1], "AWS::Lambda::Function").values()
    assert function["Properties"]["VpcConfig"]["SubnetIds"] == ["subnet-01234567"]
    [group] = [g["Properties"] for g in resources(built[1], "AWS::EC2::SecurityGroup").values()]
    assert [(e["FromPort"], e["CidrIp"]) for e in group["SecurityGroupEgress"]] == [(443, "0.0.0.0/0")]


def test_carries_no_app_names(built):
    assert app_names(built[1]) == []
