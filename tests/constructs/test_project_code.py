"""ProjectCode: the project's code as a zip in S3: the seed bundle (s3), or a CodeCommit or
CodeConnections repository copied into a private artifact bucket by a pipeline."""

from __future__ import annotations

import pytest

from fmops_constructs.aspects import INTERNET_FREE_EXEMPT
from fmops_constructs.product import ProjectProductStack, SourceSpec
from fmops_constructs.project_code import CODE_OBJECT, EXTERNAL_SOURCE_METADATA, ProjectCode
from tests.constructs.bare import (ORG, PROJECT_ID_DESCRIPTION, TEAM, app_names, bare_stack, only, product_props,
                                   product_template, resources, statement)

CONNECTION = "arn:aws:codeconnections:eu-west-1:123456789012:connection/abc"


class Demo(ProjectProductStack):
    def __init__(self, scope, construct_id, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.code = ProjectCode(self, "Code", stack=self)
        self.dead_letter_topic()  # a resource for the s3 kind, which creates none


def _built(source: SourceSpec):
    product = Demo(bare_stack(), "Product", props=product_props(source=source), description="demo")
    return product, product_template(product)


@pytest.fixture(scope="module")
def seed():
    return _built(SourceSpec())


@pytest.fixture(scope="module")
def codecommit():
    return _built(SourceSpec(kind="codecommit"))


@pytest.fixture(scope="module")
def connection():
    return _built(SourceSpec(kind="codeconnections", connection_arn=CONNECTION, accepted_because="a reviewed host"))


def test_s3_source_runs_the_seed_bundle_and_creates_nothing(seed):
    product, synthesized = seed
    assert product.code.code_objects == [product.SEED_OBJECT_ARN]
    assert not resources(synthesized, "AWS::S3::Bucket") and not resources(synthesized, "AWS::CodePipeline::Pipeline")


def test_codecommit_repository_seeded_and_encrypted(codecommit):
    repository = only(codecommit[1], "AWS::CodeCommit::Repository")
    assert repository["RepositoryName"] == {"Fn::Sub": f"{TEAM}-${{SageMakerProjectName}}-code"}
    assert repository["KmsKeyId"] == {"Ref": "PlatformProjectKeyArn"}
    assert repository["Code"]["S3"] == {"Bucket": {"Ref": "PlatformSeedBucket"}, "Key": {"Ref": "PlatformSeedKey"}}


def test_artifact_bucket_private_encrypted_logged_to_the_account_log_bucket(codecommit):
    product, synthesized = codecommit
    [bucket] = resources(synthesized, "AWS::S3::Bucket").values()
    properties = bucket["Properties"]
    assert properties["LoggingConfiguration"] == {
        "DestinationBucketName": {"Fn::Sub": f"{ORG}-request-logs-${{AWS::AccountId}}-${{AWS::Region}}"},
        "LogFilePrefix": "projects/"}
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
        "KMSMasterKeyID"] == {"Ref": "PlatformProjectKeyArn"}
    assert bucket["DeletionPolicy"] == "Retain" and INTERNET_FREE_EXEMPT in bucket["Metadata"]
    policy = only(synthesized, "AWS::S3::BucketPolicy")["PolicyDocument"]
    deny = statement(policy, "DenyOutsideVpcEndpointExceptThePipeline")
    assert deny["Condition"]["StringNotEquals"] == {"aws:SourceVpce": {"Ref": "PlatformS3EndpointId"}}
    assert len(deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]) == 2
    assert product.code.code_objects and CODE_OBJECT in str(synthesized)


def test_connection_source_records_the_accepted_host(connection):
    product, synthesized = connection
    [pipeline] = resources(synthesized, "AWS::CodePipeline::Pipeline").values()
    assert pipeline["Metadata"][EXTERNAL_SOURCE_METADATA] == {"connection": CONNECTION,
                                                               "accepted_because": "a reviewed host"}
    assert {"RepositoryId", "BranchName"} <= set(synthesized["Parameters"])


def test_carries_no_app_names(seed, codecommit, connection):
    for _, synthesized in (seed, codecommit, connection):
        assert app_names(synthesized) == [PROJECT_ID_DESCRIPTION]
