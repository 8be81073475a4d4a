"""Self-service project templates: the team's Service Catalog portfolio in each of its accounts.

* ``<org>-<account>-<team>-catalog`` (one per team and workload account, or per team in the
  single account): what the team's projects run on (project key, project security group, the
  SSM parameters under ``/<org>/catalog/<team>/`` that product templates read, the templates'
  seed bundles), the portfolio's launch role, the Service Catalog end-user permissions of the
  launcher personas, the association of the launchers' persona roles and Studio execution roles
  with the portfolio, the promotion of approved models between the team's stage accounts
  (:mod:`fmops_constructs.model_promotion`) and, unless the team's portfolio is shared from the
  governance account, the portfolio itself: TagOptions, one versioned product per template of
  ``templates/registry.py`` the team's features and the account's stage allow, launch constraints.
* ``<org>-<governance>-<team>-catalog`` (``catalog.share_from_governance``): the team's portfolio
  and products, published once and shared with each of the team's workload accounts.
* ``<org>-<account>-labeling`` (accounts where some team labels data): the account's Ground
  Truth private workforce (one per account and Region), its Cognito user pool in the VPC.

One stack per team keeps every stack small (35 to 60 resources, whatever the number of teams)
and lets a team be added or removed without touching another team's portfolio.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial

from aws_cdk import CfnOutput, CfnResource, Duration, Environment, RemovalPolicy, Stack, Tags
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_servicecatalog as servicecatalog
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge_wildcards
from fmops_constructs.cfn_text import nag_document, policy_document
from fmops_constructs.guardrail import Guardrail
from fmops_constructs.instance_types import GPU_INSTANCE_TYPES
from fmops_constructs.kms import EncryptionKey
from fmops_constructs.launch_role import LaunchScope, ProductLaunchRole
from fmops_constructs.model_promotion import ModelPromotion
from fmops_constructs.private_network import PrivateNetwork
from fmops_constructs.product import ImageRegistry, PlatformValue, ProjectProductStack, ProjectTemplateProps, SourceSpec
from fmops_constructs.vpc_egress import endpoints_only_security_group
from infra import naming, personas
from infra.config import Account, Availability, Feature, Mode, OrgConfig, Stage, Team
from infra.plan.launchers import CREATE_PROJECT, launcher_personas, launcher_role_name, studio_launchers, studio_role_name
from infra.plan.models import team_bedrock_models
from infra.stacks.package_mirror import package_mirror_account
from infra.stacks.platform import access_log_bucket_name
from templates.registry import REGISTRY, TemplateEntry

__all__ = ["CREATE_PROJECT", "CatalogBuilder", "CatalogStack", "GovernanceCatalogStack", "LabelingWorkforceStack",
           "launcher_personas", "launcher_role_name", "studio_launch_statements"]

TAG_TEAM, TAG_COST_CENTRE, TAG_PROJECT = "fmops:team", "fmops:cost-centre", "fmops:project"
# Service Catalog accepts at most 10 IAM_PATTERN principals per portfolio.
MAX_PATTERN_PRINCIPALS = 10


# -- what the config says -----------------------------------------------------------------------

def launch_role_name(config: OrgConfig, team: Team) -> str:
    return f"{config.organisation.name}-{team.name}-catalog-launch"


def team_stage(config: OrgConfig, team: Team, account: Account) -> Stage | None:
    """The stage the account plays for the team (None in single-account mode: every stage)."""
    if config.organisation.mode is Mode.SINGLE_ACCOUNT:
        return None
    return next(stage for stage, name in team.accounts.by_stage().items() if name == account.name)


def offered_templates(config: OrgConfig, team: Team, account: Account | None) -> list[TemplateEntry]:
    """Registry entries in the team's portfolio in ``account`` (None: every stage, for the hub):
    the team has every feature the entry requires (and Bedrock models, if the template calls one)
    and the account's stage is one of the entry's (single-account mode: any stage)."""
    stage = team_stage(config, team, account) if account is not None else None
    has_models = team.genai is not None and bool(team.genai.bedrock_models)
    return [entry for entry in REGISTRY
            if entry.required_features <= set(team.features) and (has_models or not entry.needs_bedrock_models)
            and (stage is None or entry.stages is None or stage in entry.stages)]


def next_stage_account(config: OrgConfig, team: Team, account: Account) -> Account | None:
    """Where an approved model goes next: dev -> preprod -> prod (none in single-account mode)."""
    if config.organisation.mode is Mode.SINGLE_ACCOUNT:
        return None
    chain = [config.account(name) for _, name in sorted(team.accounts.by_stage().items(),
                                                          key=lambda item: list(Stage).index(item[0]))]
    position = next(i for i, a in enumerate(chain) if a.name == account.name)
    return chain[position + 1] if position + 1 < len(chain) else None


def previous_stage_account(config: OrgConfig, team: Team, account: Account) -> Account | None:
    if config.organisation.mode is Mode.SINGLE_ACCOUNT:
        return None
    return next((a for a in map(config.account, team.accounts.by_stage().values())
                 if (n := next_stage_account(config, team, a)) is not None and n.name == account.name), None)


def hosting_models(config: OrgConfig, team: Team) -> dict[str, str]:
    """FM catalog models the team may host on SageMaker -> their instance type."""
    commercial = team.genai.commercial if team.genai else False
    return {m.id: m.gpu_instance for m in config.catalog.models
            if Availability.SAGEMAKER in m.availability and m.gpu_instance in GPU_INSTANCE_TYPES
            and (m.commercial_use or not commercial)}


def template_props(config: OrgConfig, team: Team, entry: TemplateEntry) -> ProjectTemplateProps:
    org = config.organisation
    source = team.catalog.source
    mirror = package_mirror_account(config)
    models = team_bedrock_models(config, team)
    prefix = naming.catalog_parameter_prefix(org.name, team.name)
    return ProjectTemplateProps(
        team=team.name, template_id=entry.id, version=entry.version,
        boundary_name=naming.boundary_name(org.name, team.name),
        role_path=naming.project_role_path(org.name, team.name),
        parameter_prefix=prefix, seed_parameter=f"{prefix}/{naming.seed_key_parameter(entry.id)}",
        team_bucket=partial(naming.team_bucket_name, org.name, team.name),
        promoted_models_bucket=partial(naming.promoted_models_bucket_name, org.name, team.name),
        access_log_bucket=partial(naming.access_log_bucket_name, org.name),
        log_group_prefix=naming.log_prefix(org.name, team.name), team_tag=naming.TAG_TEAM,
        tags={naming.TAG_TEMPLATE: entry.id, f"{naming.TAG_TEMPLATE}-version": entry.version},
        source=SourceSpec(kind=source.kind.value, connection_arn=source.connection_arn,
                          accepted_because=source.accepted_because),
        images=ImageRegistry(account=mirror.id, region=org.region, namespace=org.name),
        bedrock_models=tuple(models), hosting_models=hosting_models(config, team),
        log_retention_days=org.log_retention_days,
    )


def tag_options(team: Team) -> dict[str, list[str]]:
    """TagOptions of the team's portfolio: its name and cost centre, and its projects (or its name)."""
    return {TAG_TEAM: [team.name], TAG_COST_CENTRE: [team.cost_centre],
            TAG_PROJECT: list(team.catalog.projects) or [team.name]}


