"""Which project templates a team is offered in an account, and the props each is built with.

The registry (``templates/registry.py``) lists the templates; the app decides which team gets
which: a template is offered when the team has its features and the account's stage allows it
(every stage in single-account mode and in the governance account's shared portfolio).
"""

from __future__ import annotations

from fmops_constructs.project import ImageRegistry, ProjectTemplateProps, SourceSpec
from infra import naming
from infra.config import Stage, Team
from infra.plan import TeamPlan
from templates.registry import REGISTRY, TemplateEntry

LABELING_TEMPLATE = "data-labeling"


def offered_templates(team: Team, stage: Stage | None) -> list[TemplateEntry]:
    """Registry entries in the team's portfolio for ``stage`` (None: every stage)."""
    return [entry for entry in REGISTRY if entry.offered_to(team, stage)]


def template_props(plan: TeamPlan, entry: TemplateEntry) -> ProjectTemplateProps:
    org, team = plan.org, plan.team
    source = team.catalog.source
    mirror = org.mirror_account
    return ProjectTemplateProps(
        organisation=org.name, team=team.name, template_id=entry.id, version=entry.version,
        source=SourceSpec(kind=source.kind.value, connection_arn=source.connection_arn,
                          accepted_because=source.accepted_because),
        images=ImageRegistry(account=mirror.id, region=org.region, namespace=org.name),
        bedrock_models=tuple(plan.bedrock_models), hosting_models=plan.hosting_models,
        log_retention_days=org.organisation.log_retention_days,
    )


def tag_options(team: Team) -> dict[str, list[str]]:
    """TagOptions of the team's portfolio: its name and cost centre, and its projects (or its name)."""
    return {naming.TAG_TEAM: [team.name], naming.TAG_COST_CENTRE: [team.cost_centre],
            naming.TAG_PROJECT: list(team.catalog.projects) or [team.name]}
