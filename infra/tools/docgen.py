"""Generated documentation: what can be read from the code is written by code, and tested.

  fmops docs [--check] [--assembly CDK_OUT]     docs/config-reference.md, docs/project-templates.md
                                                and the architecture diagram
  fmops diagram [--check] [--assembly CDK_OUT]  docs/architecture.dot and docs/architecture.svg only

- ``docs/config-reference.md`` from the typed config (``infra.config``, the same models that
  ``config/schema.json`` is generated from);
- ``docs/project-templates.md`` from ``templates/registry.py`` and the product templates of a
  synthesized app (parameters, outputs, resources of each Service Catalog product);
- ``docs/architecture.dot`` and ``.svg`` from a synthesized app (``infra/tools/diagram.py``).

Without ``--assembly`` the embedded default config is synthesized into a temporary folder
(about a minute; compliance checks off, they do not change the templates). ``--check`` writes
nothing and exits 1 when a file is stale. ``tests/test_docs.py`` runs the same comparison.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from infra.assembly import AssemblyError, ProductTemplate, product_templates, read_stacks

from infra import REPO_ROOT
DOCS = REPO_ROOT / "docs"
CONFIG_REFERENCE = DOCS / "config-reference.md"
TEMPLATES_REFERENCE = DOCS / "project-templates.md"
SAGEMAKER_PARAMETERS = ("SageMakerProjectName", "SageMakerProjectId")


# -- config reference ---------------------------------------------------------------------

def _cell(text: str) -> str:
    """Text for a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _code(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "))
    return "`" + text.replace("`", "'") + "`"


def _anchor(name: str) -> str:
    return name.lower()


class _Schema:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.defs: dict[str, Any] = schema.get("$defs", {})

    def ref(self, node: dict[str, Any]) -> str | None:
        return node["$ref"].rsplit("/", 1)[-1] if "$ref" in node else None

    def is_enum(self, name: str) -> bool:
        return "enum" in self.defs.get(name, {})

    def type_of(self, node: dict[str, Any]) -> str:
        """Human type of a schema node, with constraints."""
        if name := self.ref(node):
            if self.is_enum(name):
                return "one of " + ", ".join(_code(v) for v in self.defs[name]["enum"])
            return f"[{name}](#{_anchor(name)})"
        if "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            text = " or ".join(self.type_of(o) for o in options)
            return text + (" or `null`" if len(options) < len(node["anyOf"]) else "")
        if "enum" in node:
            return "one of " + ", ".join(_code(v) for v in node["enum"])
        if "const" in node:
            return _code(node["const"])
        kind = node.get("type")
        if kind == "array":
            items = self.type_of(node.get("items", {}))
            text = ("list of values from " + items.removeprefix("one of ")) if items.startswith("one of ") \
                else "list of " + items
            bounds = [f"at least {node['minItems']}" if "minItems" in node else "",
                      f"at most {node['maxItems']}" if "maxItems" in node else ""]
            bounds = [b for b in bounds if b]
            noun = "item" if bounds and node.get("maxItems", node.get("minItems")) == 1 else "items"
            return text + (f" ({', '.join(bounds)} {noun})" if bounds else "")
        if kind == "object":
            for pattern, values in node.get("patternProperties", {}).items():
                return f"map of keys matching {_code(pattern)} to {self.type_of(values)}"
            if isinstance(node.get("additionalProperties"), dict):
                return f"map of string keys to {self.type_of(node['additionalProperties'])}"
            return "map"
        text = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean",
                "null": "`null`"}.get(kind, kind or "any")
        limits = []
        for key, word in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
            if key in node:
                limits.append(f"{word} {node[key]}")
        if "maxLength" in node:
            limits.append(f"{node.get('minLength', 0)}-{node['maxLength']} characters")
        elif "minLength" in node:
            limits.append(f"at least {node['minLength']} character{'s' if node['minLength'] != 1 else ''}")
        if "pattern" in node:
            limits.append(f"matching {_code(node['pattern'])}")
        return text + (f" ({', '.join(limits)})" if limits else "")

    def default_of(self, node: dict[str, Any], required: bool) -> str:
        if required:
            return "**required**"
        if "default" not in node:
            return "optional"
        default = node["default"]
        if default is None:
            return "optional"
        if isinstance(default, dict):
            return "its defaults" if len(json.dumps(default)) > 40 else _code(default)
        return _code(default)

    def objects(self) -> list[str]:
        """Object definitions depth first from the top level: each section follows its parent."""
        seen: list[str] = []

        def visit(node: dict[str, Any]) -> None:
            for prop in node.get("properties", {}).values():
                for name in self._refs(prop):
                    if name not in seen and not self.is_enum(name):
                        seen.append(name)
                        visit(self.defs[name])

        visit(self.schema)
        return seen

    def _refs(self, node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"].rsplit("/", 1)[-1]
            for value in node.values():
                yield from self._refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from self._refs(value)

    def table(self, node: dict[str, Any]) -> list[str]:
        required = set(node.get("required", []))
        lines = ["| key | type | default | description |", "|---|---|---|---|"]
        for key, prop in node.get("properties", {}).items():
            description = prop.get("description", "")
            lines.append(f"| `{key}` | {_cell(self.type_of(prop))} | {_cell(self.default_of(prop, key in required))} "
                         f"| {_cell(description)} |")
        return lines


def render_config_reference() -> str:
    from infra.config import json_schema

    schema = _Schema(json_schema())
    lines = [
        "# Configuration reference",
        "",
        "Generated from the typed config (`infra/config`) by `fmops docs`; do not edit by hand (a test",
        "fails when this file is stale). The same models generate `config/schema.json` (`fmops schema`).",
        "Check a file with `fmops validate FILE`: errors come as `file:line: field: message`.",
        "",
        "Unknown keys are errors everywhere. Rules that involve several fields (CIDRs that must not",
        "overlap, team accounts that must be workload accounts of the right stage, models that must be",
        "in the FM catalog and usable commercially when the team is, features a setting needs, what",
        "each mode allows) are checked by the same models and reported the same way; they are not",
        "expressible in the tables below. The FM catalog's own format (`models:` entries) is",
        "[FoundationModel](#foundationmodel).",
        "",
        "## Top level",
        "",
        _cell(schema.schema.get("description", "")),
        "",
        *schema.table(schema.schema),
    ]
    for name in schema.objects():
        node = schema.defs[name]
        lines += ["", f"## {name}", ""]
        if node.get("description"):
            lines += [" ".join(node["description"].split()), ""]
        lines += schema.table(node)
    lines += ["", *_features_section()]
    enums = sorted(n for n in schema.defs if schema.is_enum(n))
    lines += ["", "## Enumerations", "", "| name | values |", "|---|---|"]
    lines += [f"| {name} | {', '.join(_code(v) for v in schema.defs[name]['enum'])} |" for name in enums]
    return "\n".join(lines) + "\n"


def _features_section() -> list[str]:
    """Which interface endpoints each feature adds to an account's VPC (infra/plan/endpoints.py)."""
    from infra.plan.endpoints import BASE_ENDPOINTS, DELIVERY_ENDPOINTS, FEATURE_ENDPOINTS

    lines = ["## Features and VPC endpoints", "",
             "An account's VPC gets the base interface endpoints plus those of the features of its teams and of",
             "`accounts[].features` (`infra/plan/endpoints.py`), and an S3 gateway endpoint; nothing else, since each",
             "interface endpoint is paid per AZ and hour (`config/endpoint-prices.yaml`). `studio` stands for",
             "`aws.sagemaker.<region>.studio`, the others for `com.amazonaws.<region>.<name>`.", "",
             "| feature | interface endpoints it adds |", "|---|---|",
             f"| (every account) | {', '.join(f'`{e}`' for e in BASE_ENDPOINTS)} |"]
    lines += [f"| `{feature.value}` | {', '.join(f'`{e}`' for e in endpoints)} |"
              for feature, endpoints in FEATURE_ENDPOINTS.items()]
    lines.append(f"| (governance account, mode organisation: delivery pipelines) | "
                 f"{', '.join(f'`{e}`' for e in DELIVERY_ENDPOINTS)} |")
    return lines


# -- project templates reference ----------------------------------------------------------

def _parameter_row(name: str, spec: dict[str, Any]) -> str:
    kind = spec.get("Type", "String")
    constraints = []
    if "AllowedValues" in spec:
        constraints.append("one of " + ", ".join(_code(str(v)) for v in spec["AllowedValues"]))
    if "AllowedPattern" in spec:
        constraints.append("matching " + _code(spec["AllowedPattern"]))
    for key, word in (("MinValue", ">="), ("MaxValue", "<="), ("MinLength", "length >="), ("MaxLength", "length <=")):
        if key in spec:
            constraints.append(f"{word} {spec[key]}")
    default = _code(str(spec["Default"])) if "Default" in spec and spec["Default"] != "" else (
        "empty" if spec.get("Default") == "" else "**required**")
    return (f"| `{name}` | {kind} | {_cell(default)} | {_cell('; '.join(constraints) or '-')} "
            f"| {_cell(spec.get('Description', ''))} |")


def _groups(template: dict[str, Any]) -> dict[str, list[str]]:
    interface = template.get("Metadata", {}).get("AWS::CloudFormation::Interface", {})
    return {g.get("Label", {}).get("default", ""): list(g.get("Parameters", []))
            for g in interface.get("ParameterGroups", [])}


def render_templates_reference(assembly: Path) -> str:
    from infra.config import Stage
    from templates.registry import REGISTRY

    stacks = read_stacks(assembly)
    products = product_templates(stacks)
    lines = [
        "# Project templates reference",
        "",
        "Generated by `fmops docs` from `templates/registry.py` and the Service Catalog products of the",
        "synthesized default app (`config/default.yaml`); do not edit by hand (a test fails when this file",
        "is stale). How to launch a template and what to do next: [team guide](team-guide.md).",
        "",
        "Parameters are those of the product's CloudFormation template, as synthesized for the first",
        "team and account of the default config that is offered the template; a parameter's allowed",
        "values can differ per team (for example the models a commercial team may host).",
        "`SageMakerProjectName` and `SageMakerProjectId` are set by SageMaker Studio or `fmops provision`",
        "(in the Service Catalog console you type them). The `Platform*` parameters are SSM parameter",
        "names the team's catalog stack writes: leave their defaults.",
        "",
        "| template | name | version | team features | stages | offered in (default config) |",
        "|---|---|---|---|---|---|",
    ]
    sections = []
    for entry in REGISTRY:
        found = [p for p in products if p.name == entry.name]
        stages = ", ".join(s for s in Stage if entry.stages is None or s in entry.stages)
        features = ", ".join(sorted(entry.required_features))
        if entry.needs_bedrock_models:
            features += " (and `genai.bedrock_models`)"
        where = ", ".join(dict.fromkeys(p.stack.name for p in found)) or "nowhere"
        lines.append(f"| [`{entry.id}`](#{entry.id}) | {_cell(entry.name)} | {entry.version} | {features} "
                     f"| {stages} | {_cell(where)} |")
        sections += _template_section(entry, found[0] if found else None)
    return "\n".join(lines + sections) + "\n"


def _template_section(entry: Any, product: ProductTemplate | None) -> list[str]:
    readme = entry.folder.relative_to(REPO_ROOT) / "README.md"
    lines = ["", f"## {entry.id}", "", f"**{entry.name}** (version {entry.version}). {entry.description}.", "",
             f"Details, seed code and how to use it: [{readme.as_posix()}](../{readme.as_posix()}).", ""]
    if product is None:
        return lines + ["Not offered to any team of the default config, so no product template to read.", ""]
    template = product.template
    parameters = template.get("Parameters", {})
    groups = _groups(template)
    platform = [n for label, names in groups.items() if label.startswith("Platform") for n in names]
    own = [n for n in parameters if n not in platform]
    lines += [f"As synthesized in `{product.stack.name}`.", "", "Parameters:", "",
              "| parameter | type | default | allowed | description |", "|---|---|---|---|---|"]
    lines += [_parameter_row(name, parameters[name]) for name in own]
    if platform:
        lines += ["", "Platform parameters (SSM parameter names, leave the defaults): " +
                  ", ".join(f"`{n}`" for n in sorted(platform)) + "."]
    outputs = template.get("Outputs", {})
    described = {k: v for k, v in outputs.items() if v.get("Description")}
    if described:
        lines += ["", "Outputs (shown by `fmops provision` and on the provisioned product):", "",
                  "| output | description |", "|---|---|"]
        lines += [f"| `{name}` | {_cell(out['Description'])} |" for name, out in described.items()]
    resources = template.get("Resources", {}).values()
    always = Counter(r.get("Type", "?") for r in resources if "Condition" not in r)
    conditional = Counter(r.get("Type", "?") for r in resources if "Condition" in r)
    lines += ["", f"Creates {sum(always.values())} resources: " +
              ", ".join(f"{count} `{kind}`" for kind, count in sorted(always.items())) + "."]
    if conditional:
        lines.append(f"Depending on the parameters (CloudFormation conditions), {sum(conditional.values())} more: " +
                     ", ".join(f"{count} `{kind}`" for kind, count in sorted(conditional.items())) + ".")
    if template.get("Rules"):
        lines += ["", f"Template rules (checked by CloudFormation before anything is created): {len(template['Rules'])}."]
    return lines


# -- commands -----------------------------------------------------------------------------

@contextmanager
def _assembly(path: str | None) -> Iterator[Path]:
    """The given cloud assembly, or the default config synthesized into a temporary folder."""
    if path:
        yield Path(path)
        return
    from infra.app.builder import build_app, new_app
    from infra.config import load_config

    with tempfile.TemporaryDirectory(prefix="fmops-docs-") as outdir:
        print("synthesizing config/default.yaml (pass --assembly cdk.out to reuse a synthesized app)...",
              file=sys.stderr)
        app = new_app(outdir=outdir)
        build_app(load_config(), app, checks=False)
        app.synth()
        yield Path(outdir)


def _write_or_check(prog: str, outputs: dict[Path, str], check: bool) -> int:
    stale = []
    for path, text in outputs.items():
        shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(shown))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {shown}")
    if stale:
        target = "make docs" if prog == "fmops docs" else "make diagram"
        print(f"stale: {', '.join(stale)}; run `{prog}` (or `{target}`)", file=sys.stderr)
        return 1
    if check:
        print(f"current: {', '.join(str(p.relative_to(REPO_ROOT)) for p in outputs)}")
    return 0


