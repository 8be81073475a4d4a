"""Compliance gates that run at every synth: three cdk-nag packs, AWS Control Tower's proactive
controls (cfn-guard), our internet-free pack and the cost-allocation tag check."""

from __future__ import annotations

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks

from infra.compliance.control_tower import ControlTowerChecks
from infra.compliance.cost_tags import CostAllocationTagChecks
from infra.compliance.internet_free.organisation import UNKNOWN_ORGANISATION, Organisation
from infra.compliance.internet_free.plugin import InternetFreeChecks

NAG_PACKS = ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5")


def add_compliance_checks(app: App, organisation: Organisation = UNKNOWN_ORGANISATION, *,
                          control_tower: bool = True) -> None:
    """Register the packs as validation plugins: any unacknowledged finding fails the synth.

    ``organisation`` (from the config) is what the internet-free pack counts as inside.
    ``control_tower``: also run the Control Tower rules (cfn-guard). Default: true, as in every
    ``cdk synth``; only test synths that check something else (sizes, logical IDs, scoped
    templates) turn it off, because it is the slowest gate (tests/conftest.py).
    """
    plugins = [AwsSolutionsChecks(app), HIPAASecurityChecks(app), NIST80053R5Checks(app)]
    if control_tower:
        plugins.append(ControlTowerChecks())
    Validations.of(app).add_plugins(*plugins, InternetFreeChecks(organisation), CostAllocationTagChecks())
