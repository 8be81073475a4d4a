"""From the typed config to the GenAI constructs' props: which models, which guardrail policy,
which stacks. Shared by the platform stack (endpoint policies) and the GenAI stacks."""

from __future__ import annotations

from fmops_constructs.bedrock import BedrockModel, application_profile_arn_pattern
from fmops_constructs.guardrail import ContentFilter, DeniedTopic, GuardrailPolicy
from fmops_constructs.instance_types import GPU_INSTANCE_TYPES
from infra.config import Availability, Feature, FmEndpointSettings, GuardrailSettings, OrgConfig, Team

BEDROCK_FEATURES = frozenset({Feature.BEDROCK, Feature.BEDROCK_AGENTS})


def uses_bedrock(team: Team) -> bool:
    return bool(BEDROCK_FEATURES & set(team.features))


def hosts_endpoints(team: Team) -> bool:
    return Feature.HOSTING in team.features and team.genai is not None and bool(team.genai.endpoints)


def has_genai_stack(team: Team) -> bool:
    """A team gets a GenAI stack per account if it uses Bedrock or hosts FM endpoints."""
    return uses_bedrock(team) or hosts_endpoints(team)


def team_bedrock_models(config: OrgConfig, team: Team) -> list[BedrockModel]:
    """The Bedrock models of the team's genai section, in-Region or through its inference profiles."""
    if team.genai is None:
        return []
    catalog = config.catalog
    return [BedrockModel(model_id=catalog.get(model).bedrock_model_id, geography=team.genai.cross_region_inference)
            for model in team.genai.bedrock_models]


def partition_of(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def organisation_model_arns(config: OrgConfig) -> list[str]:
    """Every Bedrock model ARN any team of the organisation may invoke: the SCP allow-list.

    An SCP applies to every account of its targets, so inference profiles (system-defined and the
    teams' application inference profiles) are matched in any account (``*``); each team's
    boundary names its own account."""
    region = config.organisation.region
    partition = partition_of(region)
    arns = {arn for team in config.teams for model in team_bedrock_models(config, team)
            for arn in model.arn_patterns(partition, region, "*")}
    return sorted(arns | {application_profile_arn_pattern(partition, region, "*")} if arns else arns)


def guardrail_policy(settings: GuardrailSettings) -> GuardrailPolicy:
    filters = settings.content_filters
    return GuardrailPolicy(
        content_filters=tuple(
            ContentFilter(category.upper(), getattr(filters, category).input.value, getattr(filters, category).output.value)
            for category in ("hate", "insults", "sexual", "violence", "misconduct", "prompt_attack")
        ),
        pii_entities=tuple(settings.pii.entities),
        pii_action=settings.pii.action,
        denied_topics=tuple(DeniedTopic(t.name, t.definition, tuple(t.examples)) for t in settings.denied_topics),
        blocked_words=tuple(settings.blocked_words),
        profanity_filter=settings.profanity_filter,
        blocked_input_message=settings.blocked_input_message,
        blocked_output_message=settings.blocked_output_message,
    )


def team_guardrail_policy(team: Team) -> GuardrailPolicy:
    """The team's guardrail from config, or the secure defaults when it has no genai section."""
    return guardrail_policy(team.genai.guardrail if team.genai else GuardrailSettings())


def endpoint_instance_type(config: OrgConfig, endpoint: FmEndpointSettings) -> str:
    """The override, else the catalog's gpu_instance (config validation guarantees one)."""
    return endpoint.instance_type or config.catalog.get(endpoint.model).gpu_instance  # type: ignore[return-value]




def hosting_models(config: OrgConfig, team: Team) -> dict[str, str]:
    """FM catalog models the team may host on SageMaker -> their instance type."""
    commercial = team.genai.commercial if team.genai else False
    return {m.id: m.gpu_instance for m in config.catalog.models
            if Availability.SAGEMAKER in m.availability and m.gpu_instance in GPU_INSTANCE_TYPES
            and (m.commercial_use or not commercial)}
