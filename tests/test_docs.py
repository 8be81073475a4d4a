"""The docs stay true: generated docs are current, and every command in them runs as written.

- ``docs/config-reference.md``, ``docs/project-templates.md``, ``docs/architecture.dot`` and
  ``docs/architecture.svg`` are regenerated (from the code and the synthesized default app) and
  compared with the committed files: `make docs` (``fmops docs``) rewrites them.
- Every command line of a fenced ``bash``, ``sh``, ``shell`` or ``console`` block in README.md and
  docs/*.md is classified below: run offline, run in its ``--check`` form, or not run, with the
  reason (needs an AWS account, long-running). An unclassified command fails the test, so a new
  command in the docs must be added here. The offline ones run from a scratch copy of the
  repository's top level (``config/`` copied, the rest linked read-only, ``cdk.out`` = the test's
  synthesized default app) with ``.venv/bin`` first on PATH, in document order; in ``console``
  blocks the lines after ``$ command`` are its expected output and are compared.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.tools import docgen
from infra.tools.diagram import DOT_PATH, SVG_PATH, read_architecture, render_svg, to_dot

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
FMOPS = r"(?:\.venv/bin/)?fmops"


# -- generated docs ------------------------------------------------------------------------

def test_config_reference_is_current():
    assert docgen.CONFIG_REFERENCE.read_text() == docgen.render_config_reference(), \
        "docs/config-reference.md is stale: run `make docs` (fmops docs)"


def test_project_templates_reference_is_current(default_assembly):
    assert docgen.TEMPLATES_REFERENCE.read_text() == docgen.render_templates_reference(default_assembly), \
        "docs/project-templates.md is stale: run `make docs` (fmops docs)"


def test_architecture_diagram_is_current(default_assembly):
    dot = to_dot(read_architecture(default_assembly))
    assert DOT_PATH.read_text() == dot, "docs/architecture.dot is stale: run `make diagram` (fmops diagram)"
    # The WebAssembly Graphviz is deterministic: the same DOT renders to the same bytes.
    assert SVG_PATH.read_text() == render_svg(dot), "docs/architecture.svg is stale: run `make diagram`"


def test_diagram_reads_flat_and_nested_assemblies(default_assembly, tmp_path):
    """The generator finds every stack whether stages nest them or not, and draws one cluster
    per account with its VPC."""
    architecture = read_architecture(default_assembly)
    names = {stack.name for account in architecture.accounts for stack in account.stacks}
    assert {"fmops-tooling-platform", "fmops-genai-dev-platform", "fmops-risk-prod-platform"} <= names
    assert len(architecture.accounts) == 7
    assert all(account.vpc is not None and account.vpc.cidr for account in architecture.accounts)
    assert all(account.internet_resources == 0 for account in architecture.accounts)
    # The same stacks, flattened into one manifest (no stages), give the same accounts and stacks.
    flat = tmp_path / "flat"
    flat.mkdir()
    artifacts = {}
    for account in architecture.accounts:
        for stack in account.stacks:
            template = f"{stack.artifact_id}.template.json"
            shutil.copy(stack.directory / template, flat / template)
            artifacts[stack.artifact_id] = {
                "type": "aws:cloudformation:stack", "environment": f"aws://{stack.account}/{stack.region}",
                "properties": {"templateFile": template, "stackName": stack.name, "tags": stack.tags}}
    (flat / "manifest.json").write_text(json.dumps({"version": "1", "artifacts": artifacts}))
    flat_architecture = read_architecture(flat)
    assert sorted(a.name for a in flat_architecture.accounts) == sorted(a.name for a in architecture.accounts)
    assert sorted(s.name for a in flat_architecture.accounts for s in a.stacks) == sorted(names)
    assert sorted(flat_architecture.deployments, key=str) == sorted(architecture.deployments, key=str)


# -- commands in the docs -------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """How the doc test treats commands matching ``pattern`` (first matching rule wins)."""

    pattern: str
    run: bool
    why: str
    exit_code: int = 0
    replace: tuple[str, str] | None = None  # (regex, replacement) applied before running


RULES: tuple[Rule, ...] = (
    # Offline and fast: run as written.
    Rule(rf"^{FMOPS} validate \S+$", True, "validates a config file"),
    Rule(rf"^{FMOPS} select-fm .*--scores scores\.json", False, "reads a scores file downloaded from a real account"),
    Rule(rf"^{FMOPS} select-fm( .*)?$", True, "ranks models from the catalog and score files"),
    Rule(rf"^{FMOPS} (access-matrix|schema) --check$", True, "checks a generated file"),
    Rule(rf"^{FMOPS} scp( \S+\.yaml)? --check$", True, "checks the SCP documents"),
    Rule(rf"^{FMOPS} summary cdk\.out$", True, "summarizes the test's synthesized default app"),
    Rule(rf"^{FMOPS} verify-internet-free cdk\.out$", True, "checks the test's synthesized default app"),
    Rule(rf"^{FMOPS} bootstrap-commands( \S+\.yaml)?( --write-policies \S+)?$", True,
         "prints the bootstrap commands and writes the execution policies from the test's synthesized default app"),
    Rule(rf"^{FMOPS} onboard-team .* --config my-org\.yaml( --dry-run)?$", True,
         "edits a scratch copy of the config"),
    Rule(rf"^{FMOPS} (provision|projects) --help$", True, "prints usage"),
    Rule(r"^cp config/\S+\.yaml (my-org|trial)\.yaml$", True, "scratch copy of a config"),
    Rule(r"^git diff --no-index config/default\.yaml my-org\.yaml$", True, "shows the onboarding edit",
         exit_code=1),
    Rule(r"^node scripts/render-dot\.mjs --version$", True, "prints the Graphviz version"),
    # Generators: run in their --check form against the test's synthesized app (the plain form
    # writes into the repository).
    Rule(rf"^{FMOPS} (docs|diagram)( --assembly cdk\.out)?( --check)?$", True,
         "run as `--check --assembly cdk.out`", replace=(r"( --assembly cdk\.out)?( --check)?$", " --check --assembly cdk.out")),
    Rule(rf"^{FMOPS} (access-matrix|schema)$", True, "run as `--check`", replace=(r"$", " --check")),
    Rule(rf"^{FMOPS} scp( \S+\.yaml)?$", True, "run as `--check`", replace=(r"$", " --check")),
    # Not run by the test.
    Rule(r"^make (install|synth|test|docs|diagram|rehearse|bench|bench-scale)( CONFIG=\S+)?( ASSEMBLY=\S+)?$", False,
         "long-running (minutes on 2 cores); `make test` and CI run what it checks"),
    Rule(r"^npx --no-install cdk synth( --quiet)?( -c config=\S+)?$", False,
         "long-running synth of the whole app; the tests synthesize the same app in-process"),
    Rule(r"^npx --no-install cdk (bootstrap|deploy|diff|destroy|list|ls)\b", False,
         "needs AWS credentials and real accounts"),
    Rule(rf"^{FMOPS} (provision|projects)\b", False,
         "calls Service Catalog in a real account with a launcher persona's credentials"),
    Rule(r"^aws ", False, "AWS CLI against a real account"),
    Rule(r"^(export|source) ", False, "sets up a shell for a real account"),
    Rule(r"^npm ci\b", False, "reinstalls node_modules (network)"),
    Rule(r"^git clone\b", False, "network"),
)


@dataclass(frozen=True)
class DocCommand:
    document: Path
    line: int
    text: str
    expected_output: tuple[str, ...] | None  # console blocks only


def _strip_comment(line: str) -> str:
    """The line without a trailing `# comment` (outside quotes)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip()
    return line.rstrip()


