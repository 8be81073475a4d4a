"""From the typed config to the GenAI constructs' props: which models, which guardrail policy,
which stacks. Shared by the platform stack (endpoint policies) and the GenAI stacks."""

from __future__ import annotations

from fmops_constructs.bedrock import BedrockModel
from fmops_constructs.guardrail import ContentFilter, DeniedTopic, GuardrailPolicy
from infra.config import Account, Feature, FmEndpointSettings, GuardrailSettings, OrgConfig, Team
from infra.plan.models import team_bedrock_models

BEDROCK_FEATURES = frozenset({Feature.BEDROCK, Feature.BEDROCK_AGENTS})


def uses_bedrock(team: Team) -> bool:
    return bool(BEDROCK_FEATURES & set(team.features))


def hosts_endpoints(team: Team) -> bool:
    return Feature.HOSTING in team.features and team.genai is not None and bool(team.genai.endpoints)


def has_genai_stack(team: Team) -> bool:
    """A team gets a GenAI stack per account if it uses Bedrock or hosts FM endpoints."""
    return uses_bedrock(team) or hosts_endpoints(team)


def account_uses_bedrock(config: OrgConfig, account: Account) -> bool:
    """The account's VPC has Bedrock endpoints, so it gets invocation logging."""
    return bool(BEDROCK_FEATURES & config.features_of(account))


def account_bedrock_models(config: OrgConfig, account: Account) -> list[BedrockModel]:
    """Every model some team of the account may invoke: the runtime endpoint admits only these."""
    found = [model for team in config.teams_in(account) for model in team_bedrock_models(config, team)]
    return list(dict.fromkeys(found))


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


def endpoint_name(config: OrgConfig, team: Team, endpoint: FmEndpointSettings) -> str:
    """``<organisation>-<team>-<endpoint>``: unique in the account, at most 57 characters (config)."""
    return f"{config.organisation.name}-{team.name}-{endpoint.name}"


def endpoint_role_name(name: str) -> str:
    """The execution role of endpoint ``name``, known before the role exists (bucket policies)."""
    return f"{name}-exec"
