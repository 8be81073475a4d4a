"""FMOps Foundation: the app behind app.py and the `fmops` CLI, in layers whose imports go one way.

    naming      every deterministic name, ARN pattern, tag key and SSM prefix
    config      the typed config: pydantic models, the loader with file:line errors, the schema
    compliance  the rule packs run at every synth (internet-free, cost tags) and their engine
    plan        facts derived once from a validated config: accounts, teams, stacks, endpoints, models
    personas    the persona x capability matrix and the IAM policies generated from it
    stacks      one module per deployable stack, each taking narrow props
    app         composes the stacks from the plan and adds the compliance checks
    tools       operator tools: onboarding, provisioning, FM selection, bootstrap, docs, reports
    cli         the `fmops` command: one parser tree of thin commands

tests/test_layering.py fails on any import that goes against this order.
"""

import os
from pathlib import Path

# Node 20 is what the toolchain is tested on (DESIGN.md); jsii's end-of-life banner would bury
# every message of ours, so it is silenced before aws_cdk is first imported.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

REPO_ROOT = Path(__file__).resolve().parent.parent
