#!/usr/bin/env python3
"""CDK entry point: load and validate the config, build the stacks, add the compliance checks.

Select a config with ``-c config=PATH`` (default: config/default.yaml). An invalid config prints
``fmops: invalid config`` and its ``file:line`` errors and exits 2, as ``fmops validate`` does.
``-c pipeline_group=GROUP`` synthesizes only one delivery pipeline's stacks (mode organisation,
infra/app/builder.py); a group the config does not have prints one line and exits 2.
"""

import sys

from aws_cdk import App

from infra.app.builder import APP_PROPS, PipelineGroupError, build_app
from infra.config import load_config_or_exit

app = App(**APP_PROPS)
config = load_config_or_exit(app.node.try_get_context("config"))
try:
    build_app(config, app)
except PipelineGroupError as error:
    print(f"fmops: {error}", file=sys.stderr)
    sys.exit(2)
app.synth()
