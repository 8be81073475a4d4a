"""A project's access to the team's Bedrock models: through the project's own application
inference profile (its Bedrock spend, tagged with the team, cost centre and project) and only
with the team guardrail's published version."""

from __future__ import annotations

from aws_cdk import CfnParameter, Fn
from aws_cdk import aws_iam as iam
from constructs import Construct

from fmops_constructs.bedrock import GUARDRAIL_CONDITION_KEY, TeamInferenceProfile, invoke_statements, model_arns
from fmops_constructs.product.props import PlatformValue
from fmops_constructs.product.stack import ProjectProductStack


class TeamGuardrailAccess(Construct):
    """Invoke and converse on the team's first Bedrock model through the project's application
    inference profile, only with the team's guardrail (created by its GenAI stack, its ARN read
    from the catalog's SSM parameters) at the version the GenAI stack published.

    That version has one source, the SSM parameter the GenAI stack writes
    (``props.guardrail_version_parameter``): the policy pins the value it holds when the project
    is provisioned or updated (a CloudFormation parameter of type
    ``AWS::SSM::Parameter::Value<String>``), and the project's code reads the same parameter when
    it starts (:attr:`version_parameter_name`, with ``ssm:GetParameter`` granted by
    :meth:`policy_statements`). A version published outside the stack is neither allowed nor used;
    when the platform changes the team guardrail, update the provisioned projects so that their
    policy follows.

    The model is allowed only through the project's profile (``bedrock:InferenceProfileArn``), so
    every call is billed to a tagged profile: :attr:`profile_arn` is the ``modelId`` to pass.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stack: ProjectProductStack) -> None:
        super().__init__(scope, construct_id)
        props = stack.props
        if not props.bedrock_models:
            raise ValueError("TeamGuardrailAccess needs a Bedrock model of the team")
        if not props.guardrail_version_parameter:
            raise ValueError("TeamGuardrailAccess needs props.guardrail_version_parameter (the GenAI stack's "
                             "SSM parameter of the guardrail version)")
        self.guardrail_arn = stack.platform_string(PlatformValue.GUARDRAIL_ARN)
        self.key_arn = stack.platform_string(PlatformValue.GUARDRAIL_KEY_ARN)
        self.version_parameter_name = props.guardrail_version_parameter
        self.version = CfnParameter(
            stack, "GuardrailVersion", type="AWS::SSM::Parameter::Value<String>",
            default=props.guardrail_version_parameter,
            description="Published version of the team guardrail (SSM parameter written by the team's GenAI stack)",
        ).value_as_string
        self._models = props.bedrock_models[:1]
        self.profile = TeamInferenceProfile(
            self, "InferenceProfile", name=stack.resource_name("fm"), model=self._models[0],
            tags={props.project_tag: stack.project_name},
            description=f"Bedrock spend of the project on {self._models[0].invoke_id}")
        self.profile_arn: str = self.profile.profile_arn
        self._parameter_arn = Fn.sub(
            f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{props.guardrail_version_parameter}")

    @property
    def versioned_guardrail(self) -> str:
        """``<guardrail ARN>:<published version>``, as ``bedrock:GuardrailIdentifier`` carries it."""
        return Fn.join(":", [self.guardrail_arn, self.version])

    def policy_statements(self) -> list[iam.PolicyStatement]:
        required = self.versioned_guardrail
        return [
            *invoke_statements(model_arns(self, self._models), [self.profile_arn],
                               {"StringEquals": {GUARDRAIL_CONDITION_KEY: required}},
                               {"StringNotEquals": {GUARDRAIL_CONDITION_KEY: required}}),
            iam.PolicyStatement(actions=["bedrock:ApplyGuardrail"], resources=[self.guardrail_arn]),
            iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[self._parameter_arn]),
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[self.key_arn], conditions={
                "StringEquals": {"kms:ViaService": Fn.sub("bedrock.${AWS::Region}.amazonaws.com")}}),
        ]
