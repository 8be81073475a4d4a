"""`fmops scp`: write the preventive SCP documents of a config to docs/scp/ (or check them)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.config import ConfigError, OrgConfig, load_config
from infra.plan.genai import organisation_model_arns
from infra.personas import dumps, scp_documents

SCP_DIR = Path(__file__).resolve().parents[2] / "docs" / "scp"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="fmops scp", description=__doc__)
    parser.add_argument("config", nargs="?", default=None, help="config file (default: the embedded default)")
    parser.add_argument("--check", action="store_true", help="fail if docs/scp/ is not current")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"fmops: invalid config\n{error}", file=sys.stderr)
        return 2
    stale = []
    SCP_DIR.mkdir(parents=True, exist_ok=True)
    for name, document in scp_documents(organisation_model_arns(config)).items():
        path = SCP_DIR / f"{name}.json"
        if args.check:
            if not path.exists() or path.read_text() != dumps(document):
                stale.append(str(path))
        else:
            path.write_text(dumps(document))
            print(f"wrote {path}")
    if stale:
        print(f"stale: {', '.join(stale)}; run `fmops scp`")
        return 1
    return 0