def product_arns(config: OrgConfig, team: Team) -> list[str]:
    """``Fn::Sub`` patterns of the team's products as a launcher in the account sees them: the
    account's own, and the governance account's when the portfolio is shared from there."""
    accounts = ["${AWS::AccountId}"]
    if team.catalog.share_from_governance:
        accounts.append(next(a.id for a in config.accounts if a.role == "governance"))
    return [f"arn:${{AWS::Partition}}:catalog:${{AWS::Region}}:{account}:product/*" for account in accounts]


# Service Catalog end-user calls that IAM authorizes only on "*" (no resource type), read-only.
FIND_PRODUCTS = ["servicecatalog:SearchProducts", "servicecatalog:ListPortfolios",
                 "servicecatalog:ListAcceptedPortfolioShares", "servicecatalog:DescribeProductView"]
# Calls on a product (resource type Product): look at it and launch it.
LAUNCH_PRODUCT = ["servicecatalog:DescribeProduct", "servicecatalog:DescribeProvisioningParameters",
                  "servicecatalog:DescribeProvisioningArtifact", "servicecatalog:ListLaunchPaths",
                  "servicecatalog:ListProvisioningArtifacts", "servicecatalog:ProvisionProduct"]


def _follow_and_change_statements() -> list[dict]:
    """Provisioning records of the account (servicecatalog:accountLevel), the provisioned products'
    stack events, changes to what the caller's own role launched (servicecatalog:roleLevel)."""
    return [
        {"Sid": "FollowProvisioning", "Effect": "Allow", "Resource": ["*"],
         "Action": ["servicecatalog:DescribeRecord", "servicecatalog:ListRecordHistory",
                    "servicecatalog:SearchProvisionedProducts", "servicecatalog:ScanProvisionedProducts",
                    "servicecatalog:DescribeProvisionedProduct", "servicecatalog:GetProvisionedProductOutputs"],
         "Condition": {"StringEquals": {"servicecatalog:accountLevel": "self"}}},
        {"Sid": "ReadProjectStackEvents", "Effect": "Allow", "Action": ["cloudformation:DescribeStackEvents"],
         "Resource": ["arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/"
                      "SC-${AWS::AccountId}-pp-*/*"]},
        {"Sid": "ChangeOwnProjects", "Effect": "Allow", "Resource": ["*"],
         "Action": ["servicecatalog:UpdateProvisionedProduct", "servicecatalog:TerminateProvisionedProduct"],
         "Condition": {"StringEquals": {"servicecatalog:roleLevel": "self"}}},
    ]


