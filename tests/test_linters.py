"""cfn-lint and checkov over every synthesized template (default and single-account)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from fmops_constructs.acknowledge import ACKNOWLEDGMENTS
from infra.compliance import cfn_lint
from tests.conftest import REPO

CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"


def _templates(assembly: Path) -> list[str]:
    """Stack and product templates of the assembly and of its nested assemblies (the workload
    accounts' stages in mode organisation)."""
    return [str(p) for p in cfn_lint.templates(assembly)]


@pytest.mark.parametrize("which", ["default_assembly", "single_assembly"])
def test_cfn_lint_finds_no_errors(request, which):
    assembly = request.getfixturevalue(which)
    result = cfn_lint.lint(assembly)
    assert result.templates > 10 and not result.errors, result.errors


def test_cfn_lint_command_reports_errors(tmp_path, default_assembly):
    """`fmops cfn-lint` (run by `make synth`) exits 1 and names the template on an error.

    The command runs on a one-stack assembly (the first platform stack, with a broken resource
    added) rather than a copy of the whole default one: linting every template is the test above.
    """
    manifest = json.loads((default_assembly / "manifest.json").read_text())
    name, artifact = next((k, a) for k, a in sorted(manifest["artifacts"].items())
                          if a.get("type") == "aws:cloudformation:stack" and k.endswith("-platform"))
    template = json.loads((default_assembly / artifact["properties"]["templateFile"]).read_text())
    template["Resources"]["Broken"] = {"Type": "AWS::S3::Bucket", "Properties": {"NoSuchProperty": 1}}
    broken = tmp_path / "cdk.out"
    broken.mkdir()
    path = broken / artifact["properties"]["templateFile"]
    path.write_text(json.dumps(template))
    (broken / "manifest.json").write_text(json.dumps({"version": manifest["version"], "artifacts": {name: artifact}}))
    result = subprocess.run([str(REPO / ".venv" / "bin" / "fmops"), "cfn-lint", str(broken)],
                            capture_output=True, text=True)
    assert result.returncode == 1, result.stdout
    assert path.name in result.stdout and "NoSuchProperty" in result.stdout
    assert "cfn-lint: 1 templates, 1 errors" in result.stdout, result.stdout


@pytest.mark.parametrize("which", ["default_assembly", "single_assembly"])
def test_checkov_has_no_failed_check(request, which):
    assembly = request.getfixturevalue(which)
    result = subprocess.run(
        [str(CHECKOV), "-d", str(assembly), "--framework", "cloudformation", "--skip-download",
         "--compact", "-o", "json"],
        capture_output=True, text=True,
    )
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [(c["check_id"], c["resource"], c["file_path"]) for r in reports for c in r["results"]["failed_checks"]]
    assert not failed, failed
    checked = {c["file_path"].lstrip("/") for r in reports for k in ("passed_checks", "failed_checks")
               for c in r["results"][k]}
    # checkov read the stages' templates too: each one that holds a resource of a type checkov
    # checks somewhere (a stack of only, say, Lake Formation settings gets no check at all).
    checked_types = {c["resource"].split(".")[0] for r in reports for k in ("passed_checks", "failed_checks")
                     for c in r["results"][k]}
    nested = [t for t in _templates(assembly) if "/assembly-" in t
              and {r["Type"] for r in json.loads(Path(t).read_text())["Resources"].values()} & checked_types]
    assert nested and all(any(t.endswith(f) for f in checked) for t in nested), "checkov read the stages' templates too"
    assert sum(r["summary"]["passed"] for r in reports) > 50
    reasons = {a.reason for a in ACKNOWLEDGMENTS.values() if a.checkov}
    skipped = [c for r in reports for c in r["results"]["skipped_checks"]]
    assert skipped, "the access-log bucket and the CDK provider Lambda carry documented skips"
    for check in skipped:
        assert check["check_result"]["suppress_comment"] in reasons, check["check_id"]
