"""Config-declared SageMaker projects (``teams[].catalog.declared_projects``).

* :class:`DeclaredProjectSources` (in the team's catalog stack): for each template a declared
  project of the account uses, SSM parameters with what ``AWS::SageMaker::Project`` needs on the
  team's project path: the template's S3 URL (``project``; the same CDK asset as the team's
  project-template parameter) or the product and provisioning artifact ids (``catalog``). On the
  catalog path it also associates the account's CDK CloudFormation execution role with the
  portfolio: SageMaker provisions the product as the caller of CreateProject, and Service Catalog
  only launches products of a portfolio the caller is associated with.
* :class:`ProjectsStack` (``<org>-<account>-<team>-projects``, deployed after the catalog stack):
  one ``AWS::SageMaker::Project`` per declared project, retained, its logical ID derived from the
  project name alone. Its template details are dynamic references (``{{resolve:ssm:...}}``) to the
  parameters above, so the template text does not change when the template's content (its asset
  URL) does: every property of ``AWS::SageMaker::Project`` is create-only, and a changed one would
  replace the project, which fails on its fixed name. CloudFormation owns the project's existence;
  its provisioned stack is updated like a launched project's (Studio, UpdateProject).

CloudFormation calls CreateProject with the CDK execution role; its policy comes from the provider
schema of ``AWS::SageMaker::Project`` (``fmops bootstrap-commands``): ``iam:PassRole`` of the
project role, ``servicecatalog:ProvisionProduct``, ``cloudformation:CreateStack``, ``s3:GetObject``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import CfnParameter, CfnTag, Fn, RemovalPolicy, Stack
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_servicecatalog as servicecatalog
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from fmops_constructs.product import ProjectProductStack
from infra import naming
from infra.config import DeclaredProject, LocatedError
from infra.plan import TeamPlan
from templates.registry import REGISTRY

TEMPLATE_URL, PRODUCT_ID, ARTIFACT_ID = "template-url", "product-id", "artifact-id"


class DeclaredProjectError(LocatedError):
    """A declared project's parameters do not fit its template (found when the app is built):
    ``loc`` is below the team's ``catalog.declared_projects[position]``."""

    def __init__(self, team: str, position: int, loc: tuple[Any, ...], message: str) -> None:
        super().__init__(loc, message)
        self.team = team
        self.position = position


def declared_here(plan: TeamPlan) -> list[tuple[int, DeclaredProject]]:
    """The team's declared projects in this account (position in the config, project): those of
    the account's stage, or all of them in single-account mode."""
    return [(position, project) for position, project in enumerate(plan.team.catalog.declared_projects)
            if plan.stage is None or project.stage is plan.stage]


def project_logical_id(name: str) -> str:
    """``Project<letters and digits of the name><8 hex of its hash>``: stable, and distinct for
    names that differ only in hyphens."""
    return "Project" + re.sub(r"[^A-Za-z0-9]", "", name) + hashlib.sha256(name.encode()).hexdigest()[:8].upper()


def check_declared_parameters(plan: TeamPlan, product_stacks: Mapping[str, ProjectProductStack]) -> None:
    """Every declared project's parameters are launch choices of its template and meet their
    allowed values or pattern; every choice without a default has a value (the checks of
    ``fmops provision``, on the synthesized product stack)."""
    from infra.plan.launch_parameters import ProvisionError, check_parameters

    for position, project in declared_here(plan):
        stack = product_stacks[project.template]
        declared = [_described(stack, name) for name in stack.choice_names]
        try:
            check_parameters(declared, dict(project.parameters))
        except ProvisionError as error:
            key = next((k for k in sorted(project.parameters) if k in str(error)), None)
            raise DeclaredProjectError(plan.team.name, position, ("parameters",) + ((key,) if key else ()),
                                       f"template {project.template}: {error}"
                                       + ("" if declared else " (the template takes no parameters)")) from None


def _described(stack: ProjectProductStack, name: str) -> dict[str, Any]:
    """A choice parameter as DescribeProvisioningParameters shows it."""
    parameter = stack.node.find_child(name)
    assert isinstance(parameter, CfnParameter)
    constraints: dict[str, Any] = {}
    if parameter.allowed_values:
        constraints["AllowedValues"] = list(parameter.allowed_values)
    if parameter.allowed_pattern:
        constraints["AllowedPattern"] = parameter.allowed_pattern
    if parameter.constraint_description:
        constraints["ConstraintDescription"] = parameter.constraint_description
    default = parameter.default
    return {"ParameterKey": name, "DefaultValue": None if default is None else str(default),
            "Description": parameter.description or "", "ParameterConstraints": constraints}


