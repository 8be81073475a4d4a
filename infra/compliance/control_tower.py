"""AWS Control Tower's proactive controls (cfn-guard rules) as a gate at every synth.

The rules and the cfn-guard binary come from ``cdklabs-cdk-validator-cfnguard`` (PyPI, pinned in
requirements.txt): AWS's published Control Tower proactive-control rules (``CT.S3.PR.1``...) and
the cfn-guard 3 binary for Linux and macOS, both inside the package, so nothing is downloaded at
synth. ``ControlTowerChecks`` runs that binary over every template of the app, Service Catalog
product templates included, and fails the synth on any violation that is not acknowledged.

What differs from registering the package's ``CfnGuardValidator`` directly:

- **Every violation is an error.** The package reports violations without a severity, and CDK
  (2.275) recomputes a plugin's verdict after acknowledgments as "no remaining violation of
  severity error": with a single acknowledgment anywhere, every other violation would pass.
- **Only the rules that can apply run.** cfn-guard evaluates every rule file against every
  template (237 rule files, about 12 ms per rule and template). Each Control Tower rule selects
  its resources by type (``Resources.*[ Type == 'AWS::S3::Bucket' ]``) and skips a template
  without them, so the templates are grouped by the set of rules whose resource types they
  contain and each group is checked with those rules only; a rule that names no resource type
  always runs. The verdicts are the same (``tests/test_compliance.py``).
- **cfn-guard runs as a process per group, in parallel, and its report is read here.** The
  package's validator runs inside the jsii Node process, one group at a time, and cannot read a
  failed check that has no traversed path (0.0.62; CT.CLOUDWATCH.PR.3 gives one for a
  ``KmsKeyId`` that is a template parameter). ``_violations`` reads cfn-guard's structured
  report: each failed rule is one violation, at every resource path its checks name; a failed
  rule whose checks name no resource is reported against every resource of the types it selects,
  so nothing fails unseen.

A violation's rule name is the control's ID (``CT.KMS.PR.3``). Accept one with a reason in
``fmops_constructs/acknowledge.py`` (rule ``fmops-control-tower::CT.KMS.PR.3``), on the construct
that owns the resource.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii

from infra.assembly.assets import with_asset_templates
from infra.assembly.stacks import read_json

PLUGIN_NAME = "fmops-control-tower"
PACKAGE = "cdklabs-cdk-validator-cfnguard"
RULES_FOLDER = "package/rules/control-tower/cfn-guard"
DOCUMENTATION = "https://github.com/cdklabs/cdk-validator-cfnguard#bundled-control-tower-rules"
_RESOURCE_TYPE = re.compile(r'"(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)"')
_CONTROL_ID = re.compile(r"\[(CT\.[A-Z0-9]+\.PR\.\d+)\]")
_RULE_NAME = re.compile(r"^rule\s+([A-Za-z0-9_]+)\s*(?:when\b|\{)", re.MULTILINE)
_TEMPLATES_PER_RUN = 16  # runs small enough to share out over the cores; each run parses its rules once
_FAILED, _PASSED = 19, 0  # cfn-guard's exit codes for "some rule failed" and "all passed"


def package_version() -> str:
    from importlib.metadata import version
    return version(PACKAGE)


def _binary_folder() -> str:
    """The package's folder for this machine's cfn-guard (its own platform names)."""
    system = {"Linux": "ubuntu", "Darwin": "macos"}.get(platform.system())
    machine = {"x86_64": "x86_64", "AMD64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}.get(platform.machine())
    if system is None or machine is None:
        raise RuntimeError(f"{PACKAGE} ships cfn-guard for Linux and macOS on x86_64 or arm64, "
                           f"not {platform.system()} {platform.machine()}")
    return f"package/bin/{system}/{machine}/cfn-guard"


@lru_cache(maxsize=1)
def unpacked() -> Path:
    """The package's rules and this machine's cfn-guard, unpacked once per package version into
    ``~/.cache/fmops/control-tower-<version>`` (they ship inside its jsii assembly, a tarball).
    Unpacked beside, then renamed: a concurrent synth sees all of it or none."""
    import cdklabs.cdk_validator_cfnguard._jsii as assembly
    folder = Path.home() / ".cache" / "fmops" / f"control-tower-{package_version()}"
    binary = _binary_folder()
    if not (folder / binary).is_file():
        [tarball] = Path(assembly.__file__).parent.glob("*.jsii.tgz")
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent))
        with tarfile.open(tarball) as archive:
            members = [m for m in archive.getmembers()
                       if m.isfile() and (m.name.startswith(RULES_FOLDER) or m.name == binary)]
            archive.extractall(staging, members=members, filter="data")
        (staging / binary).chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)  # an earlier unpack without the binary
        try:
            os.rename(staging, folder)
        except OSError:  # another process was first
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def guard_binary() -> Path:
    return unpacked() / _binary_folder()


@dataclass(frozen=True)
class RuleFile:
    """One bundled rule file: the resource types it selects (empty: any) and the names of the
    rules it reports (cfn-guard reports every named rule that takes no parameters)."""

    path: Path
    selects: frozenset[str]
    rules: frozenset[str]
    control: str


@lru_cache(maxsize=1)
def rule_files() -> dict[Path, RuleFile]:
    """Each bundled Control Tower rule file, by path."""
    found = {}
    for path in sorted((unpacked() / RULES_FOLDER).rglob("*.guard")):
        text = path.read_text()
        control = _CONTROL_ID.search(text)
        found[path] = RuleFile(path, frozenset(_RESOURCE_TYPE.findall(text)), frozenset(_RULE_NAME.findall(text)),
                               control.group(1) if control else path.stem)
    return found


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
        return sorted({rule.control for rule in rule_files().values()})

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        violations = check_templates(with_asset_templates(context.template_paths))
        return cdk.PolicyValidationPluginReport(success=not violations, violations=violations,
                                                plugin_version=package_version())


def check_templates(templates: Sequence[Path]) -> list[cdk.PolicyViolation]:
    """The Control Tower violations of ``templates``, every one an error (module docstring)."""
    with tempfile.TemporaryDirectory(prefix="fmops-control-tower-") as folder:
        runs, origin = _runs(templates, Path(folder))
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            results = list(pool.map(lambda run: _guard(*run), runs))
    return [violation for (rules, _), reports in zip(runs, results) for report in reports
            for violation in _violations(report, rules, origin[Path(report["name"])])]


def _runs(templates: Sequence[Path], folder: Path) -> tuple[list[tuple[list[Path], list[Path]]], dict[Path, Path]]:
    """The cfn-guard runs that check ``templates``, and the template each of their data files
    stands for. The rule files that select the same resource types run together, over a copy of
    each template that holds only those resources (every other part of the template is kept);
    a rule that selects no type runs over the whole template."""
    by_selects: dict[frozenset[str], list[Path]] = defaultdict(list)
    for path, rule in rule_files().items():
        by_selects[rule.selects].append(path)
    documents = {template: read_json(template) for template in templates}
    origin = {template: template for template in templates}
    runs = []
    for number, (selects, rules) in enumerate(by_selects.items()):
        data = []
        for index, (template, document) in enumerate(documents.items()):
            if not selects:
                data.append(template)
                continue
            resources = {logical_id: resource for logical_id, resource in document.get("Resources", {}).items()
                         if resource.get("Type") in selects}
            if resources:
                copy = folder / f"{number}-{index}.json"
                copy.write_text(json.dumps({**document, "Resources": resources}))
                origin[copy] = template
                data.append(copy)
        runs += [(rules, data[start:start + _TEMPLATES_PER_RUN]) for start in range(0, len(data), _TEMPLATES_PER_RUN)]
    return runs, origin


def _guard(rules: Sequence[Path], templates: Sequence[Path]) -> list[dict[str, Any]]:
    """cfn-guard's structured report of ``rules`` over ``templates``: one entry per template."""
    command = [str(guard_binary()), "validate", *[a for r in rules for a in ("--rules", str(r))],
               *[a for t in templates for a in ("--data", str(t))],
               "--output-format", "json", "--show-summary", "none", "--structured"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in (_FAILED, _PASSED):
        raise RuntimeError(f"cfn-guard exited {done.returncode} on {', '.join(map(str, templates))}: "
                           f"{done.stderr.strip()[:2000]}")
    return json.loads(done.stdout)


def _violations(report: dict[str, Any], rules: Sequence[Path], template: Path) -> Iterator[cdk.PolicyViolation]:
    """One violation per failed rule of one data file's report (module docstring), against
    ``template``, the template the data file stands for."""
    by_name = {name: rule_files()[path] for path in rules for name in rule_files()[path].rules}
    resources: dict[str, dict[str, Any]] | None = None
    for failed in report.get("not_compliant") or []:
        name, messages, paths = _read_failed(failed)
        rule = by_name.get(name)
        control = next((c for m in messages for c in _CONTROL_ID.findall(m)), rule.control if rule else name)
        located: dict[str, list[str]] = defaultdict(list)
        for location in paths:
            located[location.split("/")[2]].append(location)
        if not located:  # a failed check without a resource path: every resource the rule selects
            resources = resources if resources is not None else read_json(template).get("Resources", {})
            selects = rule.selects if rule else frozenset().union(*(rule_files()[p].selects for p in rules))
            located = {logical_id: [f"/Resources/{logical_id}"] for logical_id, resource in resources.items()
                       if resource.get("Type") in selects}
        description, fix = _described(messages, control)
        yield cdk.PolicyViolation(
            rule_name=control, severity="error", description=description, fix=fix,
            rule_metadata={"DocumentationUrl": DOCUMENTATION},
            violating_resources=[cdk.PolicyViolatingResource(resource_logical_id=logical_id, template_path=str(template),
                                                             locations=sorted(set(locations)))
                                 for logical_id, locations in located.items()])


def _read_failed(failed: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    """A failed rule of cfn-guard's structured report: its name, every message in it, and every
    resource path its checks reached. The report's shape depends on how the rule is written (Rule,
    Block, Clause, Unary or Binary checks, resolved or not), so the whole tree is walked."""
    messages: list[str] = []
    paths: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("path"), str) and "value" in node:  # a traversed template value
                if node["path"].startswith("/Resources/"):
                    paths.append(node["path"])
                return  # its value is template data, not report
            for child_key, child in node.items():
                if child_key == "messages" and isinstance(child, dict):
                    messages.extend(m for m in child.values() if isinstance(m, str))
                else:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    [(_, body)] = failed.items()  # {"Rule": {...}}
    walk(body)
    return body.get("name", ""), messages, paths


def _described(messages: Sequence[str], control: str) -> tuple[str, str]:
    """The control's description and fix, from its ``[CT...]:`` and ``[FIX]:`` message lines."""
    description = fix = ""
    for message in messages:
        for line in (part.strip() for part in message.splitlines()):
            if line.startswith("[FIX]") and not fix:
                fix = re.sub(r"^\[FIX\]:\s*", "", line)
            elif line.startswith(f"[{control}]") and not description:
                description = line
    return description or control, fix or "N/A"
