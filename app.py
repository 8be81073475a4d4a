#!/usr/bin/env python3
"""CDK entry point: load and validate the config, build the stacks, add the compliance checks.

Select a config with ``-c config=PATH`` (default: config/default.yaml). An invalid config prints
``fmops: invalid config`` and its ``file:line`` errors and exits 2, as ``fmops validate`` does.
``-c pipeline_group=GROUP`` synthesizes only one delivery pipeline's stacks (mode organisation,
infra/app/builder.py); a group the config does not have prints one line and exits 2, as does a declared
project whose parameters its template does not take (``file:line`` of the parameter).
"""

import sys

from aws_cdk import App

from infra.app.builder import APP_PROPS, PipelineGroupError, build_app
from infra.config import ConfigError, issue_at, load_config_or_exit
from infra.stacks.catalog.projects import DeclaredProjectError

app = App(**APP_PROPS)
config = load_config_or_exit(app.node.try_get_context("config"))
try:
    build_app(config, app)
except PipelineGroupError as error:
    print(f"fmops: {error}", file=sys.stderr)
    sys.exit(2)
except DeclaredProjectError as error:
    team = next(i for i, t in enumerate(config.teams) if t.name == error.team)
    where = ("teams", team, "catalog", "declared_projects", error.position, *error.loc)
    print(f"fmops: invalid config\n{ConfigError([issue_at(app.node.try_get_context('config'), where, str(error))])}",
          file=sys.stderr)
    sys.exit(2)
app.synth()
