"""Internet-free rule pack: a static checker over synthesized CloudFormation templates.

The same rules run in three places: ``fmops verify-internet-free PATH...`` (``main``), the CDK
validation plugin at synth (``plugin.InternetFreeChecks``) and the tests. The rule reference,
generated from the rules, is ``docs/internet-free-rules.md``.

    registry     Rule, Subject, Finding, the @rule decorator, PERIMETERS, exemptions (EXEMPT_KEY)
    organisation the accounts and organisation ID that are inside (from the config or flags)
    intrinsics   what a template value can be: values(), texts(), MISSING, render, references...
    identity     inside or outside: accounts, principals, buckets, images, URLs fetched
    predicates   switches, required settings, enums, internet address space
    policies     statements, principals, conditions: public_statements
    rules/       one module per rule family; importing the package registers them, in order
    loader       template files and cloud assemblies (through infra.assembly)
    runner       check_template, check_paths
    cli          main(argv): fmops verify-internet-free
    reference    docs/internet-free-rules.md: render_rules_doc, write_rules_doc
    plugin       the CDK validation plugin (imports aws_cdk, so it is not imported here)
"""

from infra.compliance.internet_free import rules  # noqa: F401  (registers the rules, in order)
from infra.compliance.internet_free.cli import USAGE, main
from infra.compliance.internet_free.intrinsics import (
    MISSING,
    UNKNOWN_TEXT,
    at,
    flat,
    is_intrinsic,
    references,
    render,
    values,
)
from infra.compliance.internet_free.loader import load_templates
from infra.compliance.internet_free.policies import public_statements
from infra.compliance.internet_free.predicates import (
    internet_cidr,
    may_be_absent,
    may_be_not_false,
    may_be_other_than,
    may_be_true,
)
from infra.compliance.internet_free.reference import RULES_DOC, render_rules_doc, write_rules_doc
from infra.compliance.internet_free.organisation import UNKNOWN_ORGANISATION, Organisation
from infra.compliance.internet_free.registry import (
    EXEMPT_KEY,
    PERIMETERS,
    RULES,
    TEMPLATE,
    Finding,
    Rule,
    Subject,
    rule,
)
from infra.compliance.internet_free.runner import check_paths, check_template

RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}

__all__ = [
    "EXEMPT_KEY",
    "MISSING",
    "PERIMETERS",
    "UNKNOWN_ORGANISATION",
    "Organisation",
    "RULES",
    "RULES_BY_ID",
    "RULES_DOC",
    "TEMPLATE",
    "UNKNOWN_TEXT",
    "USAGE",
    "Finding",
    "Rule",
    "Subject",
    "at",
    "check_paths",
    "check_template",
    "flat",
    "internet_cidr",
    "is_intrinsic",
    "load_templates",
    "main",
    "may_be_absent",
    "may_be_not_false",
    "may_be_other_than",
    "may_be_true",
    "public_statements",
    "references",
    "render",
    "render_rules_doc",
    "rule",
    "values",
    "write_rules_doc",
]
