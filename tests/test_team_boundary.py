"""Every IAM role of a team's stacks carries the team's permission boundary (infra/app/aspects.py)."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Aspects, Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from infra.app.aspects import TeamBoundaryOnEveryRole
from infra.app.builder import new_app
from infra.config import load_config
from infra.plan import build_plan
from tests.conftest import REPO, resources

CONFIGS = {"default": REPO / "config" / "default.yaml", "single": REPO / "config" / "single-account.yaml"}


def _team_stacks(config_name: str) -> list[tuple[str, str]]:
    """(stack name, boundary name) of every team-scoped stack the plan creates."""
    plan = build_plan(load_config(CONFIGS[config_name]))
    return [(team.stack_name(*suffix), team.boundary_name)
            for account in plan.accounts for team in account.teams
            for suffix in ((), ("genai",), ("endpoints",), ("catalog",))]


def _boundary_text(template: dict, role: dict) -> str:
    """The role's boundary as text: a Ref to a policy of the same template is its ManagedPolicyName."""
    boundary = role["Properties"].get("PermissionsBoundary")
    if isinstance(boundary, dict) and list(boundary) == ["Ref"]:
        return template["Resources"][boundary["Ref"]]["Properties"]["ManagedPolicyName"]
    return json.dumps(boundary)


@pytest.mark.parametrize("config_name", CONFIGS)
def test_every_role_of_a_team_stack_has_the_team_boundary(config_name, request):
    templates = request.getfixturevalue(f"{config_name}_templates")
    checked = 0
    for stack, boundary in _team_stacks(config_name):
        if stack not in templates:
            continue  # a team without GenAI, endpoints or a catalog in this account
        template = templates[stack]
        for logical_id, role in resources(template, "AWS::IAM::Role").items():
            # The catalog's launch role carries the launch boundary, which requires this one on
            # every role it creates.
            expected = boundary.replace("-boundary", "-launch-boundary") \
                if str(role["Properties"].get("RoleName", "")).endswith("-catalog-launch") else boundary
            assert _boundary_text(template, role).endswith(expected) or \
                f"{expected}\"" in _boundary_text(template, role), (stack, logical_id)
            checked += 1
    assert checked > 10  # the persona roles alone are more


def test_the_aspect_bounds_unbounded_roles_and_keeps_set_boundaries():
    app = new_app()
    stack = Stack(app, "S", env=Environment(account="123456789012", region="eu-west-1"))
    iam.Role(stack, "Plain", assumed_by=iam.ServicePrincipal("application-autoscaling.amazonaws.com"))
    own = iam.ManagedPolicy.from_managed_policy_arn(stack, "Own", "arn:aws:iam::123456789012:policy/own")
    iam.Role(stack, "Bounded", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"), permissions_boundary=own)
    Aspects.of(stack).add(TeamBoundaryOnEveryRole("acme", "blue"))
    roles = Template.from_stack(stack).find_resources("AWS::IAM::Role")
    boundaries = {logical_id[:5]: role["Properties"]["PermissionsBoundary"] for logical_id, role in roles.items()}
    assert boundaries == {"Plain": "arn:aws:iam::123456789012:policy/acme-blue-boundary",
                          "Bound": "arn:aws:iam::123456789012:policy/own"}
