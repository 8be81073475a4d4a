"""``<org>-<governance>-<team>-catalog`` (``catalog.share_from_governance``): the team's portfolio and
products, published once and shared with each of the team's workload accounts."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra import naming
from infra.plan import TeamPlan
from infra.stacks.catalog.offer import offered_templates
from infra.stacks.catalog.portfolio import TeamPortfolio


class GovernanceCatalogStack(Stack):
    """The team's portfolio published once in the governance account and shared with each of the
    team's workload accounts (with its TagOptions). The launch constraints name the launch role
    by name; Service Catalog requires a role of that name here too, so the stack holds one
    without any permission (launching here is not possible: the portfolio has no principals)."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: TeamPlan, share_with: Sequence[str],
                 **kwargs) -> None:
        """:param plan: the team (in any of its accounts: the portfolio offers every stage's templates).
        :param share_with: the ids of the team's workload accounts."""
        super().__init__(scope, construct_id, **kwargs)
        org, team = plan.org, plan.team
        name_holder = iam.Role(self, "LaunchRoleName", role_name=naming.catalog_launch_role_name(org.name, team.name),
                               assumed_by=iam.ServicePrincipal("servicecatalog.amazonaws.com"),
                               description="Name holder of the launch constraint (no permissions); the launch role "
                                           "with this name in each workload account is used")
        self.portfolio = TeamPortfolio(self, "Catalog", plan=plan,
                                       entries=offered_templates(team, None), launch_role=name_holder,
                                       display_name=f"{org.name} {team.name} projects")
        for account_id in share_with:
            self.portfolio.portfolio.share_with_account(account_id, share_tag_options=True)
        CfnOutput(self, "PortfolioId", value=self.portfolio.portfolio.portfolio_id,
                  description="Put this id in teams[].catalog.governance_portfolio_id, then deploy the workload "
                              "accounts' catalog stacks")
