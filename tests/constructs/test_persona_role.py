"""PersonaRole: a named role with its generated managed policy, a permission boundary, MFA or a
federation principal, and the tags it is given."""

from __future__ import annotations

import pytest
from aws_cdk import aws_iam as iam

from fmops_constructs.persona import PersonaRole
from tests.constructs.bare import ACCOUNT, ORG, TEAM, app_names, bare_stack, resources, template

STATEMENTS = [{"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::{TEAM}-*/*"}]
TAGS = {f"{ORG}:team": TEAM, f"{ORG}:persona": "analyst"}
FEDERATION = f"arn:aws:iam::{ACCOUNT}:role/sso-analyst"


@pytest.fixture(scope="module")
def synthesized():
    stack = bare_stack()
    boundary = iam.ManagedPolicy.from_managed_policy_name(stack, "Boundary", f"{ORG}-{TEAM}-ceiling")
    PersonaRole(stack, "Analyst", role_name=f"{ORG}-{TEAM}-analyst", persona="analyst", description="x" * 1200,
                policy_description="analyst of kite", statements=STATEMENTS, boundary=boundary, tags=TAGS)
    PersonaRole(stack, "Federated", role_name=f"{ORG}-{TEAM}-federated", persona="federated", description="f",
                policy_description="federated", statements=STATEMENTS, boundary=boundary, principal_arn=FEDERATION)
    return template(stack)


def _role(template, name):
    [found] = [r["Properties"] for r in resources(template, "AWS::IAM::Role").values()
               if r["Properties"]["RoleName"] == name]
    return found


def test_named_role_with_its_policy_and_the_boundary(synthesized):
    role = _role(synthesized, f"{ORG}-{TEAM}-analyst")
    assert len(role["Description"]) == 1000
    assert role["PermissionsBoundary"]["Fn::Join"][1][-1] == f":iam::{ACCOUNT}:policy/{ORG}-{TEAM}-ceiling"
    [policy] = [p["Properties"] for p in resources(synthesized, "AWS::IAM::ManagedPolicy").values()
                if p["Properties"]["ManagedPolicyName"] == f"{ORG}-{TEAM}-analyst"]
    assert policy["Description"] == "analyst of kite"
    assert policy["PolicyDocument"]["Statement"] == [{**STATEMENTS[0], "Action": "s3:GetObject"}]
    assert len(role["ManagedPolicyArns"]) == 1


def test_default_trust_is_the_account_with_mfa(synthesized):
    [trust] = _role(synthesized, f"{ORG}-{TEAM}-analyst")["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert trust["Principal"]["AWS"]["Fn::Join"][1][-1] == f":iam::{ACCOUNT}:root"


def test_principal_arn_replaces_the_account(synthesized):
    [trust] = _role(synthesized, f"{ORG}-{TEAM}-federated")["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": FEDERATION} and "Condition" not in trust


def test_tags_are_the_given_ones_only(synthesized):
    assert {t["Key"]: t["Value"] for t in _role(synthesized, f"{ORG}-{TEAM}-analyst")["Tags"]} == TAGS
    assert "Tags" not in _role(synthesized, f"{ORG}-{TEAM}-federated")


def test_carries_no_app_names(synthesized):
    assert app_names(synthesized) == []
