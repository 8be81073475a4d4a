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


def add_compliance_checks(app: App, organisation: Organisation = UNKNOWN_ORGANISATION) -> None:
    """Register the packs as validation plugins: any unacknowledged finding fails the synth.

    ``organisation`` (from the config) is what the internet-free pack counts as inside.
    """
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app),
        HIPAASecurityChecks(app),
        NIST80053R5Checks(app),
        ControlTowerChecks(),
        InternetFreeChecks(organisation),
        CostAllocationTagChecks(),
    )
