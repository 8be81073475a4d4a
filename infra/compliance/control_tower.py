"""AWS Control Tower's proactive controls (cfn-guard rules) as a gate at every synth.

The rules and the cfn-guard binary come from ``cdklabs-cdk-validator-cfnguard`` (PyPI, pinned in
requirements.txt): AWS's published Control Tower proactive-control rules (``CT.S3.PR.1``...) and
the cfn-guard 3 binary for Linux and macOS, both inside the package, so nothing is downloaded at
synth. ``ControlTowerChecks`` runs them through the package's own ``CfnGuardValidator`` over every
template of the app, Service Catalog product templates included, and fails the synth on any
violation that is not acknowledged.

Two things differ from registering ``CfnGuardValidator`` directly:

- **Every violation is an error.** The package reports violations without a severity, and CDK
  (2.275) recomputes a plugin's verdict after acknowledgments as "no remaining violation of
  severity error": with a single acknowledgment anywhere, every other violation would pass.
- **Only the rules that can apply run.** cfn-guard evaluates every rule file against every
  template (314 rules; about 2.5 s of CPU per template, several minutes for the default
  organisation). Each Control Tower rule selects its resources by type (``Resources.*[ Type ==
  'AWS::S3::Bucket' ]``) and skips a template without them, so the templates are grouped by the
  set of rules whose resource types they contain and each group is checked with those rules
  only; a rule that names no resource type always runs. The verdicts are the same.

A violation's rule name is the control's ID (``CT.KMS.PR.3``). Accept one with a reason in
``fmops_constructs/acknowledge.py`` (rule ``fmops-control-tower::CT.KMS.PR.3``), on the construct
that owns the resource.
"""

from __future__ import annotations

import re
import os
import shutil
import tarfile
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import aws_cdk as cdk
import jsii
from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

from infra.assembly.assets import with_asset_templates
from infra.assembly.stacks import read_json

PLUGIN_NAME = "fmops-control-tower"
RULES_FOLDER = "package/rules/control-tower/cfn-guard"
_RESOURCE_TYPE = re.compile(r'"(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)"')
UNREADABLE = "CfnGuardValidator plugin failed processing cfn-guard results"
_CONTROL_ID = re.compile(r"\[(CT\.[A-Z0-9]+\.PR\.\d+)\]")


def package_version() -> str:
    from importlib.metadata import version
    return version("cdklabs-cdk-validator-cfnguard")


@lru_cache(maxsize=1)
def rule_files() -> dict[Path, frozenset[str]]:
    """Each bundled Control Tower rule file -> the resource types it selects (empty: any).

    The rules ship inside the package's jsii assembly (a tarball); they are unpacked once per
    package version into ``~/.cache/fmops/control-tower-<version>``."""
    import cdklabs.cdk_validator_cfnguard._jsii as assembly
    folder = Path.home() / ".cache" / "fmops" / f"control-tower-{package_version()}"
    rules = folder / RULES_FOLDER
    if not rules.is_dir():  # unpacked beside, then renamed: a concurrent synth sees all rules or none
        [tarball] = Path(assembly.__file__).parent.glob("*.jsii.tgz")
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent))
        with tarfile.open(tarball) as archive:
            members = [m for m in archive.getmembers() if m.name.startswith(RULES_FOLDER) and m.isfile()]
            archive.extractall(staging, members=members, filter="data")
        try:
            os.rename(staging, folder)
        except OSError:  # another process was first
            shutil.rmtree(staging, ignore_errors=True)
    return {path: frozenset(_RESOURCE_TYPE.findall(path.read_text()))
            for path in sorted(rules.rglob("*.guard"))}


def _resource_types(template_file: Path) -> frozenset[str]:
    return frozenset(r.get("Type", "") for r in read_json(template_file).get("Resources", {}).values())


def applicable_rules(template_file: Path) -> tuple[Path, ...]:
    """The rule files that can report on a resource of ``template_file``."""
    types = _resource_types(template_file)
    return tuple(path for path, selects in rule_files().items() if not selects or selects & types)


