"""ProjectRole: a service role whose one managed policy is made of Fn::Sub grants, every wildcard
acknowledged with the role's reason; more grants and policies can be added."""

from __future__ import annotations

import pytest
from aws_cdk import aws_iam as iam

from fmops_constructs.product import Grant, ProjectProductStack, ProjectRole, network_interface_grants
from tests.constructs.bare import (ORG, PROJECT_ID_DESCRIPTION, TEAM, acknowledged, app_names, bare_stack, product_props,
                                   product_template, resources)


class Demo(ProjectProductStack):
    def __init__(self, scope, construct_id, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        bucket = f"arn:${{AWS::Partition}}:s3:::{self.team_bucket_template}"
        self.worker = ProjectRole(
            self, "Worker", service="sagemaker.amazonaws.com", description="worker of the project",
            grants=[Grant(("s3:GetObject",), (f"{bucket}/{self.project_prefix}*",)), *network_interface_grants()],
            why="the project's prefix of the team bucket")
        self.worker.add_grants(Grant(("kms:Decrypt",), (self.project_key.key_arn,)))
        self.worker.add_policy("Extra", [iam.PolicyStatement(actions=["bedrock:ApplyGuardrail"], resources=["*"])],
                               "extra statements")


@pytest.fixture(scope="module")
def built():
    product = Demo(bare_stack(), "Product", props=product_props(), description="demo")
    return product, product_template(product)


def _policy(template, description):
    [found] = [p for p in resources(template, "AWS::IAM::ManagedPolicy").values()
               if p["Properties"]["Description"] == description]
    return found


def test_role_of_one_service(built):
    [role] = resources(built[1], "AWS::IAM::Role").values()
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "sagemaker.amazonaws.com"}
    assert role["Properties"]["Description"] == "worker of the project"


def test_grants_are_fn_sub_statements_of_one_policy(built):
    statements = _policy(built[1], "worker of the project")["Properties"]["PolicyDocument"]["Statement"]
    assert statements[0]["Resource"] == {
        "Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{ORG}-{TEAM}-lake-${{AWS::AccountId}}-${{AWS::Region}}/"
                   "projects/${SageMakerProjectName}/*"}
    writes = statements[1]
    assert writes["Condition"] == {"StringEquals": {"aws:RequestedRegion": {"Fn::Sub": "${AWS::Region}"}}}
    assert statements[-1] == {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": {"Ref": "PlatformProjectKeyArn"}}


def test_wildcards_are_acknowledged_one_by_one_with_the_reason(built):
    findings = acknowledged(built[0].worker.policy)
    assert set(findings) == {
        "AwsSolutions-IAM5[Resource::*]",
        f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{ORG}-{TEAM}-lake-<AWS::AccountId>-<AWS::Region>/"
        "projects/<SageMakerProjectName>/*]"}
    assert all(reason.endswith("the project's prefix of the team bucket") for reason in findings.values())


def test_added_policies_are_the_roles(built):
    product, synthesized = built
    assert len(product.worker.policies) == 2
    extra = _policy(synthesized, "extra statements")["Properties"]
    assert extra["Roles"] == [{"Ref": next(k for k in synthesized["Resources"] if k.startswith("WorkerRole"))}]


def test_carries_no_app_names(built):
    assert app_names(built[1]) == [PROJECT_ID_DESCRIPTION]
