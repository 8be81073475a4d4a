"""A project's model registry and its manual gates.

The project's pipeline registers every model that passes its evaluation as ``PendingManualApproval``
in the project's model package group. Approving it (``sagemaker:UpdateModelPackage``, the
``approve-model`` capability of the persona matrix: lead data scientists) is the first manual
gate. An approval or rejection is published to the project's topic and, where the team has a
next stage (dev -> preprod -> prod), forwarded to that account's default event bus, where the
team's catalog stack admits exactly these events from this account and notifies the team. The
next gates are deployments in those accounts by their launcher personas (the hosting and
classical-ml templates take the approved package): no model moves on without a person there.
"""

from __future__ import annotations

from aws_cdk import CfnCondition, Fn
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from fmops_constructs.project import Grant, PlatformValue, ProjectProductStack, ProjectRole

MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"


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
        self._forward(stack)

    @staticmethod
    def pipeline_grant(stack: ProjectProductStack) -> Grant:
        """What a pipeline needs to register model packages in the group (and tag them)."""
        arn = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
        group = f"{stack.props.team}-${{SageMakerProjectName}}"
        return Grant(("sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage",
                      "sagemaker:DescribeModelPackageGroup", "sagemaker:AddTags"),
                     (f"{arn}:model-package-group/{group}", f"{arn}:model-package/{group}/*"))

    def _forward(self, stack: ProjectProductStack) -> None:
        """Approvals go on to the next stage's account, when there is one."""
        account = stack.platform_string(PlatformValue.PROMOTION_ACCOUNT)
        has_next = CfnCondition(self, "HasNextStage", expression=Fn.condition_not(Fn.condition_equals(account, "none")))
        bus = "arn:${AWS::Partition}:events:${AWS::Region}:${PlatformPromotionAccount}:event-bus/default"
        role = ProjectRole(self, "Forwarder", service="events.amazonaws.com",
                           description="Forwards model approvals to the next stage's default event bus",
                           grants=[Grant(("events:PutEvents",), (bus,))], why="one event bus, the next stage's default")
        rule = events.CfnRule(
            self, "Forward", name=stack.resource_name("promote"),
            description="Approved model packages of the project, to the team's next-stage account",
            event_pattern={"source": ["aws.sagemaker"], "detail-type": [MODEL_PACKAGE_STATE_CHANGE],
                           "detail": {"ModelPackageGroupName": [self.group_name], "ModelApprovalStatus": ["Approved"]}},
            targets=[events.CfnRule.TargetProperty(id="NextStage", arn=Fn.sub(bus), role_arn=role.role_arn)])
        for node in (rule, role.role.node.default_child, role.policy.node.default_child):
            node.cfn_options.condition = has_next  # type: ignore[union-attr]