class DeclaredProjectSources(Construct):
    """The SSM parameters the team's projects stack reads (see the module docstring).

    :param template_urls: template id -> its S3 URL (project path).
    :param products: template id -> its product (catalog path).
    :param portfolio: the team's portfolio (catalog path), which the CDK execution role joins.
    """

    def __init__(self, scope: Construct, construct_id: str, *, plan: TeamPlan, template_ids: Sequence[str],
                 template_urls: Mapping[str, str] | None = None,
                 products: Mapping[str, servicecatalog.CloudFormationProduct] | None = None,
                 portfolio: servicecatalog.Portfolio | None = None) -> None:
        super().__init__(scope, construct_id)
        org, team = plan.org, plan.team
        stack = Stack.of(self)
        values: dict[tuple[str, str], str] = {}
        for template_id in template_ids:
            if template_urls is not None:
                values[template_id, TEMPLATE_URL] = template_urls[template_id]
            else:
                assert products is not None
                product = products[template_id]
                cfn = product.node.default_child
                assert isinstance(cfn, servicecatalog.CfnCloudFormationProduct)
                values[template_id, PRODUCT_ID] = product.product_id
                # One version per product: its artifact's id (kept when the template changes).
                values[template_id, ARTIFACT_ID] = Fn.select(0, Fn.split(",", cfn.attr_provisioning_artifact_ids))
        for (template_id, key), value in values.items():
            ssm.StringParameter(self, f"{template_id}-{key}", string_value=value,
                                parameter_name=naming.declared_project_parameter(org.name, team.name, template_id, key),
                                description=f"{key} of template {template_id} for team {team.name}'s declared projects")
        if portfolio is not None:
            servicecatalog.CfnPortfolioPrincipalAssociation(
                self, "Deployer", portfolio_id=portfolio.portfolio_id, principal_type="IAM",
                principal_arn=naming.bootstrap_role_arn(stack.account, stack.region, "cfn-exec"))


class ProjectsStack(Stack):
    """The team's config-declared SageMaker projects in one account (see the module docstring)."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: TeamPlan, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        org, team = plan.org, plan.team
        names = {entry.id: entry for entry in REGISTRY}
        allowed_tags = list(team.catalog.projects) or [team.name]
        self.projects: dict[str, sagemaker.CfnProject] = {}
        for _, project in declared_here(plan):
            entry = names[project.template]

            def resolve(key: str, template_id: str = project.template) -> str:
                return "{{resolve:ssm:" + naming.declared_project_parameter(org.name, team.name, template_id, key) + "}}"

            parameters = {"SageMakerProjectName": project.name, **project.parameters}
            details: dict[str, Any] = {}
            if team.catalog.project_path == "project":
                role = naming.role_arn(self.partition, self.account, naming.project_launch_role_name(org.name, team.name))
                details["template_provider_details"] = [sagemaker.CfnProject.TemplateProviderDetailProperty(
                    cfn_template_provider_detail=sagemaker.CfnProject.CfnTemplateProviderDetailProperty(
                        template_name=entry.id, template_url=resolve(TEMPLATE_URL), role_arn=role,
                        parameters=[sagemaker.CfnProject.CfnStackParameterProperty(key=k, value=v)
                                    for k, v in parameters.items()]))]
            else:
                # SageMaker sets SageMakerProjectName and -Id of a Service Catalog product itself.
                details["service_catalog_provisioning_details"] = {
                    "ProductId": resolve(PRODUCT_ID), "ProvisioningArtifactId": resolve(ARTIFACT_ID),
                    "ProvisioningParameters": [{"Key": k, "Value": v} for k, v in project.parameters.items()]}
            tag = project.project_tag or (project.name if project.name in allowed_tags else allowed_tags[0])
            cfn = sagemaker.CfnProject(
                self, f"Project-{project.name}", project_name=project.name,
                project_description=project.description or f"{entry.name} {entry.version} (declared in the config)",
                tags=[CfnTag(key=naming.TAG_PROJECT, value=tag)], **details)
            cfn.override_logical_id(project_logical_id(project.name))
            cfn.apply_removal_policy(RemovalPolicy.RETAIN)
            self.projects[project.name] = cfn
