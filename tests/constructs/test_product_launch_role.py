"""ProductLaunchRole: a named Service Catalog role under the team's boundary whose generated
policy holds every service to the team's names, path, tag, prefixes and boundary."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fmops_constructs.launch_role import LaunchScope, ProductLaunchRole, launch_statements
from tests.constructs.bare import ACCOUNT, ORG, TEAM, app_names, bare_stack, resources, template

SCOPE = LaunchScope(team=TEAM, boundary_name=f"{ORG}-{TEAM}-ceiling", role_path=f"/{ORG}/work/{TEAM}/",
                    parameter_prefix=f"/{ORG}/params/{TEAM}", log_group_prefix=f"/{ORG}/logs/{TEAM}/",
                    team_tag=f"{ORG}:team")
TYPES = ["AWS::IAM::Role", "AWS::Lambda::Function", "AWS::Logs::LogGroup", "AWS::SageMaker::Pipeline",
         "AWS::KMS::Key", "AWS::SSM::Parameter"]


@pytest.fixture(scope="module")
def built():
    stack = bare_stack()
    role = ProductLaunchRole(stack, "LaunchRole", role_name=f"{ORG}-{TEAM}-launch", launch_scope=SCOPE)
    role.allow_resource_types(TYPES)
    return role, template(stack)


def _by_sid(statements):
    return {s["Sid"]: s for s in statements}


def test_named_service_catalog_role_under_the_boundary(built):
    [role] = resources(built[1], "AWS::IAM::Role").values()
    properties = role["Properties"]
    assert properties["RoleName"] == f"{ORG}-{TEAM}-launch"
    assert properties["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "servicecatalog.amazonaws.com"}
    assert properties["PermissionsBoundary"]["Fn::Join"][1][-1] == f":iam::{ACCOUNT}:policy/{ORG}-{TEAM}-ceiling"


def test_roles_only_with_the_boundary_under_the_path(built):
    statements = _by_sid(built[0].statements)
    create = statements["CreateRolesWithTheTeamBoundary"]
    assert create["Condition"] == {"StringEquals": {
        "iam:PermissionsBoundary": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy/{ORG}-{TEAM}-ceiling"}}
    assert create["Resource"] == [f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{ORG}/work/{TEAM}/*"]


def test_services_held_to_the_team_prefixes_and_tag(built):
    statements = _by_sid(built[0].statements)
    assert statements["ReadPlatformParameters"]["Resource"] == [
        f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{ORG}/params/{TEAM}/*"]
    assert f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:/{ORG}/logs/{TEAM}/*" in \
        statements["Logs"]["Resource"]
    assert statements["Lambda"]["Resource"] == [
        f"arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{TEAM}-*"]
    assert statements["SagemakerCreate"]["Condition"] == {"StringEquals": {f"aws:RequestTag/{ORG}:team": TEAM}}
    assert statements["KmsChange"]["Condition"] == {"StringEquals": {f"aws:ResourceTag/{ORG}:team": TEAM}}


def test_policy_is_generated_once(built):
    with pytest.raises(ValueError, match="already generated"):
        built[0].allow_resource_types(TYPES)


def test_a_service_without_a_scope_is_refused():
    with pytest.raises(ValueError, match="no scope for service"):
        launch_statements(SCOPE, ["AWS::DynamoDB::Table"])


def test_connections_only_with_a_connection_and_only_that_one():
    connection = "arn:aws:codeconnections:eu-west-1:123456789012:connection/abc"

    def connections(scope):
        return [s["Resource"] for s in launch_statements(scope, ["AWS::CodePipeline::Pipeline"])
                if "Connections" in s["Sid"]]
    assert connections(SCOPE) == []
    assert connections(replace(SCOPE, connection_arn=connection)) == [[connection]]


def test_carries_no_app_names(built):
    assert app_names(built[1]) == []
    assert not [s for s in built[0].statements if "fmops" in str(s)]
