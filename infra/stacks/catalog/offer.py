"""Which project templates a team is offered in an account, and the props each is built with.

The registry (``templates/registry.py``) lists the templates; the app decides which team gets
which (:func:`infra.plan.package_mirror.offered_templates`, in the plan because the mirror holds
the offered templates' custom image repositories): a template is offered when the team has its
features and the account's stage allows it (every stage in single-account mode and in the
governance account's shared portfolio).
"""

from __future__ import annotations

from functools import partial

from fmops_constructs.product import ImageRegistry, ProjectTemplateProps, SourceSpec
from infra import naming
from infra.config import Feature, Team
from infra.plan import TeamPlan
from infra.plan.package_mirror import offered_templates
from templates.registry import TemplateEntry

LABELING_TEMPLATE = "data-labeling"

__all__ = ["LABELING_TEMPLATE", "offered_templates", "tag_options", "template_props"]


def template_props(plan: TeamPlan, entry: TemplateEntry) -> ProjectTemplateProps:
    org, team = plan.org, plan.team
    source = team.catalog.source
    mirror = org.mirror_account
    prefix = naming.catalog_parameter_prefix(org.name, team.name)
    return ProjectTemplateProps(
        team=team.name, template_id=entry.id, version=entry.version,
        boundary_name=plan.boundary_name,
        role_path=naming.project_role_path(org.name, team.name),
        parameter_prefix=prefix, seed_parameter=f"{prefix}/{naming.seed_key_parameter(entry.id)}",
        team_bucket=partial(naming.team_bucket_name, org.name, team.name),
        promoted_models_bucket=partial(naming.promoted_models_bucket_name, org.name, team.name),
        access_log_bucket=partial(naming.access_log_bucket_name, org.name),
        log_group_prefix=naming.log_prefix(org.name, team.name), team_tag=naming.TAG_TEAM,
        tags={naming.TAG_TEMPLATE: entry.id, naming.TAG_TEMPLATE_VERSION: entry.version},
        source=SourceSpec(kind=source.kind.value, connection_arn=source.connection_arn,
                          accepted_because=source.accepted_because),
        images=ImageRegistry(account=mirror.id, region=org.region, namespace=org.name),
        bedrock_models=tuple(plan.bedrock_models), hosting_models=plan.hosting_models,
        log_retention_days=org.organisation.log_retention_days,
        guardrail_version_parameter=naming.guardrail_parameter(org.name, team.name, "version"),
        project_tag=naming.TAG_PROJECT,
        **({"mlflow_tracking_server": naming.mlflow_tracking_server_name(org.name, team.name),
            "mlflow_parameter": naming.mlflow_parameter(org.name, team.name)} if Feature.MLFLOW in plan.features else {}),
    )


def tag_options(team: Team) -> dict[str, list[str]]:
    """TagOptions of the team's portfolio: its name and cost centre, and its projects (or its name)."""
    return {naming.TAG_TEAM: [team.name], naming.TAG_COST_CENTRE: [team.cost_centre],
            naming.TAG_PROJECT: list(team.catalog.projects) or [team.name]}
