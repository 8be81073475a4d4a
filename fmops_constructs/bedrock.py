"""Governed Amazon Bedrock access: model ARNs, invoke permissions bound to a guardrail, and the
policies of the Bedrock VPC endpoints.

IAM authorizes the Converse API with ``bedrock:InvokeModel`` and ConverseStream with
``bedrock:InvokeModelWithResponseStream`` (there are no separate Converse actions), so the two
actions below cover InvokeModel, InvokeModelWithResponseStream, Converse and ConverseStream.
``bedrock:GuardrailIdentifier`` carries the guardrail ARN followed by ``:<version>`` of the
guardrail named in the request; the pattern used here (an Allow with ``StringEquals`` and a
Deny with ``StringNotEquals``, which also matches requests without a guardrail) is the one
the Bedrock user guide gives for enforcing a guardrail version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from fmops_constructs.acknowledge import acknowledge_resolved_wildcards
from fmops_constructs.endpoint_policy import Perimeter

from fmops_constructs.guardrail import Guardrail

INVOKE_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
GUARDRAIL_CONDITION_KEY = "bedrock:GuardrailIdentifier"
# Region-name prefix of each geography of Bedrock's system-defined cross-Region inference profiles.
GEOGRAPHY_REGION_PREFIX = {"us": "us-", "eu": "eu-", "apac": "ap-"}


@dataclass(frozen=True)
class BedrockModel:
    """A Bedrock foundation model, called in-Region or through a cross-Region inference profile.

    ``geography`` (``us``, ``eu``, ``apac``) selects the system-defined inference profile
    ``<geography>.<model_id>``; callers then pass that profile id as the model id.
    """

    model_id: str
    geography: str | None = None

    @property
    def invoke_id(self) -> str:
        """The id a caller passes as ``modelId``."""
        return f"{self.geography}.{self.model_id}" if self.geography else self.model_id

    def arns(self, scope: IConstruct) -> list[str]:
        """Every resource ARN an invocation of this model is authorized against.

        In-Region: the foundation model in the stack's Region. Through a profile: the profile in
        this account and Region, and the foundation model in the Regions of the geography, as one
        ARN whose Region is the geography's prefix (``eu-*``): the profile routes to any of them,
        including Regions AWS adds later, and one ARN instead of one per Region keeps the team's
        permission boundary under IAM's 6,144-character limit with several models.
        """
        stack = Stack.of(scope)
        return self.arn_patterns(stack.partition, stack.region, stack.account)

    def arn_patterns(self, partition: str, region: str, account: str) -> list[str]:
        """:meth:`arns` for explicit values; ``account="*"`` gives the patterns that match the
        profile in any account (for SCPs, which apply to many accounts)."""
        if self.geography is None:
            return [f"arn:{partition}:bedrock:{region}::foundation-model/{self.model_id}"]
        regions = GEOGRAPHY_REGION_PREFIX[self.geography] + "*"
        return [f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{self.invoke_id}",
                f"arn:{partition}:bedrock:{regions}::foundation-model/{self.model_id}"]


def model_arns(scope: IConstruct, models: Sequence[BedrockModel]) -> list[str]:
    """ARNs of all ``models``, without duplicates, in a stable order."""
    return list(dict.fromkeys(arn for model in models for arn in model.arns(scope)))


class GovernedModelAccess:
    """Invoke and converse on an allow-list of Bedrock models, only through one guardrail version.

    :param models: the models the grantee may call.
    :param guardrail: the guardrail every call must name (``guardrailIdentifier`` = its ARN,
        ``guardrailVersion`` = its published version).

    Give it to a role with :meth:`grant_invoke`, or put :meth:`policy_statements` into a
    managed policy or permission boundary. A principal should hold the access of one guardrail
    only: the Deny of one guardrail refuses calls that name another.
    """

    def __init__(self, *, models: Sequence[BedrockModel], guardrail: Guardrail) -> None:
        if not models:
            raise ValueError("GovernedModelAccess needs at least one model")
        self.models = tuple(models)
        self.guardrail = guardrail

    @property
    def model_arns(self) -> list[str]:
        return model_arns(self.guardrail, self.models)

    def policy_statements(self) -> list[iam.PolicyStatement]:
        """Allow invoke/converse on the models with the guardrail, deny it without, apply and
        decrypt the guardrail."""
        required = self.guardrail.versioned_arn
        return [
            iam.PolicyStatement(actions=list(INVOKE_ACTIONS), resources=self.model_arns,
                                conditions={"StringEquals": {GUARDRAIL_CONDITION_KEY: required}}),
            iam.PolicyStatement(effect=iam.Effect.DENY, actions=list(INVOKE_ACTIONS), resources=self.model_arns,
                                conditions={"StringNotEquals": {GUARDRAIL_CONDITION_KEY: required}}),
            iam.PolicyStatement(actions=["bedrock:ApplyGuardrail"], resources=[self.guardrail.guardrail_arn]),
            # Only for Bedrock reading the guardrail: the key may protect other data of the team.
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[self.guardrail.encryption_key.key_arn],
                                conditions={"StringEquals": {"kms:ViaService": f"bedrock.{Stack.of(self.guardrail).region}"
                                                                               ".amazonaws.com"}}),
        ]

    def acknowledge_wildcards(self, scope: IConstruct) -> None:
        """Acknowledge, on ``scope`` (where the statements land), the AwsSolutions-IAM5 finding of
        each cross-Region model's geography-wide foundation-model ARN."""
        acknowledge_resolved_wildcards(
            scope, self.policy_statements(),
            "a cross-Region inference profile routes to any Region of its geography, so the foundation "
            "model is allowed in the geography's Regions, for the allowed model ids only and only with "
            "the guardrail's published version")

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Add :meth:`policy_statements` to ``grantee``'s policy; return the combined grant."""
        grants = []
        if isinstance(grantee, Construct):
            self.acknowledge_wildcards(grantee)
        for statement in self.policy_statements():
            if statement.effect is iam.Effect.DENY:
                grantee.grant_principal.add_to_principal_policy(statement)
                continue
            grants.append(iam.Grant.add_to_principal(
                grantee=grantee, actions=statement.actions, resource_arns=statement.resources,
                conditions=statement.conditions or None,
            ))
        return reduce(lambda combined, grant: combined.combine(grant), grants)


