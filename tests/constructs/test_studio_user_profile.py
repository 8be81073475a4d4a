"""StudioUserProfile: a user profile with its own bounded execution role: own private spaces and
JupyterLab apps on allowed images, the domain key, and by ABAC the keys tagged like the role."""

from __future__ import annotations

import pytest
from aws_cdk import aws_iam as iam

from fmops_constructs.studio import StudioUserProfile
from tests.constructs.bare import ORG, TEAM, app_names, bare_stack, only, resources, statement, template
from tests.constructs.test_studio_domain import domain

TAGS = {f"{ORG}:team": TEAM, f"{ORG}:persona": "analyst"}


@pytest.fixture(scope="module")
def built():
    stack = bare_stack()
    studio = domain(stack)
    boundary = iam.ManagedPolicy.from_managed_policy_name(stack, "Boundary", f"{ORG}-{TEAM}-ceiling")
    profile = studio.add_user_profile("Analyst", profile_name=f"{TEAM}-analyst", permissions_boundary=boundary,
                                      key_tag=f"{ORG}:team", tags=TAGS, role_name=f"{ORG}-{TEAM}-analyst-studio")
    return profile, template(stack)


def _permissions(template):
    [policy] = [p["Properties"]["PolicyDocument"] for p in resources(template, "AWS::IAM::ManagedPolicy").values()
                if p["Properties"]["Description"].startswith("Studio permissions")]
    return policy


def test_profile_and_role_carry_the_given_tags(built):
    profile, synthesized = built
    assert isinstance(profile, StudioUserProfile)
    assert only(synthesized, "AWS::SageMaker::UserProfile")["UserProfileName"] == f"{TEAM}-analyst"
    [role] = [r["Properties"] for r in resources(synthesized, "AWS::IAM::Role").values()
              if r["Properties"].get("RoleName") == f"{ORG}-{TEAM}-analyst-studio"]
    assert {t["Key"]: t["Value"] for t in role["Tags"]} == TAGS
    assert role["PermissionsBoundary"]["Fn::Join"][1][-1].endswith(f":policy/{ORG}-{TEAM}-ceiling")


def test_keys_by_the_key_tag(built):
    keys = statement(_permissions(built[1]), "TeamKeysByTag")
    assert keys["Condition"] == {"StringEquals": {
        f"aws:ResourceTag/{ORG}:team": f"${{aws:PrincipalTag/{ORG}:team}}",
        "kms:ViaService": [{"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}, {"Fn::Sub": "sagemaker.${AWS::Region}.amazonaws.com"}]}}


def test_only_own_private_spaces_and_allowed_images(built):
    document = _permissions(built[1])
    assert statement(document, "OwnPrivateSpaces")["Condition"]["StringEquals"] == {
        "sagemaker:SpaceSharingType": "Private"}
    assert statement(document, "DenyOtherImages")["Effect"] == "Deny"
    assert statement(document, "PackageMirrorRead")["Action"] == "codeartifact:ReadFromRepository"


def test_the_key_tag_must_be_one_of_the_tags():
    stack = bare_stack()
    boundary = iam.ManagedPolicy.from_managed_policy_name(stack, "Boundary", "b")
    with pytest.raises(ValueError, match="must be one of its tags"):
        domain(stack).add_user_profile("P", profile_name="p", permissions_boundary=boundary, key_tag="team", tags={})


def test_carries_no_app_names(built):
    assert app_names(built[1]) == []
