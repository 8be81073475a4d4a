#!/usr/bin/env python3
"""Refactor net: synthesize both shipped configs and write every template, normalized, to a folder.

    .venv/bin/python scripts/snapshot.py OUT_DIR        # writes OUT_DIR/<config>/<stack>.json
    diff -r BEFORE AFTER                                 # a structural change shows no difference

Every file of the cloud assembly that is JSON (stack templates, product templates that CDK
stages as assets, manifests aside) is written with sorted keys. Asset hashes, which change with
any edit to a Python source that an asset bundles, are replaced by ``<hash>``.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CONFIGS = {"default": REPO / "config" / "default.yaml", "single": REPO / "config" / "single-account.yaml"}
HASH = re.compile(r"\b[0-9a-f]{64}\b")


def _normalized(text: str) -> str:
    return json.dumps(json.loads(HASH.sub("<hash>", text)), indent=1, sort_keys=True) + "\n"


def snapshot(out: Path) -> None:
    from infra.app.builder import build_app, new_app
    from infra.config import load_config

    for name, path in CONFIGS.items():
        target = out / name
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        with tempfile.TemporaryDirectory() as tmp:
            app = new_app(outdir=tmp)
            build_app(load_config(path), app)
            app.synth()
            for file in sorted(Path(tmp).rglob("*.json")):
                if file.name in {"manifest.json", "tree.json", "cdk.out"} or file.name.endswith((".assets.json", ".metadata.json")):
                    continue
                relative = file.relative_to(tmp).as_posix().replace("/", "__")
                (target / HASH.sub("hash", relative)).write_text(_normalized(file.read_text()))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: scripts/snapshot.py OUT_DIR")
    snapshot(Path(sys.argv[1]))
