"""ProjectModelRegistry: the project's model package group and a rule that tells the project's
topic of every approval and rejection."""

from __future__ import annotations

import pytest

from fmops_constructs.model_registry import MODEL_PACKAGE_STATE_CHANGE, ProjectModelRegistry
from fmops_constructs.product import ProjectProductStack
from tests.constructs.bare import (PROJECT_ID_DESCRIPTION, TEAM, app_names, bare_stack, only, product_props,
                                   product_template)


class Demo(ProjectProductStack):
    def __init__(self, scope, construct_id, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.registry = ProjectModelRegistry(self, "Registry", stack=self, topic=self.team_topic(),
                                             description="models of the project")


@pytest.fixture(scope="module")
def built():
    product = Demo(bare_stack(), "Product", props=product_props(), description="demo")
    return product, product_template(product)


def test_group_named_after_the_project(built):
    group = only(built[1], "AWS::SageMaker::ModelPackageGroup")
    assert group["ModelPackageGroupName"] == {"Fn::Sub": f"{TEAM}-${{SageMakerProjectName}}"}
    assert group["ModelPackageGroupDescription"] == "models of the project"


def test_decisions_go_to_the_topic(built):
    rule = only(built[1], "AWS::Events::Rule")
    assert rule["Name"] == {"Fn::Sub": f"{TEAM}-${{SageMakerProjectName}}-decided"}
    pattern = rule["EventPattern"]
    assert pattern["detail-type"] == [MODEL_PACKAGE_STATE_CHANGE]
    assert pattern["detail"]["ModelApprovalStatus"] == ["Approved", "Rejected"]
    assert rule["Targets"][0]["Arn"] == built[0].resolve(built[0].team_topic().topic_arn)  # the team's topic


def test_pipeline_grant_registers_in_the_group_only(built):
    product, _ = built
    grant = ProjectModelRegistry.pipeline_grant(product)
    assert "sagemaker:CreateModelPackage" in grant.actions
    assert all(f"/{TEAM}-${{SageMakerProjectName}}" in r for r in grant.resources)


def test_carries_no_app_names(built):
    assert app_names(built[1]) == [PROJECT_ID_DESCRIPTION]
