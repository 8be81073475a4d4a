"""What launchers need besides their row of the access matrix: Service Catalog end-user access.

Launchers are the team personas whose ``create-project`` cell is ``allow``
(:func:`infra.plan.launchers.launcher_personas`). The catalog stack gives their persona roles
:func:`end_user_statements`; the Studio stack gives their Studio execution roles
:func:`studio_launch_statements`. Both are plain policy statements (dicts with ``Fn::Sub``
variables), so the offline evaluation in the tests reads exactly what the stacks deploy.
"""

from __future__ import annotations

from infra import naming
from infra.naming import SUB_ACCOUNT, SUB_PARTITION, SUB_REGION, TAG_TEAM
from infra.plan import TeamPlan

# Service Catalog end-user calls that IAM authorizes only on "*" (no resource type), read-only.
FIND_PRODUCTS = ["servicecatalog:SearchProducts", "servicecatalog:ListPortfolios",
                 "servicecatalog:ListAcceptedPortfolioShares", "servicecatalog:DescribeProductView"]
# Calls on a product (resource type Product): look at it and launch it.
LAUNCH_PRODUCT = ["servicecatalog:DescribeProduct", "servicecatalog:DescribeProvisioningParameters",
                  "servicecatalog:DescribeProvisioningArtifact", "servicecatalog:ListLaunchPaths",
                  "servicecatalog:ListProvisioningArtifacts", "servicecatalog:ProvisionProduct"]
SAGEMAKER = f"arn:{SUB_PARTITION}:sagemaker:{SUB_REGION}:{SUB_ACCOUNT}"


def product_arns(plan: TeamPlan) -> list[str]:
    """``Fn::Sub`` patterns of the team's products as a launcher in the account sees them: the
    account's own, and the governance account's when the portfolio is shared from there."""
    accounts = [SUB_ACCOUNT]
    if plan.team.catalog.share_from_governance:
        accounts.append(plan.org.governance_account.id)  # type: ignore[union-attr]
    return [f"arn:{SUB_PARTITION}:catalog:{SUB_REGION}:{account}:product/*" for account in accounts]


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
         "Resource": [f"arn:{SUB_PARTITION}:cloudformation:{SUB_REGION}:{SUB_ACCOUNT}:stack/"
                      f"SC-{SUB_ACCOUNT}-pp-*/*"]},
        {"Sid": "ChangeOwnProjects", "Effect": "Allow", "Resource": ["*"],
         "Action": ["servicecatalog:UpdateProvisionedProduct", "servicecatalog:TerminateProvisionedProduct"],
         "Condition": {"StringEquals": {"servicecatalog:roleLevel": "self"}}},
    ]


def studio_launch_statements(plan: TeamPlan) -> list[dict]:
    """What the execution role of a launcher's Studio user profile needs so that SageMaker Studio
    lists the team's project templates and launches them as SageMaker projects (CreateProject
    provisions the Service Catalog product with the caller's permissions): find products; look at
    and launch only products tagged with the team (``aws:ResourceTag/fmops:team``: the portfolio's
    products carry it), which Service Catalog further limits to the portfolios the role is
    associated with; follow and change projects as the launcher persona role does; create
    SageMaker projects only tagged with the team, and read, change or delete only those."""
    team = plan.team.name
    projects = f"{SAGEMAKER}:project/*"
    return [
        {"Sid": "FindProducts", "Effect": "Allow", "Resource": ["*"], "Action": FIND_PRODUCTS},
        {"Sid": "LaunchTeamProducts", "Effect": "Allow", "Action": LAUNCH_PRODUCT,
         "Resource": product_arns(plan),
         "Condition": {"StringEquals": {f"aws:ResourceTag/{TAG_TEAM}": team}}},
        *_follow_and_change_statements(),
        {"Sid": "CreateTeamProjects", "Effect": "Allow", "Action": ["sagemaker:CreateProject"],
         "Resource": [projects], "Condition": {"StringEquals": {f"aws:RequestTag/{TAG_TEAM}": team}}},
        *_project_statements(plan),
        {"Sid": "ListProjects", "Effect": "Allow", "Resource": ["*"],
         "Action": ["sagemaker:ListProjects", "sagemaker:GetSagemakerServicecatalogPortfolioStatus"]},
    ]


