"""TeamGuardrailAccess: the team's model only through the project's application inference
profile and only with the guardrail version the GenAI stack's SSM parameter holds; never
without the guardrail, with another version, DRAFT, or on the model directly."""

from __future__ import annotations

import pytest

from fmops_constructs.bedrock import GUARDRAIL_CONDITION_KEY, PROFILE_CONDITION_KEY, BedrockModel
from fmops_constructs.product import Grant, ProjectProductStack, ProjectRole, TeamGuardrailAccess
from tests.constructs.bare import (ORG, PROJECT_ID_DESCRIPTION, TEAM, app_names, bare_stack, product_props,
                                   product_template, resources)

MODEL = BedrockModel("amazon.nova-pro-v1:0")
VERSION_PARAMETER = f"/{ORG}/runtime/{TEAM}/guardrail-version"


class Demo(ProjectProductStack):
    def __init__(self, scope, construct_id, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        access = TeamGuardrailAccess(self, "Guardrail", stack=self)
        role = ProjectRole(self, "App", service="lambda.amazonaws.com", description="app", why="x",
                           grants=[Grant(("sns:Publish",), ("arn:${AWS::Partition}:sns:${AWS::Region}:x:y",))])
        role.add_policy("ModelAccess", access.policy_statements(), "models through the guardrail")


@pytest.fixture(scope="module")
def synthesized():
    props = product_props(bedrock_models=(MODEL,), guardrail_version_parameter=VERSION_PARAMETER,
                          project_tag=f"{ORG}:project")
    product = Demo(bare_stack(), "Product", props=props, description="demo")
    return product_template(product)


def test_the_version_parameter_is_the_ssm_parameter_of_the_genai_stack(synthesized):
    assert synthesized["Parameters"]["GuardrailVersion"]["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert synthesized["Parameters"]["GuardrailVersion"]["Default"] == VERSION_PARAMETER


def test_the_project_profile_is_tagged_with_the_project(synthesized):
    [(_, profile)] = resources(synthesized, "AWS::Bedrock::ApplicationInferenceProfile").items()
    tags = {t["Key"]: t["Value"] for t in profile["Properties"]["Tags"]}
    assert tags[f"{ORG}:project"] == {"Ref": "SageMakerProjectName"}
    assert "::foundation-model/amazon.nova-pro-v1:0" in str(profile["Properties"]["ModelSource"]["CopyFrom"])


def test_only_through_the_profile_with_the_published_version(synthesized):
    [(profile_id, _)] = resources(synthesized, "AWS::Bedrock::ApplicationInferenceProfile").items()
    profile = {"Fn::GetAtt": [profile_id, "InferenceProfileArn"]}
    [policy] = [p for p in resources(synthesized, "AWS::IAM::ManagedPolicy").values()
                if p["Properties"]["Description"] == "models through the guardrail"]
    on_profile, on_model, deny_unguarded, deny_direct, guardrail, parameter, key = \
        policy["Properties"]["PolicyDocument"]["Statement"]
    required = {"Fn::Join": [":", [{"Ref": "PlatformGuardrailArn"}, {"Ref": "GuardrailVersion"}]]}
    assert on_profile["Effect"] == "Allow" and on_profile["Resource"] == profile
    assert on_profile["Condition"] == {"StringEquals": {GUARDRAIL_CONDITION_KEY: required}}
    assert on_model["Effect"] == "Allow" and on_model["Condition"] == {
        "StringEquals": {GUARDRAIL_CONDITION_KEY: required}, "ArnEquals": {PROFILE_CONDITION_KEY: [profile]}}
    assert deny_unguarded["Effect"] == "Deny" and deny_unguarded["Condition"] == {
        "StringNotEquals": {GUARDRAIL_CONDITION_KEY: required}}
    assert profile in deny_unguarded["Resource"]
    assert deny_direct["Effect"] == "Deny" and deny_direct["Condition"] == {"ArnNotEquals": {PROFILE_CONDITION_KEY: [profile]}}
    assert deny_direct["Resource"] == on_model["Resource"]
    assert guardrail["Action"] == "bedrock:ApplyGuardrail" and guardrail["Resource"] == {"Ref": "PlatformGuardrailArn"}
    assert parameter["Action"] == "ssm:GetParameter" and VERSION_PARAMETER in str(parameter["Resource"])
    assert key["Action"] == "kms:Decrypt" and key["Resource"] == {"Ref": "PlatformGuardrailKeyArn"}
    assert "kms:ViaService" in key["Condition"]["StringEquals"]


def test_refuses_to_build_without_the_version_parameter():
    with pytest.raises(ValueError, match="guardrail_version_parameter"):
        Demo(bare_stack(), "Product", props=product_props(bedrock_models=(MODEL,)), description="demo")


def test_carries_no_app_names(synthesized):
    assert app_names(synthesized) == [PROJECT_ID_DESCRIPTION]
