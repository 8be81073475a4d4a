#!/usr/bin/env python3
"""Synth benchmark: wall time and peak memory of the app next to an empty CDK app.

Each measurement runs a fresh Python process (and its jsii Node.js child) that builds the app
and synthesizes it in-process, with every compliance check (three cdk-nag packs, the Control
Tower rules, the internet-free pack and the cost-tag check). The cases run interleaved, once each
per round, so that the machine's load weighs on all of them alike. Peak memory is the largest
sum of resident memory of that process tree, sampled every 10 ms from /proc. Results are printed
and written to .bench/results.json.

    .venv/bin/python scripts/bench.py                  # empty app, default and single-account configs
    .venv/bin/python scripts/bench.py --teams 1,10,50,100   # plus whole generated organisations
    .venv/bin/python scripts/bench.py --scoped-teams 1,10,100   # plus one pipeline's scoped synth

``--scoped-teams`` runs, for generated organisations of each size, the command of a pipeline's
Build step (``npx cdk synth -c config=... -c pipeline_group=team000``, the CDK CLI and its app
process tree) and says whether its time and peak memory are flat in the number of teams
(infra/tools/scale.py) and fit the pipeline's CodeBuild instance (infra/plan/delivery.py);
exit status 1 if not.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from infra.plan.delivery import BUILD_MEMORY_MIB, PIPELINE_GROUP_CONTEXT  # noqa: E402  (needs the repo on sys.path)
from infra.tools.scale import SCOPED_GROUP, flatness, write_generated_config  # noqa: E402

# A plain CDK app with one empty stack (CDK's built-in template validation on, as in ours;
# without our strict-rules context, which rejects a template without resources).
EMPTY_APP = """
import os
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
from aws_cdk import App, Stack
app = App(outdir={outdir!r})
Stack(app, "Empty")
app.synth()
"""
CONFIG_APP = """
from infra.app.builder import build_app, new_app
from infra.config import load_config
app = new_app(outdir={outdir!r})
build_app(load_config({config!r}), app)
app.synth()
"""

# A pipeline's Build step: the CDK CLI's scoped synth (infra/plan/delivery.py, synth_command).
SCOPED_SYNTH = ["npx", "--no-install", "cdk", "synth", "--quiet", "-c", "config={config}",
                "-c", f"{PIPELINE_GROUP_CONTEXT}={SCOPED_GROUP}", "-o", "{outdir}"]


def _tree_rss_kb(pid: int) -> int:
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack += [int(c) for c in children.read().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


def run_once(code: str | list[str]) -> tuple[float, float]:
    """Wall seconds and peak MiB of one synth in a fresh process tree (Python code, or a command)."""
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK_DISABLE_CLI_TELEMETRY": "true"}
    command = [sys.executable, "-c", code] if isinstance(code, str) else code
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0

    def sample() -> None:
        nonlocal peak
        while process.poll() is None:
            peak = max(peak, _tree_rss_kb(process.pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, stderr = process.communicate()
    elapsed = time.perf_counter() - start
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"synth failed:\n{stderr[-4000:]}")
    return elapsed, peak / 1024


def count_resources(outdir: Path) -> tuple[int, int, int, int]:
    """Stacks, resources, largest stack's resources, largest template bytes (every stack, those
    of nested assemblies, the workload accounts' stages in mode organisation, included)."""
    from infra.tools.report import stacks_in

    stacks = stacks_in(outdir)
    return (len(stacks), sum(s.resources for s in stacks), max(s.resources for s in stacks),
            max(s.template_bytes for s in stacks))


def measure(cases: list[tuple[str, str | list[str], dict[str, str]]], repeats: int) -> list[dict]:
    """Each case ``repeats`` times, interleaved (every case once, then again), so that a change of
    the machine's load while the benchmark runs weighs on every case alike; the median is kept."""
    with tempfile.TemporaryDirectory() as tmp:
        outdirs = {label: Path(tmp) / str(index) for index, (label, _, _) in enumerate(cases)}
        times: dict[str, list[tuple[float, float]]] = {label: [] for label, _, _ in cases}
        for _ in range(repeats):
            for label, code_template, fields in cases:
                outdir = str(outdirs[label])
                code = (code_template.format(outdir=outdir, **fields) if isinstance(code_template, str)
                        else [part.format(outdir=outdir, **fields) for part in code_template])
                times[label].append(run_once(code))
        rows = []
        for label, _, _ in cases:
            stacks, resources, largest, biggest = count_resources(outdirs[label])
            runs = times[label]
            row = {
                "case": label, "stacks": stacks, "resources": resources, "largest_stack_resources": largest,
                "largest_template_kb": round(biggest / 1024, 1),
                "synth_s": round(statistics.median(r[0] for r in runs), 2),
                "peak_mib": round(max(r[1] for r in runs)),
            }
            print(f"{label:<28} {stacks:>6} {resources:>9} {largest:>8} {row['largest_template_kb']:>9} "
                  f"{row['synth_s']:>8} {row['peak_mib']:>8}", flush=True)
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="runs per case; the median time is kept")
    parser.add_argument("--teams", default="", help="comma-separated team counts for generated organisations")
    parser.add_argument("--scoped-teams", default="",
                        help=f"comma-separated team counts: the scoped synth of {SCOPED_GROUP}'s pipeline at each")
    args = parser.parse_args(argv)
    print(f"{'case':<28} {'stacks':>6} {'resources':>9} {'largest':>8} {'max KB':>9} {'synth s':>8} {'peak MiB':>8}")
    rows = measure([("empty CDK app", EMPTY_APP, {})] + [
        (f"config/{name}.yaml", CONFIG_APP, {"config": str(REPO / "config" / f"{name}.yaml")})
        for name in ("default", "single-account")], args.repeats)
    out = REPO / ".bench"
    out.mkdir(exist_ok=True)
    generated = [(f"generated, {teams} teams", CONFIG_APP,
                  {"config": str(write_generated_config(teams, out / f"org-{teams}-teams.yaml"))})
                 for teams in [int(t) for t in args.teams.split(",") if t]]
    rows += measure(generated, 1) if generated else []
    counts = [int(t) for t in args.scoped_teams.split(",") if t]
    pipelines = [(f"pipeline {SCOPED_GROUP}, {teams} teams", SCOPED_SYNTH,
                  {"config": write_generated_config(teams, out / f"org-{teams}-teams.yaml").relative_to(REPO).as_posix()})
                 for teams in counts]
    scoped = [{**row, "teams": teams, "scoped": True}
              for teams, row in zip(counts, measure(pipelines, args.repeats) if pipelines else [])]
    empty = rows[0]["synth_s"]
    print()
    for row in rows[1:]:
        per_100 = (row["synth_s"] - empty) / (row["resources"] / 100)
        row["s_per_100_resources_above_empty"] = round(per_100, 3)
        print(f"{row['case']}: {per_100:.3f} s per 100 resources above the empty app "
              f"({row['resources']} resources, {row['synth_s']} s vs {empty} s; target <= 0.60), "
              f"peak {row['peak_mib']} MiB (target < 1536)")
    verdict = True
    if scoped:
        verdict, text = flatness(scoped, memory_limit_mib=BUILD_MEMORY_MIB)
        print(text)
    (out / "results.json").write_text(json.dumps(rows + scoped, indent=2) + "\n")
    print(f"\nwrote {out / 'results.json'}")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
