"""TeamBudgetAlarm: a monthly cost budget on the team's cost-allocation tag, e-mail at 80% actual
and 100% forecast."""

from __future__ import annotations

import pytest

from fmops_constructs.budget import TeamBudgetAlarm
from tests.constructs.bare import ORG, TEAM, app_names, bare_stack, only, template


@pytest.fixture(scope="module")
def synthesized():
    stack = bare_stack()
    TeamBudgetAlarm(stack, "Budget", team=TEAM, tag_key=f"{ORG}:team", monthly_usd=2500,
                    alert_emails=["lead@example.com", "finance@example.com"])
    return template(stack)


def test_monthly_cost_budget_on_the_team_tag(synthesized):
    budget = only(synthesized, "AWS::Budgets::Budget")["Budget"]
    assert budget["BudgetType"] == "COST" and budget["TimeUnit"] == "MONTHLY"
    assert budget["BudgetLimit"] == {"Amount": 2500, "Unit": "USD"}
    assert budget["CostFilters"] == {"TagKeyValue": [f"user:{ORG}:team${TEAM}"]}


def test_alerts_at_80_percent_actual_and_100_percent_forecast(synthesized):
    notifications = only(synthesized, "AWS::Budgets::Budget")["NotificationsWithSubscribers"]
    assert [(n["Notification"]["NotificationType"], n["Notification"]["Threshold"]) for n in notifications] == [
        ("ACTUAL", 80), ("FORECASTED", 100)]
    assert all([s["Address"] for s in n["Subscribers"]] == ["lead@example.com", "finance@example.com"]
               for n in notifications)


def test_carries_no_app_names(synthesized):
    assert app_names(synthesized) == []
