"""`fmops scp`: write the preventive SCP documents of a config to docs/scp/ (or check them)."""

from __future__ import annotations

from infra import REPO_ROOT
from infra.config import OrgConfig
from infra.plan.genai import organisation_model_arns
from infra.personas import dumps, scp_documents

SCP_DIR = REPO_ROOT / "docs" / "scp"


def write_scp_documents(config: OrgConfig, check: bool = False) -> int:
    """`fmops scp [CONFIG] [--check]`: write the SCP documents of ``config``, or check them (exit 1 if stale)."""
    stale = []
    SCP_DIR.mkdir(parents=True, exist_ok=True)
    for name, document in scp_documents(organisation_model_arns(config)).items():
        path = SCP_DIR / f"{name}.json"
        if check:
            if not path.exists() or path.read_text() != dumps(document):
                stale.append(str(path))
        else:
            path.write_text(dumps(document))
            print(f"wrote {path}")
    if stale:
        print(f"stale: {', '.join(stale)}; run `fmops scp`")
        return 1
    return 0
