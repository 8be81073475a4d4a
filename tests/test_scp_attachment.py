"""Mode organisation creates the preventive SCPs by default; attachment targets come from the
config, and `fmops validate` warns (exit 0) while there is none (issue 13)."""

from __future__ import annotations

import subprocess

from infra import personas
from infra.config import config_warnings, load_config
from infra.plan.genai import organisation_model_arns
from tests.conftest import REPO, resources

DEFAULT = REPO / "config" / "default.yaml"
FMOPS = REPO / ".venv" / "bin" / "fmops"


def test_organisation_creates_the_scps_without_targets(default_templates, single_templates):
    config = load_config(DEFAULT)
    assert not config.organisation.scp_target_ids
    policies = resources(default_templates["fmops-tooling-platform"], "AWS::Organizations::Policy")
    assert {p["Properties"]["Name"]: p["Properties"]["Content"] for p in policies.values()} == \
        personas.scp_documents(organisation_model_arns(config))
    assert all("TargetIds" not in p["Properties"] for p in policies.values())
    others = [n for n, t in {**default_templates, **single_templates}.items()
              if n != "fmops-tooling-platform" and resources(t, "AWS::Organizations::Policy")]
    assert others == [], "only the governance account of an organisation holds SCPs"


def test_validate_warns_when_no_scp_target_is_set(tmp_path):
    result = subprocess.run([str(FMOPS), "validate", str(DEFAULT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    [warning] = result.stderr.splitlines()
    line = next(i for i, text in enumerate(DEFAULT.read_text().splitlines(), 1) if text == "organisation:")
    assert warning.startswith(f"{DEFAULT}:{line}: organisation.scp_target_ids: warning: ")
    with_target = tmp_path / "with-target.yaml"
    text = DEFAULT.read_text().replace("  log_retention_days: 365\n",
                                       "  log_retention_days: 365\n  scp_target_ids: [ou-ab12-cdef3456]\n")
    with_target.write_text(text)
    assert config_warnings(with_target, load_config(with_target)) == []
    single = REPO / "config" / "single-account.yaml"
    assert config_warnings(single, load_config(single)) == []
