"""The team's Service Catalog portfolio: TagOptions and one versioned product per offered template."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aws_cdk import CfnOutput, CfnResource, Stack, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_servicecatalog as servicecatalog
from constructs import Construct

from fmops_constructs.product import ProjectProductStack
from infra import naming
from infra.plan import TeamPlan
from infra.stacks.catalog.offer import tag_options, template_props
from templates.registry import TemplateEntry


def pascal(name: str) -> str:
    """``fm-hosting`` -> ``FmHosting``: construct ids of per-template resources."""
    return "".join(part.capitalize() for part in name.split("-"))


class TeamPortfolio(Construct):
    """The team's portfolio: TagOptions (team, cost centre, project), one versioned product per
    template, each tagged ``sagemaker:studio-visibility=true`` and launched with the role named
    ``launch_role_name`` in the launching account (a local-role launch constraint, so the same
    portfolio works in every account it is shared with)."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: TeamPlan,
                 entries: Sequence[TemplateEntry], launch_role: iam.IRole, display_name: str) -> None:
        super().__init__(scope, construct_id)
        org, team = plan.org, plan.team
        self.portfolio = servicecatalog.Portfolio(
            self, "Portfolio", display_name=display_name, provider_name=f"{org.name} platform team",
            description=f"Project templates of team {team.name}",
            tag_options=servicecatalog.TagOptions(self, "TagOptions", allowed_values_for_tags=tag_options(team)),
        )
        self.products: dict[str, servicecatalog.CloudFormationProduct] = {}
        self.product_stacks: dict[str, ProjectProductStack] = {}
        for entry in entries:
            stack = entry.product_stack(self, pascal(entry.id), props=template_props(plan, entry),
                                        description=f"{entry.name} ({entry.id} {entry.version}): {entry.description}")
            template = servicecatalog.CloudFormationTemplate.from_product_stack(stack)
            product = servicecatalog.CloudFormationProduct(
                self, f"{pascal(entry.id)}Product",
                product_name=entry.name, owner=f"{org.name} platform team", distributor=org.name,
                description=entry.description,
                support_description=f"Template {entry.id}: templates/{entry.folder.name}/README.md",
                product_versions=[servicecatalog.CloudFormationProductVersion(
                    product_version_name=entry.version, description=f"{entry.id} {entry.version}",
                    cloud_formation_template=template)],
            )
            # The same template in S3, for an S3-based SageMaker project (CreateProject
            # TemplateProviders), as the README describes.
            CfnOutput(Stack.of(self), f"{pascal(entry.id)}TemplateUrl", value=template.bind(self).http_url,
                      description=f"{entry.id} {entry.version} template (S3), for S3-based SageMaker projects")
            Tags.of(product).add(*naming.STUDIO_VISIBILITY_TAG)
            Tags.of(product).add(naming.TAG_TEMPLATE, entry.id)
            self.portfolio.add_product(product)
            self.portfolio.set_local_launch_role(product, launch_role)
            self.products[entry.id] = product
            self.product_stacks[entry.id] = stack

    def resource_types(self) -> set[str]:
        return product_resource_types(self.product_stacks.values())


def product_resource_types(stacks: Iterable[ProjectProductStack]) -> set[str]:
    """CloudFormation types of every resource of the given product stacks."""
    return {node.cfn_resource_type for stack in stacks for node in stack.node.find_all()
            if isinstance(node, CfnResource)}
