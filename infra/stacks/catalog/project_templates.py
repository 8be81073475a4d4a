"""The team's templates as SageMaker project templates, without Service Catalog
(``catalog.project_path: project``).

Each offered template is synthesized as the same product stack the portfolio would publish and
lands in S3 as its CDK asset; an SSM parameter ``<prefix>/project-template/<template>`` holds its
URL, version and the team's project role (the CloudFormation role of the projects, generated like
the launch role but held to names the templates give: :class:`~fmops_constructs.launch_role.LaunchScope`
with ``service_catalog`` false). ``fmops provision --via project`` reads the parameter and calls
``sagemaker:CreateProject`` with ``TemplateProviders``; the project is a SageMaker project like
those of the catalog path, listed in Studio.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import Fn
from aws_cdk import aws_iam as iam
from aws_cdk import aws_servicecatalog as servicecatalog
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from fmops_constructs.product import ProjectProductStack
from infra import naming
from infra.plan import TeamPlan
from infra.stacks.catalog.offer import template_props
from infra.stacks.catalog.portfolio import pascal
from templates.registry import TemplateEntry

class ProjectTemplates(Construct):
    """One SSM parameter per offered template: its S3 URL, version and the project role (see the
    module docstring). ``product_stacks``: template id -> its product stack."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: TeamPlan, entries: Sequence[TemplateEntry],
                 role: iam.IRole) -> None:
        super().__init__(scope, construct_id)
        org, team = plan.org, plan.team
        self.product_stacks: dict[str, ProjectProductStack] = {}
        self.parameters: dict[str, ssm.StringParameter] = {}
        self.urls: dict[str, str] = {}
        for entry in entries:
            stack = entry.product_stack(self, pascal(entry.id), props=template_props(plan, entry),
                                        description=f"{entry.name} ({entry.id} {entry.version}): {entry.description}")
            url = servicecatalog.CloudFormationTemplate.from_product_stack(stack).bind(self).http_url
            value = Fn.to_json_string({"url": url, "version": entry.version, "role": role.role_arn})
            self.parameters[entry.id] = ssm.StringParameter(
                self, f"Param-{entry.id}", parameter_name=naming.project_template_parameter(org.name, team.name, entry.id),
                string_value=value, description=f"SageMaker project template {entry.id} {entry.version} of team "
                                                f"{team.name}: {json.dumps(entry.name)}")
            self.product_stacks[entry.id] = stack
            self.urls[entry.id] = url
