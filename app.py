#!/usr/bin/env python3
"""CDK entry point: load and validate the config, build the stacks, add the compliance checks.

Select a config with ``-c config=PATH`` (default: config/default.yaml).
"""

import sys

from aws_cdk import App

from infra.app.builder import APP_PROPS, build_app
from infra.config import ConfigError, load_config

app = App(**APP_PROPS)
try:
    config = load_config(app.node.try_get_context("config"))
except ConfigError as error:
    print(f"fmops: invalid config\n{error}", file=sys.stderr)
    sys.exit(2)
build_app(config, app)
app.synth()