def extract_commands(document: Path) -> list[DocCommand]:
    """Command lines of the fenced shell blocks of a Markdown file, continuation lines joined."""
    commands: list[DocCommand] = []
    lines = document.read_text().splitlines()
    index = 0
    while index < len(lines):
        fence = re.match(r"^(\s*)```(\w+)?\s*$", lines[index])
        if not fence:
            index += 1
            continue
        language = fence.group(2) or ""
        body_start = index + 1
        index += 1
        block: list[tuple[int, str]] = []
        while index < len(lines) and not re.match(r"^\s*```\s*$", lines[index]):
            block.append((index + 1, lines[index][len(fence.group(1)):]))
            index += 1
        index += 1
        if language not in SHELL_LANGUAGES:
            continue
        commands += _block_commands(document, language, block or [(body_start, "")])
    return commands


def _block_commands(document: Path, language: str, block: list[tuple[int, str]]) -> list[DocCommand]:
    found: list[DocCommand] = []
    position = 0
    while position < len(block):
        number, raw = block[position]
        position += 1
        if language == "console":
            if not raw.startswith("$ "):
                continue
            raw = raw[2:]
        text = raw
        while text.rstrip().endswith("\\") and position < len(block):
            text = text.rstrip()[:-1] + " " + block[position][1].strip()
            position += 1
        text = " ".join(_strip_comment(text).split())
        if not text:
            continue
        expected = None
        if language == "console":
            output = []
            while position < len(block) and not block[position][1].startswith("$ "):
                output.append(block[position][1].rstrip())
                position += 1
            while output and not output[-1]:
                output.pop()
            expected = tuple(output)
        found.append(DocCommand(document, number, text, expected))
    return found


