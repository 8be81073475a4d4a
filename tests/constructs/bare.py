"""What the construct tests share: a bare stack, its template, and the check that a construct
carries none of the app's names.

Each test module builds its constructs in a bare ``Stack`` of its own (no app, no config) and
synthesizes it once (a module-scoped fixture). The constructs are given unusual names (the
organisation ``acme``, the team ``kite``), so a name the construct builds by itself shows up as
one of the app's (``fmops``...) in :func:`app_names`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Stack
from aws_cdk import aws_servicecatalog as servicecatalog
from aws_cdk.assertions import Template

ACCOUNT, REGION = "123456789012", "eu-west-1"
ORG, TEAM = "acme", "kite"
# The app's own names are all lower case: the organisation "fmops" of its configs, the "fmops:"
# tag keys, "/fmops/" paths. The "FMOps" of a description is the library's name, not the app's.
APP_NAME = "fmops"
# The one app name a product template carries: its project id parameter names the app's CLI,
# which launches products too.
PROJECT_ID_DESCRIPTION = "Project id (set by SageMaker, or by `fmops provision`)"


def bare_stack(account: str = ACCOUNT, region: str = REGION) -> Stack:
    """A stack in an app of its own, with an explicit environment (as the app's stacks have)."""
    return Stack(App(), "Bare", env=Environment(account=account, region=region))


def template(stack: Stack) -> dict[str, Any]:
    return Template.from_stack(stack).to_json()


def product_template(product: servicecatalog.ProductStack) -> dict[str, Any]:
    """The template of a product stack, as Service Catalog publishes it (an asset of its parent)."""
    parent = Stack.of(product.node.scope)  # type: ignore[arg-type]
    servicecatalog.CloudFormationProduct(
        parent, "Published", product_name="test", owner="test",
        product_versions=[servicecatalog.CloudFormationProductVersion(
            product_version_name="1", cloud_formation_template=servicecatalog.CloudFormationTemplate.from_product_stack(
                product))])
    assembly = Path(parent.node.root.synth().directory)  # type: ignore[union-attr]
    [path] = assembly.glob("*.product.template.json")
    return json.loads(path.read_text())


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template.get("Resources", {}).items() if r["Type"] == resource_type}


def only(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """The properties of the one resource of ``resource_type``."""
    [resource] = resources(template, resource_type).values()
    return resource.get("Properties", {})


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def app_names(template: dict[str, Any]) -> list[str]:
    """Every string of the template, outside the resources' metadata (the library's own
    acknowledgment and exemption records), that holds one of the app's names."""
    values = json.loads(json.dumps({k: v for k, v in template.items() if k != "Metadata"}))
    for resource in values.get("Resources", {}).values():
        resource.pop("Metadata", None)
    return [s for s in strings(values) if APP_NAME in s]


def statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    """The statement ``sid`` of a policy document."""
    [found] = [s for s in document["Statement"] if s.get("Sid") == sid]
    return found


# -- products -----------------------------------------------------------------------------------

def lake(account: str, region: str) -> str:
    return f"{ORG}-{TEAM}-lake-{account}-{region}"


def arrivals(account: str, region: str) -> str:
    return f"{ORG}-{TEAM}-arrivals-{account}-{region}"


def request_logs(account: str, region: str) -> str:
    return f"{ORG}-request-logs-{account}-{region}"


def product_props(**overrides: Any) -> Any:
    """Props of a product of team ``kite`` of ``acme``, every name an unusual one."""
    from fmops_constructs.product import ImageRegistry, ProjectTemplateProps

    props: dict[str, Any] = dict(
        team=TEAM, template_id="demo", version="9.9.9", boundary_name=f"{ORG}-{TEAM}-ceiling",
        role_path=f"/{ORG}/work/{TEAM}/", parameter_prefix=f"/{ORG}/params/{TEAM}",
        seed_parameter=f"/{ORG}/params/{TEAM}/seeds/demo", team_bucket=lake, promoted_models_bucket=arrivals,
        access_log_bucket=request_logs, log_group_prefix=f"/{ORG}/logs/{TEAM}/", team_tag=f"{ORG}:team",
        tags={f"{ORG}:template": "demo"}, images=ImageRegistry(account=ACCOUNT, region=REGION, namespace=ORG),
        log_retention_days=120)
    return ProjectTemplateProps(**{**props, **overrides})


def acknowledged(construct: Any) -> dict[str, str]:
    """The cdk-nag findings acknowledged on ``construct`` (rule -> reason)."""
    return {rule.removeprefix("Annotation::"): reason for entry in construct.node.metadata
            if entry.type == "aws:cdk:acknowledged-rules" for rule, reason in entry.data.items()}
