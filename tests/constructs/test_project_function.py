"""ProjectFunction: a Python function from the seed bundle, in the VPC, with its log group below
the team's prefix, the project key, reserved concurrency and a dead-letter topic."""

from __future__ import annotations

import pytest

from fmops_constructs.product import PYTHON_RUNTIME, Grant, ProjectFunction, ProjectProductStack
from tests.constructs.bare import (ORG, PROJECT_ID_DESCRIPTION, TEAM, app_names, bare_stack, only, product_props,
                                   product_template, resources)


class Demo(ProjectProductStack):
    def __init__(self, scope, construct_id, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        topic = self.dead_letter_topic()
        self.function = ProjectFunction(
            self, "Api", stack=self, handler="handler.handler", name_suffix="api", description="the api",
            environment={"MODE": "test"}, grants=[Grant(("s3:PutObject",), ("arn:${AWS::Partition}:s3:::b/*",))],
            why="its own prefix", dead_letters=topic)


@pytest.fixture(scope="module")
def built():
    product = Demo(bare_stack(), "Product", props=product_props(), description="demo")
    return product, product_template(product)


def test_function_from_the_seed_bundle_in_the_vpc(built):
    function = only(built[1], "AWS::Lambda::Function")
    assert function["FunctionName"] == {"Fn::Sub": f"{TEAM}-${{SageMakerProjectName}}-api"}
    assert function["Runtime"] == PYTHON_RUNTIME and function["Handler"] == "handler.handler"
    assert function["Code"] == {"S3Bucket": {"Ref": "PlatformSeedBucket"}, "S3Key": {"Ref": "PlatformSeedKey"}}
    assert function["VpcConfig"] == {"SubnetIds": {"Ref": "PlatformSubnetIds"},
                                     "SecurityGroupIds": [{"Ref": "PlatformSecurityGroupId"}]}
    assert function["KmsKeyArn"] == {"Ref": "PlatformProjectKeyArn"}
    assert function["Environment"] == {"Variables": {"MODE": "test"}}


def test_defaults_timeout_memory_and_reserved_concurrency(built):
    function = only(built[1], "AWS::Lambda::Function")
    assert (function["Timeout"], function["MemorySize"], function["ReservedConcurrentExecutions"]) == (60, 512, 10)
    assert function["DeadLetterConfig"]["TargetArn"] == {"Ref": next(k for k in built[1]["Resources"]
                                                                     if k.startswith("Notifications"))}


def test_logs_below_the_team_prefix_and_only_its_own(built):
    [group] = resources(built[1], "AWS::Logs::LogGroup").values()
    name = f"/{ORG}/logs/{TEAM}/projects/${{SageMakerProjectName}}/lambda/api"
    assert group["Properties"]["LogGroupName"] == {"Fn::Sub": name}
    [policy] = resources(built[1], "AWS::IAM::ManagedPolicy").values()
    logs = policy["Properties"]["PolicyDocument"]["Statement"][0]
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
                                           f"{name}:*"}


def test_carries_no_app_names(built):
    assert app_names(built[1]) == [PROJECT_ID_DESCRIPTION]
