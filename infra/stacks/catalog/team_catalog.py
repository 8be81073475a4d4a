"""``<org>-<account>-<team>-catalog`` (one per team and workload account, or per team in the single
account): what the team's projects run on (:mod:`infra.stacks.catalog.project_platform`), the
portfolio's launch role, the Service Catalog end-user permissions of the launcher personas, the
association of the launchers' persona roles and Studio execution roles with the portfolio, the
promotion of approved models between the team's stage accounts
(:mod:`fmops_constructs.model_promotion`) and, unless the team's portfolio is shared from the
governance account, the portfolio itself (:mod:`infra.stacks.catalog.portfolio`).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_servicecatalog as servicecatalog
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge_wildcards
from fmops_constructs.guardrail import Guardrail
from fmops_constructs.cfn_text import nag_document, policy_document
from fmops_constructs.launch_role import LaunchScope, ProductLaunchRole
from fmops_constructs.model_promotion import ModelPromotion
from fmops_constructs.private_network import PrivateNetwork
from fmops_constructs.product import ImageRegistry, PlatformValue, ProjectProductStack
from infra import naming
from infra.config import Account, Feature
from infra.personas.launchers import end_user_roles, end_user_statements
from infra.plan import TeamPlan
from infra.stacks.catalog.labeling import LabelingWorkforceStack
from infra.stacks.catalog.offer import offered_templates
from infra.stacks.catalog.portfolio import TeamPortfolio, product_resource_types
from infra.stacks.catalog.project_platform import ProjectPlatform
from infra.stacks.catalog.project_templates import ProjectTemplates
from infra.stacks.catalog.projects import DeclaredProjectSources, check_declared_parameters, declared_here

# Service Catalog accepts at most 10 IAM_PATTERN principals per portfolio.
MAX_PATTERN_PRINCIPALS = 10


class CatalogStack(Stack):
    """A team's project catalog in one of its accounts (see the module docstring).

    :param shared_resource_types: set when the portfolio is shared from the governance account:
        the resource types of its products, for the launch role of this account.
    """

    def __init__(self, scope: Construct, construct_id: str, *, plan: TeamPlan,
                 network: PrivateNetwork, data_key_arn: str, guardrail: Guardrail | None = None,
                 labeling: LabelingWorkforceStack | None = None,
                 shared_resource_types: set[str] | None = None, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        org, account, team = plan.org, plan.account, plan.team
        entries = offered_templates(team, plan.stage)
        self.platform = ProjectPlatform(self, "ProjectPlatform", plan=plan,
                                        network=network, data_key_arn=data_key_arn, guardrail=guardrail,
                                        labeling=labeling, entries=entries)
        boundary = iam.ManagedPolicy.from_managed_policy_arn(
            self, "TeamBoundary", naming.boundary_arn(self.partition, account.id, org.name, team.name))
        via_catalog = team.catalog.project_path == "catalog"
        self.launch_role = ProductLaunchRole(
            self, "LaunchRole" if via_catalog else "ProjectRole",
            role_name=(naming.catalog_launch_role_name if via_catalog else naming.project_launch_role_name)(
                org.name, team.name),
            launch_scope=LaunchScope(
                team=team.name, boundary_name=plan.boundary_name,
                own_boundary_name=naming.launch_boundary_name(org.name, team.name),
                role_path=naming.project_role_path(org.name, team.name),
                parameter_prefix=naming.catalog_parameter_prefix(org.name, team.name),
                log_group_prefix=naming.log_prefix(org.name, team.name),
                team_tag=naming.TAG_TEAM,
                connection_arn=team.catalog.source.connection_arn, service_catalog=via_catalog))
        self.portfolio: TeamPortfolio | None = None
        self.project_templates: ProjectTemplates | None = None
        if not via_catalog:
            self.project_templates = ProjectTemplates(self, "ProjectTemplates", plan=plan, entries=entries,
                                                      role=self.launch_role.role)
            stacks = self.project_templates.product_stacks.values()
            self.launch_role.allow_resource_types(product_resource_types(stacks))
            check_platform_values(stacks, self.platform.available, account)
        elif shared_resource_types is None:
            self.portfolio = TeamPortfolio(self, "Catalog", plan=plan, entries=entries,
                                           launch_role=self.launch_role.role,
                                           display_name=f"{org.name} {team.name} projects ({account.name})")
            self.launch_role.allow_resource_types(self.portfolio.resource_types())
            check_platform_values(self.portfolio.product_stacks.values(), self.platform.available, account)
            self._give_access(plan, self.portfolio.portfolio.portfolio_id)
            CfnOutput(self, "PortfolioId", value=self.portfolio.portfolio.portfolio_id)
        else:
            self.launch_role.allow_resource_types(shared_resource_types)
            if team.catalog.governance_portfolio_id is not None:
                accepted = servicecatalog.CfnAcceptedPortfolioShare(
                    self, "AcceptedShare", portfolio_id=team.catalog.governance_portfolio_id)
                self._give_access(plan, team.catalog.governance_portfolio_id, after=accepted)
        self.declared_projects = declared_here(plan)
        if self.declared_projects:
            self._declared_project_sources(plan)
        self._end_user_policy(plan)
        self.promotion = self._promotion(plan, network, data_key_arn, boundary)

    def _declared_project_sources(self, plan: TeamPlan) -> None:
        """What the team's projects stack reads for its declared projects here (their parameters
        checked against the templates first)."""
        template_ids = sorted({project.template for _, project in self.declared_projects})
        if self.project_templates is not None:
            check_declared_parameters(plan, self.project_templates.product_stacks)
            DeclaredProjectSources(self, "DeclaredProjects", plan=plan, template_ids=template_ids,
                                   template_urls=self.project_templates.urls)
        else:
            assert self.portfolio is not None  # config: no declared project with share_from_governance
            check_declared_parameters(plan, self.portfolio.product_stacks)
            DeclaredProjectSources(self, "DeclaredProjects", plan=plan, template_ids=template_ids,
                                   products=self.portfolio.products, portfolio=self.portfolio.portfolio)

    def _give_access(self, plan: TeamPlan, portfolio_id: str,
                     after: servicecatalog.CfnAcceptedPortfolioShare | None = None) -> None:
        """The launcher personas' roles (by ARN) and, when the team uses Studio, the execution
        roles of their Studio user profiles may see and launch the portfolio's products. The
        Studio roles live in the account's Studio stack: they are named by the account-less ARN
        pattern Service Catalog accepts (IAM_PATTERN, ``arn:<partition>:iam:::role/<name>``), which
        needs neither the role to exist yet nor a reference to that stack, and also holds when the
        portfolio is shared."""
        associations = [
            servicecatalog.CfnPortfolioPrincipalAssociation(
                self, f"Launcher-{persona}", portfolio_id=portfolio_id, principal_type="IAM",
                principal_arn=naming.role_arn(self.partition, self.account, plan.persona_role_name(persona)))
            for persona in plan.launcher_personas]
        team, studio = plan.team, plan.studio_launchers
        if len(studio) > MAX_PATTERN_PRINCIPALS:
            raise ValueError(f"team {team.name}: {len(studio)} Studio launcher roles, Service Catalog associates at "
                             f"most {MAX_PATTERN_PRINCIPALS} IAM_PATTERN principals with a portfolio")
        associations += [
            servicecatalog.CfnPortfolioPrincipalAssociation(
                self, f"StudioLauncher-{persona}", portfolio_id=portfolio_id, principal_type="IAM_PATTERN",
                principal_arn=naming.role_arn(self.partition, "", plan.studio_role_name(persona)))
            for persona in studio]
        for association in associations:
            if after is not None:
                association.node.add_dependency(after)

    def _promotion(self, plan: TeamPlan, network: PrivateNetwork,
                   data_key_arn: str, boundary: iam.IManagedPolicy) -> ModelPromotion | None:
        """Approved models of the team's pipelines go on to its next stage account, where they
        await approval again (teams with pipelines, in accounts with a previous or next stage)."""
        previous, following = plan.previous_account, plan.next_account
        if Feature.PIPELINES not in plan.features or (previous is None and following is None):
            return None
        org, team = plan.org, plan.team
        mirror = org.mirror_account
        images = ImageRegistry(account=mirror.id, region=org.region, namespace=org.name)
        promotion = ModelPromotion(
            self, "Promotions", team=team.name, key=self.platform.key, boundary=boundary,
            sender_role_name=naming.promotion_role_name(org.name, team.name),
            receiver_role_name=naming.import_role_name(org.name, team.name),
            promoted_models_bucket=partial(naming.promoted_models_bucket_name, org.name, team.name),
            log_group_prefix=naming.log_prefix(org.name, team.name),
            team_bucket=plan.bucket_name,
            data_key_arn=data_key_arn, s3_endpoint_id=network.s3_endpoint_id, subnet_ids=self.platform.subnet_ids,
            security_group_id=self.platform.security_group.security_group_id,
            access_logs=s3.Bucket.from_bucket_name(self, "AccessLogs", org.access_log_bucket(plan.account)),
            previous_account=previous.id if previous else None, next_account=following.id if following else None,
            image_repositories=[f"{images.host}/{images.namespace}/",
                                *sorted({image.repository_prefix(org.region) for entry in offered_templates(team, None)
                                         for image in entry.images.values()})],
            log_retention_days=org.organisation.log_retention_days,
            notify_topic_arn=self.format_arn(service="sns", resource=naming.alarm_topic_name(org.name, team.name)))
        CfnOutput(self, "PromotionTopicArn", value=promotion.topic.topic_arn,
                  description="Dead letters of the promotion functions (the team's alarm topic hears of each, and "
                              "of every model arriving from the previous stage)")
        if promotion.bucket is not None and previous is not None:
            CfnOutput(self, "PromotedModelsBucketName", value=promotion.bucket.bucket_name,
                      description=f"Models approved in {previous.name}, registered here pending approval")
        return promotion

    def _end_user_policy(self, plan: TeamPlan) -> None:
        """What the launcher personas need besides the persona matrix to launch and run projects
        (:func:`infra.personas.launchers.end_user_statements`), on their persona roles and, when the
        team has Studio, their Studio execution roles (the app deploys this stack after the Studio stack)."""
        org, team = plan.org, plan.team
        statements = end_user_statements(plan)
        policy = iam.ManagedPolicy(
            self, "EndUserPolicy", managed_policy_name=naming.catalog_end_user_policy_name(org.name, team.name),
            description=f"Launch, follow and run team {team.name}'s projects",
            document=policy_document(statements),
            roles=[iam.Role.from_role_name(self, f"EndUser-{name}", name) for name in end_user_roles(plan)])
        why = ("Service Catalog end-user calls: search and describe calls have no resource-level permissions, "
               "launches are limited to the account's products and to the portfolios the role is associated with, "
               "provisioning records to the account (servicecatalog:accountLevel) and changes to what the caller's "
               "own role launched (servicecatalog:roleLevel); SageMaker projects are tagged with the team on create "
               "and read or changed only when tagged with it; pipelines and labeling jobs carry the team's name "
               "prefix, passed roles the team's project path, code uploads the code/ folders of project prefixes")
        if team.catalog.project_path == "project":
            why += ("; on the project path: the team's project-template parameters below its SSM path, the .json "
                    "templates of the account's CDK asset bucket (their object names are content hashes), "
                    "GetTemplateSummary (no resource type) and the stacks tagged with the team (SageMaker names them)")
        acknowledge_wildcards(policy, nag_document(statements), why)


def check_platform_values(stacks: Iterable[ProjectProductStack], available: set[PlatformValue],
                           account: Account) -> None:
    """Every SSM parameter a product reads is written by the catalog stack of the account."""
    for stack in stacks:
        missing = stack.platform_values - available
        if missing:
            raise ValueError(f"template {stack.props.template_id} needs {sorted(v.key for v in missing)}, which account "
                             f"{account.name} does not provide (features, or central endpoints of an existing VPC)")
