"""A project's access to the team's Bedrock models, only through the team's guardrail."""

from __future__ import annotations

from aws_cdk import Fn
from aws_cdk import aws_iam as iam
from constructs import Construct

from fmops_constructs.bedrock import GUARDRAIL_CONDITION_KEY, INVOKE_ACTIONS, model_arns
from fmops_constructs.product.props import PlatformValue
from fmops_constructs.product.stack import ProjectProductStack


class TeamGuardrailAccess(Construct):
    """Invoke and converse on the team's Bedrock models, only through the team's guardrail (created
    by its GenAI stack, read from the catalog's SSM parameters), in any of its published versions.

    Unlike :class:`fmops_constructs.bedrock.GovernedModelAccess`, which pins one version, a
    project follows the team guardrail: its code asks Bedrock for the latest published version
    (``ListGuardrails``) and names it in every call. Pinning would need the version in the
    template, and the version changes whenever the platform changes the guardrail's policy. The
    DRAFT version is refused: it changes without a review.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stack: ProjectProductStack) -> None:
        super().__init__(scope, construct_id)
        self.guardrail_arn = stack.platform_string(PlatformValue.GUARDRAIL_ARN)
        self.key_arn = stack.platform_string(PlatformValue.GUARDRAIL_KEY_ARN)
        self._models = stack.props.bedrock_models

    def policy_statements(self) -> list[iam.PolicyStatement]:
        models = model_arns(self, self._models)
        published = Fn.join(":", [self.guardrail_arn, "*"])
        draft = Fn.join(":", [self.guardrail_arn, "DRAFT"])
        invoke = list(INVOKE_ACTIONS)
        return [
            iam.PolicyStatement(actions=invoke, resources=models,
                                conditions={"StringLike": {GUARDRAIL_CONDITION_KEY: published}}),
            iam.PolicyStatement(effect=iam.Effect.DENY, actions=invoke, resources=models,
                                conditions={"StringNotLike": {GUARDRAIL_CONDITION_KEY: published}}),
            iam.PolicyStatement(effect=iam.Effect.DENY, actions=invoke, resources=models,
                                conditions={"StringEquals": {GUARDRAIL_CONDITION_KEY: draft}}),
            iam.PolicyStatement(actions=["bedrock:ApplyGuardrail", "bedrock:GetGuardrail", "bedrock:ListGuardrails"],
                                resources=[self.guardrail_arn]),
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[self.key_arn]),
        ]
