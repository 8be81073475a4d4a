"""A project's model registry and its manual gates.

The project's pipeline registers every model that passes its evaluation as ``PendingManualApproval``
in the project's model package group. Approving it (``sagemaker:UpdateModelPackage``, the
``approve-model`` capability of the persona matrix: lead data scientists) is the first manual
gate. Approvals and rejections are published to the team's topic (its alarm topic, which the
team's subscribers receive). Where the team has a next stage (dev -> preprod -> prod), the team's catalog stack copies each approved model into the next
account, where it is registered in the group of the same name, again pending manual approval
(:mod:`fmops_constructs.model_promotion`): no model moves on, and none is deployed there, without
a person in that account approving it.
"""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from fmops_constructs.product import Grant, ProjectProductStack

MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"
# What a project pipeline registers with: a constant, not a pipeline parameter, so that whoever runs
# the pipeline cannot register a model already approved (approving is UpdateModelPackage, the
# approve-model capability) and thereby skip the gate that also starts its promotion.
PENDING_APPROVAL = "PendingManualApproval"


class ProjectModelRegistry(Construct):
    """The model package group ``<team>-<project>`` and the approval notifications."""

    def __init__(self, scope: Construct, construct_id: str, *, stack: ProjectProductStack, topic: sns.ITopic,
                 description: str) -> None:
        super().__init__(scope, construct_id)
        self.group = sagemaker.CfnModelPackageGroup(
            self, "Group", model_package_group_name=stack.resource_name(), model_package_group_description=description)
        self.group_name = self.group.model_package_group_name
        pattern = events.EventPattern(
            source=["aws.sagemaker"], detail_type=[MODEL_PACKAGE_STATE_CHANGE],
            detail={"ModelPackageGroupName": [self.group_name], "ModelApprovalStatus": ["Approved", "Rejected"]})
        decided = events.Rule(self, "Decisions", rule_name=stack.resource_name("decided"), event_pattern=pattern,
                              description="Approvals and rejections of the project's model packages")
        decided.add_target(targets.SnsTopic(topic))

    @staticmethod
    def pipeline_grant(stack: ProjectProductStack) -> Grant:
        """What a pipeline needs to register model packages in the group (and tag them)."""
        arn = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
        group = stack.name_template()
        return Grant(("sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage",
                      "sagemaker:DescribeModelPackageGroup", "sagemaker:AddTags"),
                     (f"{arn}:model-package-group/{group}", f"{arn}:model-package/{group}/*"))
