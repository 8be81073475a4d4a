"""FMOps Foundation: typed config, stacks, compliance checks and the `fmops` CLI."""

import os

# Node 20 is what the toolchain is tested on (DESIGN.md); jsii's end-of-life banner would bury
# every message of ours, so it is silenced before aws_cdk is first imported.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