def _project_statements(plan: TeamPlan) -> list[dict]:
    """Tag the SageMaker projects a launcher creates (``sagemaker:CreateProject`` itself is the
    persona matrix's create-project cell), then follow, change or delete only the team's. On
    the project path (no Service Catalog), also: read the team's project-template parameters and
    the templates they name, and pass the team's project role, the one role those templates run
    with."""
    team = plan.team.name
    projects = f"{SAGEMAKER}:project/*"
    statements = [
        {"Sid": "TagTeamProjectsOnCreate", "Effect": "Allow", "Action": ["sagemaker:AddTags"], "Resource": [projects],
         "Condition": {"StringEquals": {f"aws:RequestTag/{TAG_TEAM}": team},
                       "Null": {"sagemaker:TaggingAction": "false"}}},
        {"Sid": "UseTeamProjects", "Effect": "Allow", "Resource": [projects],
         "Action": ["sagemaker:DescribeProject", "sagemaker:UpdateProject", "sagemaker:DeleteProject"],
         "Condition": {"StringEquals": {f"aws:ResourceTag/{TAG_TEAM}": team}}},
    ]
    if plan.team.catalog.project_path != "project":
        return statements
    org = plan.org.name
    parameters = naming.project_template_parameter(org, team)
    return statements + [
        {"Sid": "ReadProjectTemplateParameters", "Effect": "Allow",
         "Action": ["ssm:GetParametersByPath", "ssm:GetParameter"],
         "Resource": [f"arn:{SUB_PARTITION}:ssm:{SUB_REGION}:{SUB_ACCOUNT}:parameter{parameters}",
                      f"arn:{SUB_PARTITION}:ssm:{SUB_REGION}:{SUB_ACCOUNT}:parameter{parameters}/*"]},
        {"Sid": "ReadProjectTemplates", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": [f"arn:{SUB_PARTITION}:s3:::cdk-*-assets-{SUB_ACCOUNT}-{SUB_REGION}/*.json"]},
        {"Sid": "SummariseProjectTemplates", "Effect": "Allow", "Action": ["cloudformation:GetTemplateSummary"],
         "Resource": ["*"]},
        {"Sid": "PassTheProjectRole", "Effect": "Allow", "Action": ["iam:PassRole"],
         "Resource": [naming.role_arn(SUB_PARTITION, SUB_ACCOUNT, naming.project_launch_role_name(org, team))],
         "Condition": {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}},
        {"Sid": "ReadTeamProjectStacks", "Effect": "Allow",
         "Action": ["cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents"],
         "Resource": [f"arn:{SUB_PARTITION}:cloudformation:{SUB_REGION}:{SUB_ACCOUNT}:stack/*"],
         "Condition": {"StringEquals": {f"aws:ResourceTag/{TAG_TEAM}": team}}},
    ]


def end_user_statements(plan: TeamPlan) -> list[dict]:
    """What the launcher personas need besides the persona matrix to launch and run projects:
    Service Catalog end-user actions (find and launch the portfolio's products, follow
    provisioning in the account (servicecatalog:accountLevel; ``fmops projects`` filters on
    the fmops:team tag), change or terminate what their own role launched
    (servicecatalog:roleLevel)), tagging and following the SageMaker projects they create
    (``fmops provision`` calls CreateProject), and operating the projects: run the team's project
    pipelines and upload code bundles (source s3). They pass no role of a project: those are passed
    only by the project's own resources (its pipeline) and by the launch flow. On the project path
    they pass the team's project role to CloudFormation; it is no stronger than what its templates
    need and is held to the team's names, tag, path and boundary."""
    org, team = plan.org.name, plan.team.name
    return [
        {"Sid": "FindProducts", "Effect": "Allow", "Resource": ["*"], "Action": FIND_PRODUCTS},
        {"Sid": "LaunchProducts", "Effect": "Allow", "Resource": product_arns(plan), "Action": LAUNCH_PRODUCT},
        *_follow_and_change_statements(),
        *_project_statements(plan),
        {"Sid": "RunProjectPipelines", "Effect": "Allow",
         "Resource": [f"{SAGEMAKER}:pipeline/{team}-*", f"{SAGEMAKER}:pipeline/{team}-*/execution/*"],
         "Action": ["sagemaker:StartPipelineExecution", "sagemaker:StopPipelineExecution",
                    "sagemaker:RetryPipelineExecution", "sagemaker:DescribePipeline",
                    "sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutions",
                    "sagemaker:ListPipelineExecutionSteps"]},
        {"Sid": "UploadProjectCodeBundles", "Effect": "Allow", "Action": ["s3:PutObject"],
         "Resource": [f"arn:{SUB_PARTITION}:s3:::{naming.team_bucket_name(org, team, SUB_ACCOUNT, SUB_REGION)}"
                      "/projects/*/code/*"]},
    ]


def end_user_roles(plan: TeamPlan) -> list[str]:
    """The launchers' persona roles and, when the team has Studio, their Studio execution roles."""
    return ([plan.persona_role_name(p) for p in plan.launcher_personas]
            + [plan.studio_role_name(p) for p in plan.studio_launchers])
