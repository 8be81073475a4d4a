"""The internet-free rule pack as a CDK policy validation plugin, so it runs at every synth.

Register it once on the app::

    Validations.of(app).add_plugins(InternetFreeChecks(Organisation.of(config)))

A finding fails the synth: an in-process ``app.synth()`` raises, ``cdk synth`` exits non-zero,
and the report (also in ``cdk.out/validation-report.json``) names rule, resource and fix.
Templates of nested stacks and Service Catalog product stacks are checked with their parent.
Exemptions are the ``fmops:internet-free-exempt`` resource metadata described in
``infra/compliance/internet_free/registry.py``, so the plugin and the CLI give the same verdict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import aws_cdk as cdk
import jsii

from infra.compliance.internet_free import RULES, RULES_BY_ID, Finding, check_paths
from infra.compliance.internet_free.organisation import UNKNOWN_ORGANISATION, Organisation

PLUGIN_NAME = "fmops-internet-free"
PLUGIN_VERSION = "1.0.0"


@jsii.implements(cdk.IPolicyValidationPlugin)
class InternetFreeChecks:
    """Runs every ``internet_free`` rule over the templates CDK just synthesized, with
    ``organisation`` (the config's accounts and organisation ID) as the inside."""

    def __init__(self, organisation: Organisation = UNKNOWN_ORGANISATION) -> None:
        self.organisation = organisation

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def rule_ids(self) -> list[str]:
        return [checked.id for checked in RULES]

    @property
    def version(self) -> str:
        return PLUGIN_VERSION

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        findings = check_paths(list(context.template_paths), self.organisation)
        violations = [_violation(rule_id, message, group) for (rule_id, message), group in _grouped(findings)]
        return cdk.PolicyValidationPluginReport(
            success=not violations, violations=violations, plugin_version=PLUGIN_VERSION
        )


def _grouped(findings: Sequence[Finding]) -> list[tuple[tuple[str, str], list[Finding]]]:
    """Findings grouped by (rule id, message), so one report entry lists every resource."""
    groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        groups[(finding.rule_id, finding.message)].append(finding)
    return list(groups.items())


def _violation(rule_id: str, message: str, findings: list[Finding]) -> cdk.PolicyViolation:
    checked = RULES_BY_ID[rule_id]
    return cdk.PolicyViolation(
        rule_name=rule_id,
        description=f"[{checked.perimeter} perimeter] {checked.title}: {message}",
        fix=checked.fix,
        violating_resources=[
            cdk.PolicyViolatingResource(
                resource_logical_id=finding.logical_id,
                template_path=finding.template,
                locations=[message],
            )
            for finding in findings
        ],
    )