def studio_launch_statements(config: OrgConfig, team: Team) -> list[dict]:
    """What the execution role of a launcher's Studio user profile needs so that SageMaker Studio
    lists the team's project templates and launches them as SageMaker projects (CreateProject
    provisions the Service Catalog product with the caller's permissions): find products; look at
    and launch only products tagged with the team (``aws:ResourceTag/fmops:team``: the portfolio's
    products carry it), which Service Catalog further limits to the portfolios the role is
    associated with; follow and change projects as the launcher persona role does; create
    SageMaker projects only tagged with the team, and read, change or delete only those."""
    projects = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:project/*"
    return [
        {"Sid": "FindProducts", "Effect": "Allow", "Resource": ["*"], "Action": FIND_PRODUCTS},
        {"Sid": "LaunchTeamProducts", "Effect": "Allow", "Action": LAUNCH_PRODUCT,
         "Resource": product_arns(config, team),
         "Condition": {"StringEquals": {f"aws:ResourceTag/{TAG_TEAM}": team.name}}},
        *_follow_and_change_statements(),
        {"Sid": "CreateTeamProjects", "Effect": "Allow", "Action": ["sagemaker:CreateProject"],
         "Resource": [projects], "Condition": {"StringEquals": {f"aws:RequestTag/{TAG_TEAM}": team.name}}},
        {"Sid": "TagTeamProjectsOnCreate", "Effect": "Allow", "Action": ["sagemaker:AddTags"], "Resource": [projects],
         "Condition": {"StringEquals": {f"aws:RequestTag/{TAG_TEAM}": team.name},
                       "Null": {"sagemaker:TaggingAction": "false"}}},
        {"Sid": "UseTeamProjects", "Effect": "Allow", "Resource": [projects],
         "Action": ["sagemaker:DescribeProject", "sagemaker:UpdateProject", "sagemaker:DeleteProject"],
         "Condition": {"StringEquals": {f"aws:ResourceTag/{TAG_TEAM}": team.name}}},
        {"Sid": "ListProjects", "Effect": "Allow", "Resource": ["*"],
         "Action": ["sagemaker:ListProjects", "sagemaker:GetSagemakerServicecatalogPortfolioStatus"]},
    ]


# -- the portfolio ------------------------------------------------------------------------------

class TeamPortfolio(Construct):
    """The team's portfolio: TagOptions (team, cost centre, project), one versioned product per
    template, each tagged ``sagemaker:studio-visibility=true`` and launched with the role named
    ``launch_role_name`` in the launching account (a local-role launch constraint, so the same
    portfolio works in every account it is shared with)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, team: Team,
                 entries: Sequence[TemplateEntry], launch_role: iam.IRole, display_name: str) -> None:
        super().__init__(scope, construct_id)
        org = config.organisation
        self.portfolio = servicecatalog.Portfolio(
            self, "Portfolio", display_name=display_name, provider_name=f"{org.name} platform team",
            description=f"Project templates of team {team.name}",
            tag_options=servicecatalog.TagOptions(self, "TagOptions", allowed_values_for_tags=tag_options(team)),
        )
        self.products: dict[str, servicecatalog.CloudFormationProduct] = {}
        self.product_stacks: dict[str, ProjectProductStack] = {}
        for entry in entries:
            stack = entry.product_stack(self, _pascal(entry.id), props=template_props(config, team, entry),
                                        description=f"{entry.name} ({entry.id} {entry.version}): {entry.description}")
            template = servicecatalog.CloudFormationTemplate.from_product_stack(stack)
            product = servicecatalog.CloudFormationProduct(
                self, f"{_pascal(entry.id)}Product",
                product_name=entry.name, owner=f"{org.name} platform team", distributor=org.name,
                description=entry.description,
                support_description=f"Template {entry.id}: templates/{entry.folder.name}/README.md",
                product_versions=[servicecatalog.CloudFormationProductVersion(
                    product_version_name=entry.version, description=f"{entry.id} {entry.version}",
                    cloud_formation_template=template)],
            )
            # The same template in S3, for an S3-based SageMaker project (CreateProject
            # TemplateProviders), as the README describes.
            CfnOutput(Stack.of(self), f"{_pascal(entry.id)}TemplateUrl", value=template.bind(self).http_url,
                      description=f"{entry.id} {entry.version} template (S3), for S3-based SageMaker projects")
            Tags.of(product).add(*naming.STUDIO_VISIBILITY_TAG)
            Tags.of(product).add("fmops:template", entry.id)
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


# -- what projects run on -----------------------------------------------------------------------

class ProjectPlatform(Construct):
    """Per team and account: the key of project resources and logs, the security group of project
    workloads, the templates' seed bundles, and the SSM parameters product templates read."""

    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, account: Account, team: Team,
                 network: PrivateNetwork, data_key_arn: str, guardrail: Guardrail | None,
                 labeling: LabelingWorkforceStack | None, entries: Sequence[TemplateEntry]) -> None:
        super().__init__(scope, construct_id)
        org = config.organisation
        self.key = EncryptionKey(self, "ProjectKey", alias=f"alias/{org.name}/{team.name}/projects",
                                 description=f"{org.name}: project resources and logs of team {team.name} in "
                                             f"{account.name}")
        self.key.grant_logs(f"/{org.name}/{team.name}/")
        self._admit_endpoint_logs(team)
        self._admit_notifications()
        self.security_group = endpoints_only_security_group(
            self, "ProjectSecurityGroup", vpc=network.vpc,
            description=f"Project workloads of team {team.name}: HTTPS to VPC endpoints only, no ingress")
        subnets = network.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids
        self.subnet_ids = subnets
        values: dict[PlatformValue, str | list[str]] = {
            PlatformValue.VPC_ID: network.vpc.vpc_id,
            PlatformValue.SUBNET_IDS: subnets,
            PlatformValue.SECURITY_GROUP_ID: self.security_group.security_group_id,
            PlatformValue.S3_ENDPOINT_ID: network.s3_endpoint_id,
            PlatformValue.DATA_KEY_ARN: data_key_arn,
            PlatformValue.PROJECT_KEY_ARN: self.key.key_arn,
        }
        if "execute-api" in network.endpoints:
            values[PlatformValue.API_ENDPOINT_ID] = network.endpoints["execute-api"].vpc_endpoint_id
        if guardrail is not None:
            values[PlatformValue.GUARDRAIL_ARN] = guardrail.guardrail_arn
            values[PlatformValue.GUARDRAIL_KEY_ARN] = guardrail.encryption_key.key_arn
        if labeling is not None:
            values[PlatformValue.LABELING_USER_POOL_ID] = labeling.user_pool.user_pool_id
            values[PlatformValue.LABELING_CLIENT_ID] = labeling.client.user_pool_client_id
        # Read by version 1.0.0 of the fm-finetuning and classical-ml products (event forwarding,
        # replaced by ModelPromotion): kept so that their provisioned projects can still be updated.
        following = next_stage_account(config, team, account)
        values[PlatformValue.PROMOTION_ACCOUNT] = following.id if following else "none"
        prefix = naming.catalog_parameter_prefix(org.name, team.name)
        for value, text in values.items():
            name = f"{prefix}/{value.key}"
            if value.is_list:
                ssm.StringListParameter(self, f"Param-{value.key}", parameter_name=name, string_list_value=text,
                                        description=value.description)
            else:
                ssm.StringParameter(self, f"Param-{value.key}", parameter_name=name, string_value=text,
                                    description=value.description)
        self.available = set(values)
        bucket = None
        for entry in entries:
            asset = s3_assets.Asset(self, f"Seed-{entry.id}", path=str(entry.seed), exclude=["__pycache__", "*.pyc"])
            bucket = asset.s3_bucket_name
            ssm.StringParameter(self, f"Param-seed-{entry.id}", parameter_name=f"{prefix}/{naming.seed_key_parameter(entry.id)}",
                                string_value=asset.s3_object_key,
                                description=f"Seed code bundle of template {entry.id} {entry.version}")
        if bucket is not None:
            ssm.StringParameter(self, "Param-seed-bucket", parameter_name=f"{prefix}/{PlatformValue.SEED_BUCKET.key}",
                                string_value=bucket, description=PlatformValue.SEED_BUCKET.description)
            self.available.add(PlatformValue.SEED_BUCKET)

    def _admit_endpoint_logs(self, team: Team) -> None:
        """SageMaker names endpoint log groups itself (/aws/sagemaker/Endpoints/<endpoint>);
        project endpoints are named <team>-<project>."""
        self.key.grant_logs(f"/aws/sagemaker/Endpoints/{team.name}-", sid="CloudWatchLogsForTeamEndpoints")

    def _admit_notifications(self) -> None:
        """Project topics use this key: CloudWatch alarms and EventBridge rules of this account
        publish to them."""
        stack = Stack.of(self)
        for service, source in (("cloudwatch.amazonaws.com", f"arn:{stack.partition}:cloudwatch:{stack.region}:"
                                 f"{stack.account}:alarm:*"),
                                ("events.amazonaws.com", f"arn:{stack.partition}:events:{stack.region}:"
                                 f"{stack.account}:rule/*")):
            self.key.add_to_resource_policy(iam.PolicyStatement(
                sid=f"{service.split('.')[0].capitalize()}PublishesToProjectTopics",
                principals=[iam.ServicePrincipal(service)], actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"], conditions={"StringEquals": {"aws:SourceAccount": stack.account},
                                             "ArnLike": {"aws:SourceArn": source}}))


# -- the stacks ---------------------------------------------------------------------------------

class CatalogStack(Stack):
    """A team's project catalog in one of its accounts (see the module docstring).

    :param shared_resource_types: set when the portfolio is shared from the governance account:
        the resource types of its products, for the launch role of this account.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, account: Account, team: Team,
                 network: PrivateNetwork, data_key_arn: str, guardrail: Guardrail | None = None,
                 labeling: LabelingWorkforceStack | None = None,
                 shared_resource_types: set[str] | None = None, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        org = config.organisation
        entries = offered_templates(config, team, account)
        self.platform = ProjectPlatform(self, "ProjectPlatform", config=config, account=account, team=team,
                                        network=network, data_key_arn=data_key_arn, guardrail=guardrail,
                                        labeling=labeling, entries=entries)
        boundary = iam.ManagedPolicy.from_managed_policy_arn(
            self, "TeamBoundary", f"arn:{self.partition}:iam::{account.id}:policy/"
                                  f"{personas.boundary_name(org.name, team.name)}")
        self.launch_role = ProductLaunchRole(self, "LaunchRole", role_name=launch_role_name(config, team),
                                             launch_scope=LaunchScope(
                                                 team=team.name, boundary_name=naming.boundary_name(org.name, team.name),
                                                 role_path=naming.project_role_path(org.name, team.name),
                                                 parameter_prefix=naming.catalog_parameter_prefix(org.name, team.name),
                                                 log_group_prefix=naming.log_prefix(org.name, team.name),
                                                 team_tag=naming.TAG_TEAM,
                                                 connection_arn=team.catalog.source.connection_arn))
        self.portfolio: TeamPortfolio | None = None
        if shared_resource_types is None:
            self.portfolio = TeamPortfolio(self, "Catalog", config=config, team=team, entries=entries,
                                           launch_role=self.launch_role.role,
                                           display_name=f"{org.name} {team.name} projects ({account.name})")
            self.launch_role.allow_resource_types(self.portfolio.resource_types())
            check_platform_values(self.portfolio.product_stacks.values(), self.platform.available, account)
            self._give_access(config, team, self.portfolio.portfolio.portfolio_id)
            CfnOutput(self, "PortfolioId", value=self.portfolio.portfolio.portfolio_id)
        else:
            self.launch_role.allow_resource_types(shared_resource_types)
            if team.catalog.governance_portfolio_id is not None:
                accepted = servicecatalog.CfnAcceptedPortfolioShare(
                    self, "AcceptedShare", portfolio_id=team.catalog.governance_portfolio_id)
                self._give_access(config, team, team.catalog.governance_portfolio_id, after=accepted)
        self._end_user_policy(config, team)
        self.promotion = self._promotion(config, account, team, network, data_key_arn, boundary)

    def _give_access(self, config: OrgConfig, team: Team, portfolio_id: str,
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
                principal_arn=f"arn:{self.partition}:iam::{self.account}:role/{launcher_role_name(config, team, persona)}")
            for persona in launcher_personas(team)]
        studio = studio_launchers(team)
        if len(studio) > MAX_PATTERN_PRINCIPALS:
            raise ValueError(f"team {team.name}: {len(studio)} Studio launcher roles, Service Catalog associates at "
                             f"most {MAX_PATTERN_PRINCIPALS} IAM_PATTERN principals with a portfolio")
        associations += [
            servicecatalog.CfnPortfolioPrincipalAssociation(
                self, f"StudioLauncher-{persona}", portfolio_id=portfolio_id, principal_type="IAM_PATTERN",
                principal_arn=f"arn:{self.partition}:iam:::role/"
                              f"{studio_role_name(config.organisation.name, team.name, persona)}")
            for persona in studio]
        for association in associations:
            if after is not None:
                association.node.add_dependency(after)

    def _promotion(self, config: OrgConfig, account: Account, team: Team, network: PrivateNetwork,
                   data_key_arn: str, boundary: iam.IManagedPolicy) -> ModelPromotion | None:
        """Approved models of the team's pipelines go on to its next stage account, where they
        await approval again (teams with pipelines, in accounts with a previous or next stage)."""
        previous = previous_stage_account(config, team, account)
        following = next_stage_account(config, team, account)
        if Feature.PIPELINES not in team.features or (previous is None and following is None):
            return None
        org = config.organisation
        mirror = package_mirror_account(config)
        images = ImageRegistry(account=mirror.id, region=org.region, namespace=org.name)
        promotion = ModelPromotion(
            self, "Promotions", team=team.name, key=self.platform.key, boundary=boundary,
            sender_role_name=naming.promotion_role_name(org.name, team.name),
            receiver_role_name=naming.import_role_name(org.name, team.name),
            promoted_models_bucket=partial(naming.promoted_models_bucket_name, org.name, team.name),
            log_group_prefix=naming.log_prefix(org.name, team.name),
            team_bucket=personas.team_bucket_name(org.name, team.name, account.id, org.region),
            data_key_arn=data_key_arn, s3_endpoint_id=network.s3_endpoint_id, subnet_ids=self.platform.subnet_ids,
            security_group_id=self.platform.security_group.security_group_id,
            access_logs=s3.Bucket.from_bucket_name(self, "AccessLogs", access_log_bucket_name(config, account)),
            previous_account=previous.id if previous else None, next_account=following.id if following else None,
            image_repositories=f"{images.host}/{images.namespace}/", log_retention_days=org.log_retention_days)
        CfnOutput(self, "PromotionTopicArn", value=promotion.topic.topic_arn,
                  description="Subscribe to hear of models arriving from the previous stage and of failed promotions")
        if promotion.bucket is not None and previous is not None:
            CfnOutput(self, "PromotedModelsBucketName", value=promotion.bucket.bucket_name,
                      description=f"Models approved in {previous.name}, registered here pending approval")
        return promotion

    @staticmethod
    def _end_users(config: OrgConfig, team: Team) -> list[str]:
        """The launchers' persona roles and, when the team has Studio, their Studio execution
        roles (the app deploys this stack after the Studio stack)."""
        return ([launcher_role_name(config, team, p) for p in launcher_personas(team)]
                + [studio_role_name(config.organisation.name, team.name, p) for p in studio_launchers(team)])

    def _end_user_policy(self, config: OrgConfig, team: Team) -> None:
        """What the launcher personas need besides the persona matrix to launch and run projects:
        Service Catalog end-user actions (find and launch the portfolio's products, follow
        provisioning in the account (servicecatalog:accountLevel; ``fmops projects`` filters on
        the fmops:team tag), change or terminate what their own role launched
        (servicecatalog:roleLevel)), and operating the projects: run the team's project pipelines,
        start labeling jobs with a project's labeling role, upload code bundles (source s3)."""
        org = config.organisation
        sagemaker = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
        statements = [
            {"Sid": "FindProducts", "Effect": "Allow", "Resource": ["*"], "Action": FIND_PRODUCTS},
            {"Sid": "LaunchProducts", "Effect": "Allow", "Resource": product_arns(config, team),
             "Action": LAUNCH_PRODUCT},
            *_follow_and_change_statements(),
            {"Sid": "RunProjectPipelines", "Effect": "Allow",
             "Resource": [f"{sagemaker}:pipeline/{team.name}-*", f"{sagemaker}:pipeline/{team.name}-*/execution/*"],
             "Action": ["sagemaker:StartPipelineExecution", "sagemaker:StopPipelineExecution",
                        "sagemaker:RetryPipelineExecution", "sagemaker:DescribePipeline",
                        "sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutions",
                        "sagemaker:ListPipelineExecutionSteps"]},
            {"Sid": "RunProjectLabelingJobs", "Effect": "Allow", "Resource": [f"{sagemaker}:labeling-job/{team.name}-*"],
             "Action": ["sagemaker:CreateLabelingJob", "sagemaker:DescribeLabelingJob", "sagemaker:StopLabelingJob",
                        "sagemaker:AddTags"]},
            {"Sid": "PassProjectRolesToSageMaker", "Effect": "Allow", "Action": ["iam:PassRole"],
             "Resource": [f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role{naming.project_role_path(org.name, team.name)}*"],
             "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}},
            {"Sid": "UploadProjectCodeBundles", "Effect": "Allow", "Action": ["s3:PutObject"],
             "Resource": [f"arn:${{AWS::Partition}}:s3:::{org.name}-{team.name}-data-${{AWS::AccountId}}-"
                          "${AWS::Region}/projects/*/code/*"]},
        ]
        policy = iam.ManagedPolicy(
            self, "EndUserPolicy", managed_policy_name=f"{config.organisation.name}-{team.name}-catalog-end-user",
            description=f"Launch, follow and run team {team.name}'s projects",
            document=policy_document(statements),
            roles=[iam.Role.from_role_name(self, f"EndUser-{name}", name) for name in self._end_users(config, team)])
        acknowledge_wildcards(
            policy, nag_document(statements),
            "Service Catalog end-user calls: search and describe calls have no resource-level permissions, "
            "launches are limited to the account's products and to the portfolios the role is associated with, "
            "provisioning records to the account (servicecatalog:accountLevel) and changes to what the caller's "
            "own role launched (servicecatalog:roleLevel); pipelines and labeling jobs carry the team's name "
            "prefix, passed roles the team's project path, code uploads the code/ folders of project prefixes")


class GovernanceCatalogStack(Stack):
    """The team's portfolio published once in the governance account and shared with each of the
    team's workload accounts (with its TagOptions). The launch constraints name the launch role
    by name; Service Catalog requires a role of that name here too, so the stack holds one
    without any permission (launching here is not possible: the portfolio has no principals)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, team: Team, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        org = config.organisation
        name_holder = iam.Role(self, "LaunchRoleName", role_name=launch_role_name(config, team),
                               assumed_by=iam.ServicePrincipal("servicecatalog.amazonaws.com"),
                               description="Name holder of the launch constraint (no permissions); the launch role "
                                           "with this name in each workload account is used")
        self.portfolio = TeamPortfolio(self, "Catalog", config=config, team=team,
                                       entries=offered_templates(config, team, None), launch_role=name_holder,
                                       display_name=f"{org.name} {team.name} projects")
        for name in team.accounts.by_stage().values():
            self.portfolio.portfolio.share_with_account(config.account(name).id, share_tag_options=True)
        CfnOutput(self, "PortfolioId", value=self.portfolio.portfolio.portfolio_id,
                  description="Put this id in teams[].catalog.governance_portfolio_id, then deploy the workload "
                              "accounts' catalog stacks")


class LabelingWorkforceStack(Stack):
    """The account's Ground Truth private workforce: a Cognito user pool of labelers (invited by
    an administrator, MFA required, no self sign-up) and the workforce, whose worker portal is
    reached through a VPC endpoint SageMaker creates in the isolated subnets."""

    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, account: Account,
                 network: PrivateNetwork, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        org = config.organisation
        self.user_pool = cognito.UserPool(
            self, "Labelers", user_pool_name=f"{org.name}-{account.name}-labelers",
            self_sign_up_enabled=False, sign_in_aliases=cognito.SignInAliases(email=True),
            mfa=cognito.Mfa.REQUIRED, mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            password_policy=cognito.PasswordPolicy(min_length=14, require_digits=True, require_lowercase=True,
                                                   require_uppercase=True, require_symbols=True,
                                                   temp_password_validity=Duration.days(3)),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY, deletion_protection=True,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.client = self.user_pool.add_client(
            "Workforce", generate_secret=True,
            o_auth=cognito.OAuthSettings(flows=cognito.OAuthFlows(authorization_code_grant=True),
                                         scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL,
                                                 cognito.OAuthScope.PROFILE],
                                         callback_urls=["https://localhost"]),
        )
        self.domain = self.user_pool.add_domain("Domain", cognito_domain=cognito.CognitoDomainOptions(
            domain_prefix=f"{org.name}-{account.id}-labelers"))
        group = endpoints_only_security_group(self, "PortalSecurityGroup", vpc=network.vpc,
                                              description="Ground Truth worker portal endpoint: HTTPS from the VPC")
        group.add_ingress_rule(ec2.Peer.ipv4(network.cidr), ec2.Port.tcp(443), "Labelers reach the portal from the VPC")
        subnets = network.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids
        self.workforce = sagemaker.CfnWorkforce(
            self, "Workforce", workforce_name="default",
            cognito_config=sagemaker.CfnWorkforce.CognitoConfigProperty(
                client_id=self.client.user_pool_client_id, user_pool=self.user_pool.user_pool_id),
            workforce_vpc_config=sagemaker.CfnWorkforce.WorkforceVpcConfigRequestProperty(
                vpc_id=network.vpc.vpc_id, security_group_ids=[group.security_group_id], subnets=subnets[:2]),
        )
        self.workforce.node.add_dependency(self.domain)


def check_platform_values(stacks: Iterable[ProjectProductStack], available: set[PlatformValue],
                           account: Account) -> None:
    """Every SSM parameter a product reads is written by the catalog stack of the account."""
    for stack in stacks:
        missing = stack.platform_values - available
        if missing:
            raise ValueError(f"template {stack.props.template_id} needs {sorted(v.key for v in missing)}, which account "
                             f"{account.name} does not provide (features, or central endpoints of an existing VPC)")


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


class CatalogBuilder:
    """Adds the catalog stacks of every account to the app (called once per account by
    ``build_app``); the governance account's shared portfolios are built on first use."""

    def __init__(self, app: Construct, config: OrgConfig) -> None:
        self._app = app
        self._config = config
        self._hubs: dict[str, GovernanceCatalogStack] = {}

    def _name(self, *parts: str) -> str:
        return "-".join((self._config.organisation.name, *parts))

    def _env(self, account: Account) -> Environment:
        return Environment(account=account.id, region=self._config.organisation.region)

    def hub(self, team: Team) -> GovernanceCatalogStack:
        """The team's portfolio in the governance account (share_from_governance)."""
        if team.name not in self._hubs:
            governance = next(a for a in self._config.accounts if a.role == "governance")
            self._hubs[team.name] = _tagged(team, GovernanceCatalogStack(
                self._app, self._name(governance.name, team.name, "catalog"), config=self._config, team=team,
                env=self._env(governance),
                description=f"FMOps Foundation {self._config.organisation.name}: project templates of team "
                            f"{team.name}, shared with its accounts"))
        return self._hubs[team.name]

    def add(self, account: Account, *, network: PrivateNetwork, team_stacks: dict[str, Stack],
            data_keys: dict[str, str], guardrails: dict[str, Guardrail | None],
            scope: Construct | None = None) -> list[Stack]:
        """The catalog stacks of ``account``: one per team with feature service-catalog, and the
        labeling workforce when one of them labels data here.

        :param scope: where the account's stacks go (its Stage in mode organisation); they are then
            given their construct id as stack name, which a Stage would otherwise prefix. The
            governance account's shared portfolios always go in the app (never in a stage).
        """
        config, org = self._config, self._config.organisation
        parent = scope if scope is not None else self._app

        def named(*parts: str) -> dict[str, str]:
            name = self._name(*parts)
            return {"construct_id": name, **({"stack_name": name} if scope is not None else {})}

        teams = [t for t in config.teams_in(account) if Feature.SERVICE_CATALOG in t.features]
        labelers = [t for t in teams if any(e.id == LABELING_TEMPLATE for e in offered_templates(config, t, account))]
        labeling = None
        if labelers:
            labeling = LabelingWorkforceStack(
                parent, **named(account.name, "labeling"), config=config, account=account, network=network,
                env=self._env(account),
                description=f"FMOps Foundation {org.name}: Ground Truth private workforce of {account.name}")
        created: list[Stack] = [labeling] if labeling else []
        for team in teams:
            shared = self.hub(team).portfolio.resource_types() if team.catalog.share_from_governance else None
            stack = _tagged(team, CatalogStack(
                parent, **named(account.name, team.name, "catalog"), config=config, account=account,
                team=team, network=network, data_key_arn=data_keys[team.name], guardrail=guardrails.get(team.name),
                labeling=labeling if team in labelers else None, shared_resource_types=shared,
                env=self._env(account),
                description=f"FMOps Foundation {org.name}: project templates of team {team.name} in {account.name}"))
            stack.add_stack_dependency(team_stacks[team.name])  # boundary and launcher roles, referenced by name
            if shared is not None:
                offered = {entry.id for entry in offered_templates(config, team, account)}
                check_platform_values([s for template_id, s in self.hub(team).portfolio.product_stacks.items()
                                       if template_id in offered], stack.platform.available, account)
            created.append(stack)
        return created


LABELING_TEMPLATE = "data-labeling"


def _tagged(team: Team, stack: Stack) -> Stack:
    Tags.of(stack).add(TAG_TEAM, team.name)
    Tags.of(stack).add(TAG_COST_CENTRE, team.cost_centre)
    return stack
