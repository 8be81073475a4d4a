"""PermissionBoundary: a customer-managed policy of a given name and document, its wildcards
acknowledged as a service ceiling."""

from __future__ import annotations

import pytest

from fmops_constructs.persona import PermissionBoundary
from tests.constructs.bare import ORG, TEAM, app_names, bare_stack, only, template

NAME = f"{ORG}-{TEAM}-ceiling"
DOCUMENT = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Ceiling", "Effect": "Allow", "Action": ["s3:*", "sagemaker:*"], "Resource": "*"},
    {"Sid": "KeepMe", "Effect": "Deny", "Action": ["iam:DeletePolicy"],
     "Resource": f"arn:aws:iam::123456789012:policy/{NAME}"}]}


@pytest.fixture(scope="module")
def built():
    stack = bare_stack()
    boundary = PermissionBoundary(stack, "Boundary", name=NAME, document=DOCUMENT)
    return boundary, template(stack)


def test_policy_has_the_given_name_and_document(built):
    properties = only(built[1], "AWS::IAM::ManagedPolicy")
    assert properties["ManagedPolicyName"] == NAME
    ceiling, keep = properties["PolicyDocument"]["Statement"]
    assert ceiling == DOCUMENT["Statement"][0]
    assert keep == {**DOCUMENT["Statement"][1], "Action": "iam:DeletePolicy"}  # CDK writes one action as a string


def test_ceiling_findings_are_acknowledged(built):
    [policy] = [r for r in built[1]["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"]
    skipped = {s["id"] for s in policy["Metadata"]["checkov"]["skip"]}
    assert {"CKV_AWS_107", "CKV_AWS_111"} <= skipped


def test_exposes_the_policy(built):
    boundary, _ = built
    assert boundary.policy.node.path == "Bare/Boundary/Policy"


def test_carries_no_app_names(built):
    assert app_names(built[1]) == []