@jsii.implements(cdk.IPolicyValidationContextBeta1)
class _Templates:
    def __init__(self, paths: list[Path]) -> None:
        self._paths = [str(p) for p in paths]

    @property
    def template_paths(self) -> list[str]:
        return self._paths


@jsii.implements(cdk.IPolicyValidationPlugin)
class ControlTowerChecks:
    """The Control Tower proactive controls over every synthesized template (module docstring)."""

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def version(self) -> str:
        return package_version()

    @property
    def rule_ids(self) -> list[str]:
        return sorted({m for path in rule_files() for m in _CONTROL_ID.findall(path.read_text())})

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        groups: dict[tuple[Path, ...], list[Path]] = defaultdict(list)
        for template in with_asset_templates(context.template_paths):
            rules = applicable_rules(template)
            if rules:
                groups[rules].append(template)
        violations = []
        for rules, templates in groups.items():
            violations += _checked(rules, templates)
        return cdk.PolicyValidationPluginReport(success=not violations, violations=violations,
                                                plugin_version=package_version())


def _guard(rules: Sequence[Path], templates: Sequence[Path]) -> list[cdk.PolicyViolation]:
    report = CfnGuardValidator(control_tower_rules_enabled=False, rules=[str(r) for r in rules]).validate(
        _Templates(list(templates)))
    return [_as_error(v) for v in report.violations]


def _checked(rules: Sequence[Path], templates: Sequence[Path]) -> list[cdk.PolicyViolation]:
    """The violations of ``rules`` in ``templates``. The validator cannot read some of cfn-guard's
    results (0.0.62 fails on a failed check without a traversed path, as CT.CLOUDWATCH.PR.3 gives
    for a KmsKeyId that is a template parameter): then each template runs alone and, where it
    still fails, its rules are halved until the rule whose result cannot be read is found; that
    pair is reported against every resource the rule selects there, so nothing passes unseen."""
    try:
        return _guard(rules, templates)
    except RuntimeError as error:
        _unless_unreadable(error)
    return [violation for template in templates for violation in _bisected(rules, template)]


def _bisected(rules: Sequence[Path], template: Path) -> list[cdk.PolicyViolation]:
    try:
        return _guard(rules, [template])
    except RuntimeError as error:
        _unless_unreadable(error)
    if len(rules) == 1:
        return [_unreadable(rules[0], template)]
    half = len(rules) // 2
    return _bisected(rules[:half], template) + _bisected(rules[half:], template)


def _unless_unreadable(error: RuntimeError) -> None:
    """Re-raise anything but the validator's own "failed processing cfn-guard results"."""
    if UNREADABLE not in str(error):
        raise error


def _unreadable(rule: Path, template: Path) -> cdk.PolicyViolation:
    selects = rule_files()[rule]
    text = rule.read_text()
    found = _CONTROL_ID.search(text)
    resources = [logical_id for logical_id, r in read_json(template).get("Resources", {}).items()
                 if r.get("Type") in selects]
    return cdk.PolicyViolation(
        rule_name=found.group(1) if found else rule.stem, severity="error",
        description=f"{found.group(1) if found else rule.stem} ({rule.name}) failed on this resource; "
                    "cdk-validator-cfnguard cannot read cfn-guard's result, run cfn-guard on the template for details",
        fix=f"cfn-guard validate --rules {rule} --data {template}",
        violating_resources=[cdk.PolicyViolatingResource(resource_logical_id=r, template_path=str(template),
                                                         locations=[f"/Resources/{r}"]) for r in resources])


def control_id(violation: cdk.PolicyViolationBeta1) -> str:
    """``CT.KMS.PR.3`` from the violation's description, else cfn-guard's rule name."""
    found = _CONTROL_ID.search(violation.description or "")
    return found.group(1) if found else violation.rule_name


def _as_error(violation: cdk.PolicyViolationBeta1) -> cdk.PolicyViolation:
    return cdk.PolicyViolation(
        rule_name=control_id(violation),
        description=violation.description,
        fix=violation.fix,
        severity="error",
        rule_metadata=violation.rule_metadata,
        violating_resources=[cdk.PolicyViolatingResource(
            resource_logical_id=r.resource_logical_id, template_path=r.template_path, locations=list(r.locations))
            for r in violation.violating_resources],
    )
