"""cfn-lint over every template of a cloud assembly: resource schemas and cross-field rules.

``fmops cfn-lint [CDK_OUT]`` prints one line per error and a count, and exits 1 on any error
(warnings are counted, not fatal). ``make synth`` runs it after ``cdk synth``, and
``tests/test_linters.py`` over both embedded configs. The app itself synthesizes without CDK's
built-in template validation (``builtin_cloud_formation_validation=False`` in ``new_app`` and
``app.py``): cfn-lint checks the same CloudFormation schemas with more rules, once, instead of
at every synth, where it cost about half the synth time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.assembly import read_stacks, template_files


def templates(assembly: Path) -> list[Path]:
    """Stack, nested-stack and product templates of ``assembly`` and of its nested assemblies
    (stages), as its manifests list them."""
    return sorted(template_files(read_stacks(Path(assembly))))


@dataclass(frozen=True)
class LintResult:
    templates: int
    errors: list[str]
    warnings: int


def lint(assembly: Path) -> LintResult:
    """cfn-lint's default rules and Region over every template of ``assembly``, in one run of its
    runner, as its command line lints several templates: the rules are loaded once, not once per
    template (``cfnlint.api.lint_file`` loads them for each file, half of its time here)."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    errors, warnings = [], 0
    paths = templates(assembly)
    if not paths:
        return LintResult(0, errors, warnings)
    for match in Runner(ConfigMixIn(["--template", *map(str, paths)])).run():
        if match.rule.id.startswith("E"):
            where = Path(match.filename).relative_to(assembly) if match.filename else assembly
            errors.append(f"{where}:{match.linenumber}: {match.rule.id} {match.message}")
        elif match.rule.id.startswith("W"):
            warnings += 1
    return LintResult(len(paths), errors, warnings)


def report(assembly: Path) -> int:
    """`fmops cfn-lint`: print one line per error and the counts; 1 on any error, else 0."""
    result = lint(assembly)
    for error in result.errors:
        print(error)
    print(f"cfn-lint: {result.templates} templates, {len(result.errors)} errors, {result.warnings} warnings")
    return 1 if result.errors else 0
