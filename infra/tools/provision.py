"""`fmops provision` and `fmops projects`: launch and list a team's projects with boto3.

    fmops provision --list
    fmops provision TEMPLATE --name PROJECT [--param KEY=VALUE]... [--version V] [--project-tag P]
    fmops projects [--team TEAM] [--json]

Run with the credentials of a launcher persona of the team (lead data scientist, fine-tuner,
GenAI developer) in the account to provision in. ``TEMPLATE`` is a registry id
(``templates/registry.py``) or a product name. The command checks the parameters against the
product's provisioning parameters before calling Service Catalog, sets ``SageMakerProjectName``
(the project name) and ``SageMakerProjectId`` (``p-`` and 12 characters, as SageMaker does), tags
the project with the portfolio's TagOptions, waits with a progress display and prints the
outputs. On failure it says why: the missing permission and the role that lacks it, the unknown
product and the ones the role may launch, the bad parameter and what is allowed, or the
resource whose failure rolled the stack back and CloudFormation's reason.

Exit status: 0 success, 1 provisioning failed, 2 bad input or missing permission.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2
PROJECT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
DONE = {"SUCCEEDED": True, "FAILED": False, "IN_PROGRESS_IN_ERROR": False}
TEAM_TAG, PROJECT_TAG = "fmops:team", "fmops:project"
ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
FAILED_STATES = ("CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED")


class ProvisionError(Exception):
    """Something the user must fix; ``exit_code`` says which kind."""

    def __init__(self, message: str, exit_code: int = EXIT_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    template: str | None
    description: str


@dataclass
class Launch:
    """What ProvisionProduct receives, once checked."""

    product: Product
    artifact_id: str
    artifact_name: str
    path_id: str
    name: str
    parameters: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    record_id: str
    status: str
    outputs: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    failed_resources: list[tuple[str, str, str]] = field(default_factory=list)


def _registry_names() -> dict[str, str]:
    """Product name -> template id (the catalog publishes each template under its name)."""
    from templates.registry import REGISTRY

    return {entry.name: entry.id for entry in REGISTRY}


def new_project_id() -> str:
    """``p-`` and 12 lower-case letters or digits, the shape of SageMaker's project ids."""
    alphabet = string.ascii_lowercase + string.digits
    return "p-" + "".join(secrets.choice(alphabet) for _ in range(12))


