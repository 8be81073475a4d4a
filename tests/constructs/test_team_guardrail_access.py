"""TeamGuardrailAccess: the team's models only through any published version of its guardrail,
never without it or with DRAFT."""

from __future__ import annotations

import pytest

from fmops_constructs.bedrock import GUARDRAIL_CONDITION_KEY, BedrockModel
from fmops_constructs.product import Grant, ProjectProductStack, ProjectRole, TeamGuardrailAccess
from tests.constructs.bare import (PROJECT_ID_DESCRIPTION, app_names, bare_stack, product_props, product_template,
                                   resources)

MODEL = BedrockModel("amazon.nova-pro-v1:0")


class Demo(ProjectProductStack):
    def __init__(self, scope, construct_id, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        access = TeamGuardrailAccess(self, "Guardrail", stack=self)
        role = ProjectRole(self, "App", service="lambda.amazonaws.com", description="app", why="x",
                           grants=[Grant(("sns:Publish",), ("arn:${AWS::Partition}:sns:${AWS::Region}:x:y",))])
        role.add_policy("ModelAccess", access.policy_statements(), "models through the guardrail")


@pytest.fixture(scope="module")
def synthesized():
    product = Demo(bare_stack(), "Product", props=product_props(bedrock_models=(MODEL,)), description="demo")
    return product_template(product)


def test_published_versions_only(synthesized):
    [policy] = [p for p in resources(synthesized, "AWS::IAM::ManagedPolicy").values()
                if p["Properties"]["Description"] == "models through the guardrail"]
    allow, deny_without, deny_draft, guardrail, key = policy["Properties"]["PolicyDocument"]["Statement"]
    published = {"Fn::Join": [":", [{"Ref": "PlatformGuardrailArn"}, "*"]]}
    assert allow["Effect"] == "Allow" and allow["Condition"] == {"StringLike": {GUARDRAIL_CONDITION_KEY: published}}
    assert deny_without["Effect"] == "Deny" and deny_without["Condition"] == {
        "StringNotLike": {GUARDRAIL_CONDITION_KEY: published}}
    assert deny_draft["Condition"] == {"StringEquals": {GUARDRAIL_CONDITION_KEY: {
        "Fn::Join": [":", [{"Ref": "PlatformGuardrailArn"}, "DRAFT"]]}}}
    assert guardrail["Resource"] == {"Ref": "PlatformGuardrailArn"}
    assert key == {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": {"Ref": "PlatformGuardrailKeyArn"}}


def test_carries_no_app_names(synthesized):
    assert app_names(synthesized) == [PROJECT_ID_DESCRIPTION]