def classify(command: str) -> Rule | None:
    return next((rule for rule in RULES if re.search(rule.pattern, command)), None)


ALL_COMMANDS = [command for document in DOCUMENTS for command in extract_commands(document)]


def test_the_docs_have_commands():
    documents = {c.document.name for c in ALL_COMMANDS}
    assert {"README.md", "platform-guide.md", "team-guide.md", "fm-selection.md"} <= documents


def test_every_command_in_the_docs_is_classified():
    unclassified = [f"{c.document.relative_to(REPO)}:{c.line}: {c.text}" for c in ALL_COMMANDS if classify(c.text) is None]
    assert not unclassified, ("commands in the docs that tests/test_docs.py neither runs nor explains; add a "
                              "rule to RULES:\n" + "\n".join(unclassified))


def _workspace(root: Path, assembly: Path) -> Path:
    """A scratch repository top level: config/ copied (commands may edit it), the rest linked."""
    for entry in REPO.iterdir():
        if entry.name in (".git", "cdk.out", "config") or entry.name.startswith(".pytest"):
            continue
        (root / entry.name).symlink_to(entry)
    shutil.copytree(REPO / "config", root / "config")
    (root / "cdk.out").symlink_to(assembly)
    return root


def _environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(PATH=f"{REPO / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}", COLUMNS="100",
               AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
               NO_COLOR="1", TERM="dumb")
    return env


RUNNABLE = {document: [c for c in ALL_COMMANDS if c.document == document and (rule := classify(c.text)) and rule.run]
            for document in DOCUMENTS}


@pytest.mark.parametrize("document", [d for d in DOCUMENTS if RUNNABLE[d]],
                         ids=[d.name for d in DOCUMENTS if RUNNABLE[d]])
def test_offline_commands_in_the_docs_run_as_written(document, default_assembly, tmp_path):
    commands = RUNNABLE[document]
    workspace = _workspace(tmp_path, default_assembly)
    env = _environment()
    failures = []
    for command in commands:
        rule = classify(command.text)
        text = re.sub(rule.replace[0], rule.replace[1], command.text, count=1) if rule.replace else command.text
        result = subprocess.run(["bash", "-c", text], cwd=workspace, env=env, capture_output=True, text=True,
                                timeout=900, check=False)
        where = f"{document.relative_to(REPO)}:{command.line}: {command.text}"
        if result.returncode != rule.exit_code:
            failures.append(f"{where}\n  exit {result.returncode} (expected {rule.exit_code})\n"
                            f"  {(result.stdout + result.stderr).strip()[-2000:]}")
            continue
        if command.expected_output is not None:
            actual = [line.rstrip() for line in (result.stdout + result.stderr).rstrip().splitlines()]
            if actual != list(command.expected_output):
                failures.append(f"{where}\n  output differs from the doc; actual output:\n" + "\n".join(actual))
    assert not failures, "\n\n".join(failures)


# -- links -----------------------------------------------------------------------------------

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def _anchors(document: Path) -> set[str]:
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", document.read_text(), re.MULTILINE)}


def test_relative_links_in_the_docs_resolve():
    """Every relative link of README.md and docs/*.md names an existing file, and an existing
    heading when it has an anchor."""
    broken = []
    for document in DOCUMENTS:
        text = re.sub(r"```.*?```", "", document.read_text(), flags=re.DOTALL)
        text = re.sub(r"`[^`\n]*`", "", text)  # code spans (patterns look like links)
        for target in _LINK.findall(text):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = (document.parent / path).resolve() if path else document
            if not resolved.exists():
                broken.append(f"{document.relative_to(REPO)}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(f"{document.relative_to(REPO)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)
