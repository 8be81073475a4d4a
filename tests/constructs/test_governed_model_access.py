"""GovernedModelAccess and the Bedrock endpoint policies: invoke only the allowed models, only
with the guardrail's published version, and only principals of the organisation at the VPC edge."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam

from fmops_constructs.bedrock import (GUARDRAIL_CONDITION_KEY, INVOKE_ACTIONS, BedrockModel, GovernedModelAccess,
                                      restrict_bedrock_endpoints)
from fmops_constructs.endpoint_policy import Perimeter
from fmops_constructs.guardrail import Guardrail
from fmops_constructs.kms import EncryptionKey
from tests.constructs.bare import ACCOUNT, ORG, REGION, TEAM, app_names, bare_stack, resources, template

NOVA = BedrockModel("amazon.nova-pro-v1:0")
CLAUDE = BedrockModel("anthropic.claude-3-5-sonnet-20240620-v1:0", geography="eu")


@pytest.fixture(scope="module")
def built():
    stack = bare_stack()
    key = EncryptionKey(stack, "Key", alias="alias/guardrail", description="guardrail")
    guardrail = Guardrail(stack, "Guardrail", name=f"{ORG}-{TEAM}", encryption_key=key)
    access = GovernedModelAccess(models=[NOVA, CLAUDE], guardrail=guardrail)
    role = iam.Role(stack, "App", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    grant = access.grant_invoke(role)
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=[f"{REGION}a"],
                                      isolated_subnet_ids=["subnet-01234567"])
    endpoints = {name: vpc.add_interface_endpoint(name.replace("-", ""), service=ec2.InterfaceVpcEndpointService(
        f"com.amazonaws.{REGION}.{name}", 443), open=False) for name in ("bedrock", "bedrock-runtime")}
    restrict_bedrock_endpoints(endpoints, perimeter=Perimeter.of([ACCOUNT]), models=[NOVA])
    return access, grant, template(stack)


def _statements(template):
    [policy] = resources(template, "AWS::IAM::Policy").values()
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_model_arns_in_region_and_across_the_geography(built):
    access, _, _ = built
    assert NOVA.arn_patterns("aws", REGION, ACCOUNT) == [f"arn:aws:bedrock:{REGION}::foundation-model/{NOVA.model_id}"]
    assert CLAUDE.invoke_id == f"eu.{CLAUDE.model_id}"
    assert CLAUDE.arn_patterns("aws", REGION, ACCOUNT) == [
        f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/eu.{CLAUDE.model_id}",
        f"arn:aws:bedrock:eu-*::foundation-model/{CLAUDE.model_id}"]
    assert len(access.model_arns) == 3


def test_grant_allows_with_the_published_version_and_denies_without(built):
    _, grant, synthesized = built
    assert grant.success
    allow, deny, apply, decrypt = _statements(synthesized)
    assert allow["Effect"] == "Allow" and allow["Action"] == list(INVOKE_ACTIONS)
    assert deny["Effect"] == "Deny" and deny["Action"] == list(INVOKE_ACTIONS)
    assert "StringEquals" in allow["Condition"] and GUARDRAIL_CONDITION_KEY in allow["Condition"]["StringEquals"]
    assert GUARDRAIL_CONDITION_KEY in deny["Condition"]["StringNotEquals"]
    assert apply["Action"] == "bedrock:ApplyGuardrail"
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": f"bedrock.{REGION}.amazonaws.com"}}


def test_needs_a_model():
    with pytest.raises(ValueError, match="at least one model"):
        GovernedModelAccess(models=[], guardrail=None)  # type: ignore[arg-type]


def test_endpoints_admit_the_organisation_and_the_runtime_only_the_models(built):
    _, _, synthesized = built
    policies = {e["Properties"]["ServiceName"].rsplit(".", 1)[1]: e["Properties"]["PolicyDocument"]["Statement"]
                for e in resources(synthesized, "AWS::EC2::VPCEndpoint").values()}
    organisation = {"StringEquals": {"aws:PrincipalAccount": [ACCOUNT]}}
    assert [(s["Sid"], s["Condition"]) for s in policies["bedrock"]] == [("OrganisationPrincipalsOnly", organisation)]
    runtime = {s["Sid"]: s for s in policies["bedrock-runtime"]}
    assert set(runtime) == {"OrganisationInvokesAllowedModels", "OrganisationAppliesOwnGuardrails"}
    assert runtime["OrganisationInvokesAllowedModels"]["Condition"] == organisation


def test_carries_no_app_names(built):
    assert app_names(built[2]) == []


def test_with_profiles_the_models_are_allowed_only_through_them():
    """Each profile copies its model (in-Region: the foundation model; cross-Region: the system
    profile); the models are allowed only with bedrock:InferenceProfileArn one of the profiles."""
    from fmops_constructs.bedrock import PROFILE_CONDITION_KEY, TeamInferenceProfile

    stack = bare_stack()
    key = EncryptionKey(stack, "Key", alias="alias/guardrail", description="guardrail")
    guardrail = Guardrail(stack, "Guardrail", name=f"{ORG}-{TEAM}", encryption_key=key)
    profiles = [TeamInferenceProfile(stack, f"Profile{i}", name=f"{TEAM}-{model.slug}", model=model,
                                     tags={f"{ORG}:team": TEAM}) for i, model in enumerate((NOVA, CLAUDE))]
    access = GovernedModelAccess(models=[NOVA, CLAUDE], guardrail=guardrail, profiles=profiles)
    role = iam.Role(stack, "App", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    access.grant_invoke(role)
    synthesized = template(stack)
    copied = sorted(json.dumps(r["Properties"]["ModelSource"]["CopyFrom"])
                    for r in resources(synthesized, "AWS::Bedrock::ApplicationInferenceProfile").values())
    assert f":bedrock:{REGION}:{ACCOUNT}:inference-profile/eu.{CLAUDE.model_id}" in copied[0] + copied[1]
    assert f":bedrock:{REGION}::foundation-model/{NOVA.model_id}" in copied[0] + copied[1]
    refs = [{"Fn::GetAtt": [logical_id, "InferenceProfileArn"]}
            for logical_id in resources(synthesized, "AWS::Bedrock::ApplicationInferenceProfile")]
    invoke = [s for s in _statements(synthesized) if s["Action"] == list(INVOKE_ACTIONS)]
    on_models = [s for s in invoke if s["Effect"] == "Allow" and "ArnEquals" in s.get("Condition", {})]
    [direct] = [s for s in invoke if s["Effect"] == "Deny" and "ArnNotEquals" in s["Condition"]]
    assert on_models and all(sorted(map(str, s["Condition"]["ArnEquals"][PROFILE_CONDITION_KEY])) ==
                             sorted(map(str, refs)) for s in on_models)
    assert sorted(map(str, direct["Condition"]["ArnNotEquals"][PROFILE_CONDITION_KEY])) == sorted(map(str, refs))
    assert not any(":application-inference-profile/" in str(r) for s in on_models for r in s["Resource"])
    assert all(GUARDRAIL_CONDITION_KEY in str(s["Condition"]) for s in invoke if s["Effect"] == "Allow")