class Provisioner:
    """The Service Catalog calls behind both commands (clients are injected, for tests)."""

    def __init__(self, catalog: Any, cloudformation: Any, sts: Any, *, poll_seconds: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.catalog = catalog
        self.cloudformation = cloudformation
        self.sts = sts
        self.poll_seconds = poll_seconds
        self.sleep = sleep

    # -- listing ------------------------------------------------------------------------------
    def products(self) -> list[Product]:
        """The products the caller's role may launch (its portfolios' products)."""
        names = _registry_names()
        found, token = [], None
        while True:
            page = self._call("SearchProducts", self.catalog.search_products,
                              **({"PageToken": token} if token else {}))
            for view in page.get("ProductViewSummaries", []):
                found.append(Product(view["ProductId"], view["Name"], names.get(view["Name"]),
                                     view.get("ShortDescription", "")))
            token = page.get("NextPageToken")
            if not token:
                return sorted(found, key=lambda p: p.name)

    def find(self, wanted: str) -> Product:
        available = self.products()
        for product in available:
            if wanted in (product.template, product.name):
                return product
        known = ", ".join(p.template or p.name for p in available) or "none (is the portfolio shared with your role?)"
        raise ProvisionError(f"unknown product {wanted!r}; your role may launch: {known}")

    def versions(self, product: Product) -> list[dict[str, Any]]:
        """Active provisioning artifacts of the product, oldest first."""
        described = self._call("DescribeProduct", self.catalog.describe_product, Id=product.id)
        artifacts = [a for a in described.get("ProvisioningArtifacts", []) if a.get("Guidance") != "DEPRECATED"]
        return sorted(artifacts, key=lambda a: a.get("CreatedTime") or 0)

    def projects(self, team: str | None) -> list[dict[str, Any]]:
        """Provisioned products of the account, those tagged with ``team`` when given."""
        found, token = [], None
        while True:
            page = self._call("SearchProvisionedProducts", self.catalog.search_provisioned_products,
                              AccessLevelFilter={"Key": "Account", "Value": "self"}, PageSize=100,
                              **({"PageToken": token} if token else {}))
            for item in page.get("ProvisionedProducts", []):
                tags = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
                if team is None or tags.get(TEAM_TAG) == team:
                    found.append({**item, "TagMap": tags})
            token = page.get("NextPageToken")
            if not token:
                return sorted(found, key=lambda p: p.get("CreatedTime") or 0)

    # -- launching ----------------------------------------------------------------------------
    def prepare(self, template: str, name: str, parameters: dict[str, str], *, version: str | None = None,
                project_tag: str | None = None) -> Launch:
        """Check everything the user gave against the product before provisioning."""
        if not PROJECT_NAME.match(name):
            raise ProvisionError(f"project name {name!r}: use 1-32 letters, digits or single hyphens, starting and "
                                 "ending with a letter or digit (SageMaker's rule)")
        product = self.find(template)
        artifacts = self.versions(product)
        if not artifacts:
            raise ProvisionError(f"{product.name} has no active version")
        if version is None:
            artifact = artifacts[-1]
        else:
            artifact = next((a for a in artifacts if a["Name"] == version), None)
            if artifact is None:
                raise ProvisionError(f"{product.name} has no version {version!r}; versions: "
                                     f"{', '.join(a['Name'] for a in artifacts)}")
        paths = self._call("ListLaunchPaths", self.catalog.list_launch_paths,
                           ProductId=product.id).get("LaunchPathSummaries", [])
        if not paths:
            raise ProvisionError(f"no launch path for {product.name}: the portfolio is not shared with your role")
        path = paths[0]
        described = self._call("DescribeProvisioningParameters", self.catalog.describe_provisioning_parameters,
                               ProductId=product.id, ProvisioningArtifactId=artifact["Id"], PathId=path["Id"])
        values = {"SageMakerProjectName": name, "SageMakerProjectId": new_project_id(), **parameters}
        checked = check_parameters(described.get("ProvisioningArtifactParameters", []), values)
        tags = choose_tags(described.get("TagOptions", []), project_tag)
        return Launch(product, artifact["Id"], artifact["Name"], path["Id"], name, checked, tags)

    def provision(self, launch: Launch, progress: Callable[[str], None] = lambda status: None) -> Outcome:
        """ProvisionProduct, then wait for the record to finish, reporting its status."""
        record = self._call(
            "ProvisionProduct", self.catalog.provision_product,
            ProductId=launch.product.id, ProvisioningArtifactId=launch.artifact_id, PathId=launch.path_id,
            ProvisionedProductName=launch.name, ProvisionToken=str(uuid.uuid4()),
            ProvisioningParameters=[{"Key": k, "Value": v} for k, v in launch.parameters.items()],
            Tags=[{"Key": k, "Value": v} for k, v in launch.tags.items()],
        )["RecordDetail"]
        record_id = record["RecordId"]
        while True:
            detail = self._call("DescribeRecord", self.catalog.describe_record, Id=record_id)
            status = detail["RecordDetail"]["Status"]
            progress(status)
            if status in DONE:
                break
            self.sleep(self.poll_seconds)
        outcome = Outcome(record_id, status)
        outcome.errors = [f"{e.get('Code', 'Error')}: {e.get('Description', '')}"
                          for e in detail["RecordDetail"].get("RecordErrors", [])]
        if DONE[status]:
            product_id = detail["RecordDetail"]["ProvisionedProductId"]
            outputs = self._call("GetProvisionedProductOutputs", self.catalog.get_provisioned_product_outputs,
                                 ProvisionedProductId=product_id).get("Outputs", [])
            outcome.outputs = {o["OutputKey"]: o["OutputValue"] for o in outputs}
        else:
            outcome.failed_resources = self.failed_resources(launch.name)
        return outcome

    def failed_resources(self, name: str) -> list[tuple[str, str, str]]:
        """(logical id, type, reason) of the stack's failed resources, first failure first; empty
        when the stack is not known or its events cannot be read."""
        found = self._call("SearchProvisionedProducts", self.catalog.search_provisioned_products,
                           AccessLevelFilter={"Key": "Account", "Value": "self"},
                           Filters={"SearchQuery": [f"name:{name}"]}).get("ProvisionedProducts", [])
        stack = next((p.get("PhysicalId") for p in found if p.get("Name") == name), None)
        if not stack:
            return []
        try:
            events = self.cloudformation.describe_stack_events(StackName=stack).get("StackEvents", [])
        except ClientError:
            return []
        failed = [e for e in reversed(events) if e.get("ResourceStatus") in FAILED_STATES
                  and e.get("ResourceStatusReason") and "cancelled" not in e["ResourceStatusReason"].lower()]
        return [(e["LogicalResourceId"], e["ResourceType"], e["ResourceStatusReason"]) for e in failed]

    def _call(self, operation: str, method: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        try:
            return method(**kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            message = error.response.get("Error", {}).get("Message", str(error))
            if code in ACCESS_DENIED:
                raise ProvisionError(f"missing permission: servicecatalog:{operation} was denied for {self.caller()} "
                                     f"({message}). Use a launcher persona role of the team (lead-data-scientist, "
                                     "fine-tuner, genai-developer) in this account.") from None
            if code == "InvalidParametersException":
                raise ProvisionError(f"bad parameter: {message}") from None
            if code == "ResourceNotFoundException":
                raise ProvisionError(f"not found: {message}") from None
            raise ProvisionError(f"{operation} failed: {code} {message}", EXIT_FAILED) from None

    def caller(self) -> str:
        try:
            return self.sts.get_caller_identity()["Arn"]
        except (ClientError, BotoCoreError):
            return "your credentials"


def check_parameters(declared: Sequence[dict[str, Any]], values: dict[str, str]) -> dict[str, str]:
    """Every value names a parameter of the product and meets its allowed values; every
    parameter without a default has a value. Returns what to send (given values only)."""
    by_key = {p["ParameterKey"]: p for p in declared}
    unknown = sorted(set(values) - set(by_key))
    if unknown:
        raise ProvisionError(f"bad parameter {unknown[0]!r}: the product has no such parameter; its parameters: "
                             f"{', '.join(sorted(by_key))}")
    for key, value in values.items():
        allowed = by_key[key].get("ParameterConstraints", {}).get("AllowedValues") or []
        if allowed and value not in allowed:
            raise ProvisionError(f"bad parameter {key}={value!r}: allowed values are {', '.join(allowed)}")
        pattern = by_key[key].get("ParameterConstraints", {}).get("AllowedPattern")
        if pattern and not re.fullmatch(pattern, value):
            description = by_key[key].get("ParameterConstraints", {}).get("ConstraintDescription") or pattern
            raise ProvisionError(f"bad parameter {key}={value!r}: must match {description}")
    missing = sorted(k for k, p in by_key.items() if k not in values and p.get("DefaultValue") is None)
    if missing:
        raise ProvisionError(f"missing parameter {missing[0]}: {by_key[missing[0]].get('Description', '')} "
                             f"(give --param {missing[0]}=...)")
    return dict(values)


def choose_tags(options: Sequence[dict[str, Any]], project_tag: str | None) -> dict[str, str]:
    """One value per TagOption key: the only value, or --project-tag for the project key."""
    tags = {}
    for option in options:
        key, allowed = option["Key"], option.get("Values", [])
        if key == PROJECT_TAG and project_tag is not None:
            if project_tag not in allowed:
                raise ProvisionError(f"bad --project-tag {project_tag!r}: the team's projects are {', '.join(allowed)}")
            tags[key] = project_tag
        elif len(allowed) == 1:
            tags[key] = allowed[0]
        else:
            raise ProvisionError(f"choose a value for tag {key}: give --project-tag, one of {', '.join(allowed)}")
    return tags


# -- command line ---------------------------------------------------------------------------------

def _parameters(items: Sequence[str]) -> dict[str, str]:
    values = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ProvisionError(f"--param {item!r}: use KEY=VALUE")
        values[key] = value
    return values


def _clients(profile: str | None, region: str | None) -> Provisioner:
    import boto3

    session = boto3.session.Session(profile_name=profile, region_name=region)
    return Provisioner(session.client("servicecatalog"), session.client("cloudformation"), session.client("sts"))


def _print_products(console: Console, products: list[Product]) -> None:
    table = Table("template", "product", "id", "description", title="Products your role may launch")
    for product in products:
        table.add_row(product.template or "-", product.name, product.id, product.description)
    console.print(table)


def _report(console: Console, launch: Launch, outcome: Outcome) -> int:
    if DONE.get(outcome.status):
        table = Table("output", "value", title=f"{launch.name}: {launch.product.name} {launch.artifact_name}")
        for key, value in sorted(outcome.outputs.items()):
            table.add_row(key, value)
        console.print(table)
        return EXIT_OK
    console.print(f"[red]provisioning {launch.name} failed[/red] ({outcome.status}, record {outcome.record_id})")
    for logical_id, kind, reason in outcome.failed_resources:
        console.print(f"  failed resource {logical_id} ({kind}): {reason}")
    for error in outcome.errors:
        console.print(f"  {error}")
    if not outcome.failed_resources and not outcome.errors:
        console.print("  Service Catalog gave no reason; see the record in the console")
    return EXIT_FAILED


def provision_project(template: str | None, name: str | None, params: Sequence[str] = (), *,
                      list_products: bool = False, version: str | None = None, project_tag: str | None = None,
                      profile: str | None = None, region: str | None = None, provisioner: Provisioner | None = None,
                      console: Console | None = None) -> int:
    """`fmops provision`: launch ``template`` as project ``name`` (``params`` as KEY=VALUE), wait and show
    its outputs; or list the products the role may launch. Exit status as in the module docstring."""
    console = console or Console()
    try:
        provisioner = provisioner or _clients(profile, region)
        if list_products:
            _print_products(console, provisioner.products())
            return EXIT_OK
        if not template or not name:
            raise ProvisionError("give TEMPLATE and --name (or --list)")
        launch = provisioner.prepare(template, name, _parameters(params), version=version, project_tag=project_tag)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task(f"provisioning {launch.name} ({launch.product.name} {launch.artifact_name})")
            outcome = provisioner.provision(launch, lambda status: bar.update(
                task, description=f"provisioning {launch.name}: {status}"))
        return _report(console, launch, outcome)
    except ProvisionError as error:
        console.print(f"[red]fmops provision:[/red] {error}")
        return error.exit_code
    except (NoCredentialsError, BotoCoreError) as error:
        console.print(f"[red]fmops provision:[/red] {error}")
        return EXIT_INPUT


def list_projects(team: str | None = None, *, as_json: bool = False, profile: str | None = None,
                  region: str | None = None, provisioner: Provisioner | None = None,
                  console: Console | None = None) -> int:
    """`fmops projects`: the provisioned projects (of ``team``, by its tag) as a table or JSON."""
    console = console or Console()
    try:
        provisioner = provisioner or _clients(profile, region)
        found = provisioner.projects(team)
    except ProvisionError as error:
        console.print(f"[red]fmops projects:[/red] {error}")
        return error.exit_code
    except (NoCredentialsError, BotoCoreError) as error:
        console.print(f"[red]fmops projects:[/red] {error}")
        return EXIT_INPUT
    rows = list(_rows(found))
    if as_json:
        console.print_json(json.dumps(rows))
        return EXIT_OK
    table = Table("project", "product", "status", "team", "project tag", "created", "id",
                  title=f"Projects{' of team ' + team if team else ''}")
    for row in rows:
        table.add_row(*(str(row[k]) for k in ("name", "product", "status", "team", "project", "created", "id")))
    console.print(table)
    return EXIT_OK


def _rows(items: list[dict[str, Any]]) -> Iterator[dict[str, str]]:
    for item in items:
        tags = item["TagMap"]
        yield {"name": item.get("Name", ""), "product": item.get("ProductName", item.get("ProductId", "")),
               "status": item.get("Status", ""), "team": tags.get(TEAM_TAG, "-"), "project": tags.get(PROJECT_TAG, "-"),
               "created": str(item.get("CreatedTime", "")), "id": item.get("Id", "")}