def diagram_outputs(assembly: Path) -> dict[Path, str]:
    from infra.tools.diagram import DOT_PATH, SVG_PATH, read_architecture, render_svg, to_dot

    dot = to_dot(read_architecture(assembly))
    return {DOT_PATH: dot, SVG_PATH: render_svg(dot)}


def docs_outputs(assembly: Path) -> dict[Path, str]:
    from infra.compliance.internet_free.reference import RULES_DOC, render_rules_doc

    return {CONFIG_REFERENCE: render_config_reference(),
            TEMPLATES_REFERENCE: render_templates_reference(assembly),
            RULES_DOC: render_rules_doc(),
            **diagram_outputs(assembly)}


def _generate(prog: str, outputs: Callable[[Path], dict[Path, str]], check: bool, assembly: str | None) -> int:
    try:
        with _assembly(assembly) as path:
            return _write_or_check(prog, outputs(path), check)
    except (AssemblyError, RuntimeError) as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2


def write_docs(check: bool = False, assembly: str | None = None) -> int:
    """`fmops docs`: write (or ``check``) every generated doc, from ``assembly`` or a fresh synth."""
    return _generate("fmops docs", docs_outputs, check, assembly)


def write_diagram(check: bool = False, assembly: str | None = None) -> int:
    """`fmops diagram`: write (or ``check``) docs/architecture.dot and .svg only."""
    return _generate("fmops diagram", diagram_outputs, check, assembly)
