"""A monthly AWS Budget of one team, filtered on its cost-allocation tag, with alerts."""

from __future__ import annotations

from aws_cdk import aws_budgets as budgets
from constructs import Construct


class TeamBudgetAlarm(Construct):
    """Budget on the team's cost-allocation tag (``tag_key`` = ``team``): e-mail at 80% of actual
    spend and at 100% of forecast spend. The tag must be activated as a cost allocation tag in the
    payer account's billing console (a one-time step the README lists).

    The tag filter takes every service: Bedrock token spend arrives through the team's (and its
    projects') application inference profiles, which carry the tag (direct calls on the models
    are denied), and SageMaker endpoint hours through the endpoints, endpoint configurations,
    models and inference components, which carry it too.

    :param team: the team, the value of the tag.
    :param tag_key: the key of the cost-allocation tag the team's resources carry.
    :param monthly_usd: the monthly budget.
    :param alert_emails: who is told.
    """

    def __init__(self, scope: Construct, construct_id: str, *, team: str, tag_key: str, monthly_usd: float,
                 alert_emails: list[str]) -> None:
        super().__init__(scope, construct_id)
        subscribers = [budgets.CfnBudget.SubscriberProperty(address=email, subscription_type="EMAIL")
                       for email in alert_emails]
        self.budget = budgets.CfnBudget(
            self, "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=monthly_usd, unit="USD"),
                cost_filters={"TagKeyValue": [f"user:{tag_key}${team}"]},
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type=kind, comparison_operator="GREATER_THAN", threshold=threshold,
                        threshold_type="PERCENTAGE"),
                    subscribers=subscribers,
                )
                for kind, threshold in (("ACTUAL", 80), ("FORECASTED", 100))
            ],
        )
