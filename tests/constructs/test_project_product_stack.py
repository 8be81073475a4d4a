"""ProjectProductStack: the SageMaker project parameters, platform values from SSM below the given
prefix, the given boundary and path on every role, the project and given tags, names
``<team>-<project>-<suffix>``, and the product's log groups and topic."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_iam as iam

from fmops_constructs.product import (PROJECT_ID_PATTERN, PROJECT_NAME_PATTERN, Grant, PlatformValue,
                                      ProjectProductStack, ProjectRole)
from tests.constructs.bare import (ACCOUNT, ORG, PROJECT_ID_DESCRIPTION, REGION, TEAM, app_names, bare_stack,
                                   product_props, product_template, resources)


class Demo(ProjectProductStack):
    def __init__(self, scope, construct_id, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.choice("Size", type="String", default="small", description="a choice")
        self.platform(PlatformValue.VPC_ID)
        self.platform_list(PlatformValue.SUBNET_IDS)
        _ = self.seed_uri
        self.dead_letter_topic()
        self.log_group("Logs", "app")
        ProjectRole(self, "Worker", service="sagemaker.amazonaws.com", description="worker",
                    grants=[Grant(("s3:GetObject",), (f"arn:${{AWS::Partition}}:s3:::{self.team_bucket_template}/x",))],
                    why="a test")
        iam.Role(self, "Generated", assumed_by=iam.ServicePrincipal("events.amazonaws.com"))


@pytest.fixture(scope="module")
def built():
    product = Demo(bare_stack(), "Product", props=product_props(), description="demo")
    return product, product_template(product)


def test_sagemaker_project_parameters(built):
    parameters = built[1]["Parameters"]
    assert parameters["SageMakerProjectName"]["AllowedPattern"] == PROJECT_NAME_PATTERN
    assert parameters["SageMakerProjectId"]["AllowedPattern"] == PROJECT_ID_PATTERN


def test_platform_values_are_ssm_parameters_below_the_prefix(built):
    product, synthesized = built
    parameters = synthesized["Parameters"]
    assert parameters["PlatformVpcId"] == {
        "Type": "AWS::SSM::Parameter::Value<String>", "Default": f"/{ORG}/params/{TEAM}/vpc-id",
        "Description": "VPC of the account (internet-free) (SSM parameter written by the team's catalog stack)"}
    assert parameters["PlatformSubnetIds"]["Type"] == "AWS::SSM::Parameter::Value<List<String>>"
    assert parameters["PlatformSeedKey"]["Default"] == f"/{ORG}/params/{TEAM}/seeds/demo"
    assert product.platform_values == {PlatformValue.VPC_ID, PlatformValue.SUBNET_IDS, PlatformValue.SEED_BUCKET,
                                       PlatformValue.PROJECT_KEY_ARN,  # the topic's and log group's key
                                       PlatformValue.ALARM_TOPIC_ARN}  # the dead-letter alarm's target


def test_choices_first_platform_values_last(built):
    [project, platform] = built[1]["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    assert project["Parameters"] == ["SageMakerProjectName", "SageMakerProjectId", "Size"]
    assert set(platform["Parameters"]) == {"PlatformVpcId", "PlatformSubnetIds", "PlatformSeedBucket",
                                           "PlatformProjectKeyArn", "PlatformSeedKey", "PlatformAlarmTopicArn"}


def test_every_role_and_policy_has_the_boundary_and_the_path(built):
    _, synthesized = built
    roles = resources(synthesized, "AWS::IAM::Role").values()
    assert len(roles) == 2
    for role in roles:
        assert role["Properties"]["Path"] == f"/{ORG}/work/{TEAM}/"
        assert role["Properties"]["PermissionsBoundary"] == {
            "Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy/{ORG}-{TEAM}-ceiling"}
    assert all(p["Properties"]["Path"] == f"/{ORG}/work/{TEAM}/"
               for p in resources(synthesized, "AWS::IAM::ManagedPolicy").values())


def test_tags_are_the_project_and_the_given_ones(built):
    [topic] = resources(built[1], "AWS::SNS::Topic").values()
    tags = {t["Key"]: t["Value"] for t in topic["Properties"]["Tags"]}
    assert tags == {"sagemaker:project-name": {"Ref": "SageMakerProjectName"},
                    "sagemaker:project-id": {"Ref": "SageMakerProjectId"}, f"{ORG}:template": "demo"}


def test_names_of_the_products_resources(built):
    product, synthesized = built
    assert product.name_prefix == f"{TEAM}-"
    assert product.name_template("api") == f"{TEAM}-${{SageMakerProjectName}}-api"
    [topic] = resources(synthesized, "AWS::SNS::Topic").values()
    assert topic["Properties"]["TopicName"] == {"Fn::Sub": f"{TEAM}-${{SageMakerProjectName}}-events"}
    with pytest.raises(ValueError, match="longer than 8"):
        product.resource_name("waytoolong")
    assert product.model_package_tags == {f"{ORG}:team": TEAM, "sagemaker:project-name": product.project_name}


def test_bucket_names_are_the_props_for_the_launching_account(built):
    product, _ = built
    assert product.team_bucket_template == f"{ORG}-{TEAM}-lake-${{AWS::AccountId}}-${{AWS::Region}}"
    assert product.promoted_models_bucket_template == f"{ORG}-{TEAM}-arrivals-${{AWS::AccountId}}-${{AWS::Region}}"
    assert product.access_log_bucket_template == f"{ORG}-request-logs-${{AWS::AccountId}}-${{AWS::Region}}"
    assert product.project_prefix == "projects/${SageMakerProjectName}/"


def test_log_groups_below_the_prefix_encrypted_and_retained(built):
    [group] = resources(built[1], "AWS::Logs::LogGroup").values()
    assert group["Properties"]["LogGroupName"] == {
        "Fn::Sub": f"/{ORG}/logs/{TEAM}/projects/${{SageMakerProjectName}}/app"}
    assert group["Properties"]["KmsKeyId"] == {"Ref": "PlatformProjectKeyArn"}
    assert group["Properties"]["RetentionInDays"] == 120 and group["DeletionPolicy"] == "Retain"


def test_carries_no_app_names(built):
    """Only the parameter description that names the app's CLI (``fmops provision``), which
    launches products too."""
    assert app_names(built[1]) == [PROJECT_ID_DESCRIPTION]


def test_the_product_names_no_account_or_region(built):
    """Every account and Region of the team launches the same template."""
    text = json.dumps(built[1])
    assert ACCOUNT not in text and REGION not in text
