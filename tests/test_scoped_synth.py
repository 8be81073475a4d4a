"""The scoped synth: ``cdk synth -c pipeline_group=<group>`` builds one delivery pipeline's stacks.

A pipeline's Build step synthesizes only its group: the group's workload accounts (their stages),
the governance platform stack and delivery bucket stack its pipeline stack references, the
governance portfolios of its teams, and the pipeline stack itself. Those stacks must be exactly the
stacks of the whole-organisation synth, or a pipeline would deploy something other than what
`make synth` and `cdk diff` showed: every template and every stack's dependencies are compared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.app.builder import PipelineGroupError, build_app, new_app
from infra.assembly import read_stacks
from infra.config import load_config
from infra.plan.delivery import PIPELINE_GROUP_CONTEXT, pipeline_groups

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO / "config" / "default.yaml"
GROUP = "genai"  # the default config's group with Bedrock, endpoints, Studio and catalogs


@pytest.fixture(scope="module")
def scoped_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("scoped") / "cdk.out"
    app = new_app(outdir=str(outdir))
    build_app(load_config(DEFAULT), app, pipeline_group=GROUP, control_tower=False)
    app.synth()
    return outdir


def _stacks(assembly: Path) -> dict[str, tuple[dict, list[str], str]]:
    """Stack name -> (template, its dependencies' stack names, its stage's assembly folder or "")."""
    stacks = read_stacks(assembly)
    names = {(s.directory, s.artifact_id): s.name for s in stacks}
    return {s.name: (s.template, sorted(names[(s.directory, d)] for d in s.artifact.get("dependencies", [])
                                        if (s.directory, d) in names),
                   "" if s.directory == assembly else s.directory.name)
            for s in stacks}


def test_scoped_stacks_are_the_whole_organisation_s_stacks(scoped_assembly, default_assembly) -> None:
    scoped, whole = _stacks(scoped_assembly), _stacks(default_assembly)
    assert set(scoped) <= set(whole)
    different = [name for name in scoped if scoped[name] != whole[name]]
    assert not different, f"scoped synth differs from the whole-organisation synth in {different}"


def test_scoped_synth_builds_the_group_and_what_its_pipeline_needs_only(scoped_assembly, default_assembly) -> None:
    config = load_config(DEFAULT)
    [group] = [g for g in pipeline_groups(config) if g.name == GROUP]
    scoped, whole = _stacks(scoped_assembly), _stacks(default_assembly)
    group_accounts = {f"assembly-{a.name}" for a in group.all_accounts}
    staged = {name for name, (_, _, folder) in whole.items() if folder in group_accounts}
    assert staged and staged <= set(scoped), "every stack of the group's accounts"
    pipeline = f"fmops-{GROUP}-pipeline"
    top = set(scoped) - staged
    assert top == {pipeline, *scoped[pipeline][1]}, "top level: the pipeline stack and the stacks it depends on"
    assert scoped[pipeline][1] == ["fmops-tooling-delivery", "fmops-tooling-platform"]
    assert not any(folder.startswith("assembly-") and folder not in group_accounts for _, _, folder in scoped.values())
    assert "fmops-tooling-packages" not in scoped and "fmops-risk-pipeline" not in scoped


def test_each_pipeline_synthesizes_its_own_group(default_assembly, default_templates) -> None:
    for group in pipeline_groups(load_config(DEFAULT)):
        template = default_templates[f"fmops-{group.name}-pipeline"]
        [synth] = [r for k, r in template["Resources"].items()
                   if r["Type"] == "AWS::CodeBuild::Project" and "Synth" in k]
        spec = synth["Properties"]["Source"]["BuildSpec"]
        spec = (default_assembly / spec).read_text() if spec.endswith(".yaml") else spec
        assert (f"npx --no-install cdk synth --quiet -c config=config/default.yaml "
                f"-c {PIPELINE_GROUP_CONTEXT}={group.name}") in spec


@pytest.mark.parametrize(("config", "message"), [
    (DEFAULT, "context pipeline_group: 'nope' is not a pipeline group of this config; choose one of: risk, genai"),
    (REPO / "config" / "single-account.yaml",
     "context pipeline_group: 'nope': this config has no delivery pipelines (mode organisation only)"),
])
def test_an_unknown_group_is_refused_before_anything_is_built(config, message) -> None:
    app = new_app()
    with pytest.raises(PipelineGroupError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        build_app(load_config(config), app, pipeline_group="nope")
    assert not app.node.children, "nothing built"


def test_cdk_app_prints_one_line_and_exits_2_on_an_unknown_group(tmp_path) -> None:
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path),
           "CDK_CONTEXT_JSON": json.dumps({"config": "config/default.yaml", PIPELINE_GROUP_CONTEXT: "nope"})}
    result = subprocess.run([sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("fmops:")]
    assert lines == ["fmops: context pipeline_group: 'nope' is not a pipeline group of this config; "
                     "choose one of: risk, genai"], result.stderr
    assert not list(tmp_path.iterdir()), "nothing synthesized"
