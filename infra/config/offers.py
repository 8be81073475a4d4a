"""Which project templates a team is offered: a view of the config over the template registry
(templates/registry.py), used by the config's own checks (declared projects), the plan (the
mirror's image repositories) and the catalog stacks."""

from __future__ import annotations

from infra.config.base import Stage
from infra.config.team import Team
from templates.registry import REGISTRY, TemplateEntry


def offered_templates(team: Team, stage: Stage | None) -> list[TemplateEntry]:
    """Registry entries in the team's portfolio for ``stage`` (None: every stage, for the hub and in
    single-account mode): the team has every feature the entry requires (and Bedrock models, if the
    template calls one) and the stage is one of the entry's."""
    has_models = team.genai is not None and bool(team.genai.bedrock_models)
    return [entry for entry in REGISTRY
            if entry.required_features <= set(team.features) and (has_models or not entry.needs_bedrock_models)
            and (stage is None or entry.stages is None or stage in entry.stages)]
