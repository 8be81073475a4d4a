#!/usr/bin/env python3
"""CDK entry point: load and validate the config, build the stacks, add the compliance checks.

Select a config with ``-c config=PATH`` (default: config/default.yaml). An invalid config prints
``fmops: invalid config`` and its ``file:line`` errors and exits 2, as ``fmops validate`` does.
"""

from aws_cdk import App

from infra.app.builder import APP_PROPS, build_app
from infra.config import load_config_or_exit

app = App(**APP_PROPS)
config = load_config_or_exit(app.node.try_get_context("config"))
build_app(config, app)
app.synth()
