"""Self-service project templates: the team's Service Catalog portfolio in each of its accounts.

* :class:`CatalogStack` (``team_catalog.py``, ``<org>-<account>-<team>-catalog``): what the team's
  projects run on, the launch role, end-user access and model promotion, and the portfolio
  unless it is shared from the governance account;
* :class:`GovernanceCatalogStack` (``governance.py``, ``<org>-<governance>-<team>-catalog``): the
  portfolio published once and shared with the team's workload accounts;
* :class:`LabelingWorkforceStack` (``labeling.py``, ``<org>-<account>-labeling``): the account's
  Ground Truth private workforce.

One stack per team keeps every stack small (35 to 60 resources, whatever the number of teams)
and lets a team be added or removed without touching another team's portfolio. Which templates
a team gets is decided in ``offer.py``; the portfolio and products are built in ``portfolio.py``
and the SSM parameters, key and security group the products read in ``project_platform.py``.
"""

from infra.stacks.catalog.governance import GovernanceCatalogStack
from infra.stacks.catalog.labeling import LabelingWorkforceStack
from infra.stacks.catalog.offer import LABELING_TEMPLATE, offered_templates, template_props
from infra.stacks.catalog.team_catalog import CatalogStack, check_platform_values

__all__ = ["LABELING_TEMPLATE", "CatalogStack", "GovernanceCatalogStack", "LabelingWorkforceStack",
           "check_platform_values", "offered_templates", "template_props"]