def restrict_bedrock_endpoints(endpoints: Mapping[str, ec2.InterfaceVpcEndpoint], *, perimeter: Perimeter,
                               models: Sequence[BedrockModel]) -> None:
    """Endpoint policies for the Bedrock interface endpoints present in ``endpoints``.

    Every Bedrock endpoint admits only principals of ``perimeter`` (the organisation). The
    runtime endpoint admits, besides, only invoke/converse on ``models`` and ApplyGuardrail on
    the account's guardrails: any other model is refused at the VPC edge whatever IAM allows.
    Each policy is a plain dict on the L1 endpoint (it replaces the default policy
    :class:`~fmops_constructs.private_network.PrivateNetwork` gives every endpoint).
    """
    organisation = {"StringEquals": perimeter.principals()}
    for name in ("bedrock", "bedrock-agent", "bedrock-agent-runtime"):
        if name in endpoints:
            _endpoint_policy(endpoints[name], [{"Sid": "OrganisationPrincipalsOnly", "Effect": "Allow", "Principal": "*",
                                                "Action": "*", "Resource": "*", "Condition": organisation}])
    runtime = endpoints.get("bedrock-runtime")
    if runtime is None:
        return
    statements = []
    if models:
        statements.append({"Sid": "OrganisationInvokesAllowedModels", "Effect": "Allow", "Principal": "*",
                           "Action": list(INVOKE_ACTIONS), "Resource": model_arns(runtime, models),
                           "Condition": organisation})
    statements.append({"Sid": "OrganisationAppliesOwnGuardrails", "Effect": "Allow", "Principal": "*",
                       "Action": "bedrock:ApplyGuardrail",
                       "Resource": Stack.of(runtime).format_arn(service="bedrock", resource="guardrail", resource_name="*",
                                                                arn_format=ArnFormat.SLASH_RESOURCE_NAME),
                       "Condition": organisation})
    _endpoint_policy(runtime, statements)


def _endpoint_policy(endpoint: ec2.InterfaceVpcEndpoint, statements: list[dict]) -> None:
    endpoint.node.default_child.policy_document = {"Version": "2012-10-17", "Statement": statements}  # type: ignore[union-attr]
