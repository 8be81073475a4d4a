"""`fmops provision` and `fmops projects`: launch and list a team's projects with boto3.

    fmops provision --list
    fmops provision TEMPLATE --name PROJECT [--param KEY=VALUE]... [--version V] [--project-tag P]
    fmops provision TEMPLATE --name PROJECT --via project --team TEAM [--config FILE] [--param ...]
    fmops projects [--team TEAM] [--json]

Run with the credentials of a launcher persona of the team (lead data scientist, fine-tuner,
GenAI developer) in the account to provision in. ``TEMPLATE`` is a registry id
(``templates/registry.py``) or a product name. Either way the command creates a SageMaker project
(``sagemaker:CreateProject``), the object Studio lists, and SageMaker gives the template its
``SageMakerProjectName`` and ``SageMakerProjectId``:

* ``--via catalog`` (default; teams with ``catalog.project_path: catalog``): the project is
  provisioned from the team's Service Catalog product (``ServiceCatalogProvisioningDetails``);
  the parameters are checked against the product's provisioning parameters, the tags are the
  portfolio's TagOptions;
* ``--via project`` (teams with ``catalog.project_path: project``, no Service Catalog): the
  project runs the template from its S3 URL with the team's project role
  (``TemplateProviders``), both read from the SSM parameter the team's catalog stack writes
  (``/<org>/catalog/<team>/project-template/<template>``); the parameters are checked against the
  template's (``cloudformation:GetTemplateSummary``), the tags are the team's from ``--config``.

It waits with a progress display and prints the outputs. On failure it says why: the missing
permission and the role that lacks it, the unknown product or template and the ones available,
the bad parameter and what is allowed, or the resource whose failure rolled the stack back and
CloudFormation's reason.

Exit status: 0 success, 1 provisioning failed, 2 bad input or missing permission.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from infra.plan.launch_parameters import EXIT_INPUT, ProvisionError, check_parameters

EXIT_OK, EXIT_FAILED = 0, 1
PROJECT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
DONE = {"CreateCompleted": True, "CreateFailed": False}
"""Final states of a SageMaker project's creation (``DescribeProject`` ProjectStatus)."""
SET_BY_SAGEMAKER = ("SageMakerProjectName", "SageMakerProjectId")
TEAM_TAG, PROJECT_TAG, COST_CENTRE_TAG = "fmops:team", "fmops:project", "fmops:cost-centre"
ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
FAILED_STATES = ("CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED")


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    template: str | None
    description: str


@dataclass
class Launch:
    """What CreateProject receives, once checked: a Service Catalog product (``via`` catalog) or a
    template URL and the project role (``via`` project)."""

    product: Product
    artifact_id: str
    artifact_name: str
    path_id: str
    name: str
    parameters: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)
    via: str = "catalog"
    template_url: str = ""
    role_arn: str = ""

    def create_project_request(self) -> dict[str, Any]:
        """The CreateProject request of this launch."""
        parameters = [{"Key": k, "Value": v} for k, v in self.parameters.items()]
        request: dict[str, Any] = {"ProjectName": self.name, "Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()],
                                   "ProjectDescription": f"{self.product.name} {self.artifact_name}"}
        if self.via == "catalog":
            request["ServiceCatalogProvisioningDetails"] = {
                "ProductId": self.product.id, "ProvisioningArtifactId": self.artifact_id, "PathId": self.path_id,
                "ProvisioningParameters": parameters}
        else:
            request["TemplateProviders"] = [{"CfnTemplateProvider": {
                "TemplateName": self.product.template or self.product.name, "TemplateURL": self.template_url,
                "RoleARN": self.role_arn, "Parameters": parameters}}]
        return request


@dataclass
class Outcome:
    project_id: str
    status: str
    outputs: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    failed_resources: list[tuple[str, str, str]] = field(default_factory=list)


def _registry_names() -> dict[str, str]:
    """Product name -> template id (the catalog publishes each template under its name)."""
    from templates.registry import REGISTRY

    return {entry.name: entry.id for entry in REGISTRY}


class Provisioner:
    """The SageMaker, Service Catalog, SSM and CloudFormation calls behind both commands (clients
    are injected, for tests)."""

    def __init__(self, catalog: Any, cloudformation: Any, sts: Any, *, sagemaker: Any = None, ssm: Any = None,
                 poll_seconds: float = 10.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.catalog = catalog
        self.cloudformation = cloudformation
        self.sts = sts
        self.sagemaker = sagemaker
        self.ssm = ssm
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
        _check_project_name(name)
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
        _refuse_sagemakers_parameters(parameters)
        checked = check_parameters(described.get("ProvisioningArtifactParameters", []), parameters,
                                   provided=SET_BY_SAGEMAKER)
        tags = choose_tags(described.get("TagOptions", []), project_tag)
        return Launch(product, artifact["Id"], artifact["Name"], path["Id"], name, checked, tags)

    def prepare_project(self, template: str, name: str, parameters: dict[str, str], *, path: str,
                        tag_options: Sequence[dict[str, Any]], project_tag: str | None = None) -> Launch:
        """Check a ``--via project`` launch: the team's template (URL, version, project role) from
        its SSM parameter below ``path``, the parameters against the template's."""
        _check_project_name(name)
        templates = self.project_templates(path)
        wanted = _registry_names().get(template, template)
        if wanted not in templates:
            known = ", ".join(sorted(templates)) or (f"none (no SSM parameter below {path}/: "
                                                     "is the team's catalog.project_path project in this account?)")
            raise ProvisionError(f"unknown SageMaker project template {template!r}; the team's templates here: {known}")
        found = templates[wanted]
        summary = self._call("GetTemplateSummary", self.cloudformation.get_template_summary, TemplateURL=found["url"],
                             service="cloudformation")
        _refuse_sagemakers_parameters(parameters)
        values = {"SageMakerProjectName": name, **parameters}
        checked = check_parameters(summary.get("Parameters", []), values, provided=SET_BY_SAGEMAKER)
        tags = choose_tags(tag_options, project_tag)
        names = {template_id: name for name, template_id in _registry_names().items()}
        product = Product(wanted, names.get(wanted, wanted), wanted, "")
        return Launch(product, "", found["version"], "", name, checked, tags, via="project",
                      template_url=found["url"], role_arn=found["role"])

    def project_templates(self, path: str) -> dict[str, dict[str, str]]:
        """template id -> {url, version, role} of the team's SageMaker project templates (the SSM
        parameters below ``path``)."""
        found, token = {}, None
        while True:
            page = self._call("GetParametersByPath", self.ssm.get_parameters_by_path, service="ssm",
                              Path=path, **({"NextToken": token} if token else {}))
            for parameter in page.get("Parameters", []):
                found[parameter["Name"].rsplit("/", 1)[1]] = json.loads(parameter["Value"])
            token = page.get("NextToken")
            if not token:
                return found

    def provision(self, launch: Launch, progress: Callable[[str], None] = lambda status: None) -> Outcome:
        """CreateProject, then wait until the project is created or failed, reporting its status."""
        created = self._call("CreateProject", self.sagemaker.create_project, service="sagemaker",
                             **launch.create_project_request())
        while True:
            project = self._call("DescribeProject", self.sagemaker.describe_project, service="sagemaker",
                                 ProjectName=launch.name)
            status = project["ProjectStatus"]
            progress(status)
            if status in DONE:
                break
            self.sleep(self.poll_seconds)
        outcome = Outcome(created["ProjectId"], status)
        if launch.via == "catalog":
            self._catalog_outcome(project, outcome)
        else:
            self._stack_outcome(project, outcome)
        return outcome

    def _catalog_outcome(self, project: dict[str, Any], outcome: Outcome) -> None:
        details = project.get("ServiceCatalogProvisionedProductDetails", {})
        product_id = details.get("ProvisionedProductId")
        if DONE[outcome.status]:
            outputs = self._call("GetProvisionedProductOutputs", self.catalog.get_provisioned_product_outputs,
                                 ProvisionedProductId=product_id).get("Outputs", [])
            outcome.outputs = {o["OutputKey"]: o["OutputValue"] for o in outputs}
            return
        if details.get("ProvisionedProductStatusMessage"):
            outcome.errors.append(details["ProvisionedProductStatusMessage"])
        if product_id:
            outcome.failed_resources = self.failed_resources(f"id:{product_id}")

    def _stack_outcome(self, project: dict[str, Any], outcome: Outcome) -> None:
        stack = {}
        for provider in project.get("TemplateProviderDetails", []):
            stack = provider.get("CfnTemplateProviderDetail", {}).get("StackDetail", {}) or stack
        stack_id = stack.get("Id") or stack.get("Name")
        if DONE[outcome.status]:
            if stack_id:
                described = self._call("DescribeStacks", self.cloudformation.describe_stacks, service="cloudformation",
                                       StackName=stack_id)["Stacks"][0]
                outcome.outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
            return
        if stack.get("StatusMessage"):
            outcome.errors.append(stack["StatusMessage"])
        if stack_id:
            outcome.failed_resources = self.stack_failures(stack_id)

    def failed_resources(self, query: str) -> list[tuple[str, str, str]]:
        """(logical id, type, reason) of the failed resources of the provisioned product that
        ``query`` finds (``id:<id>``), first failure first; empty when the stack is not known or
        its events cannot be read."""
        found = self._call("SearchProvisionedProducts", self.catalog.search_provisioned_products,
                           AccessLevelFilter={"Key": "Account", "Value": "self"},
                           Filters={"SearchQuery": [query]}).get("ProvisionedProducts", [])
        stack = next((p.get("PhysicalId") for p in found if p.get("PhysicalId")), None)
        return self.stack_failures(stack) if stack else []

    def stack_failures(self, stack: str) -> list[tuple[str, str, str]]:
        """(logical id, type, reason) of a stack's failed resources, first failure first."""
        try:
            events = self.cloudformation.describe_stack_events(StackName=stack).get("StackEvents", [])
        except ClientError:
            return []
        failed = [e for e in reversed(events) if e.get("ResourceStatus") in FAILED_STATES
                  and e.get("ResourceStatusReason") and "cancelled" not in e["ResourceStatusReason"].lower()]
        return [(e["LogicalResourceId"], e["ResourceType"], e["ResourceStatusReason"]) for e in failed]

    def _call(self, operation: str, method: Callable[..., dict[str, Any]], *, service: str = "servicecatalog",
              **kwargs: Any) -> dict[str, Any]:
        try:
            return method(**kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            message = error.response.get("Error", {}).get("Message", str(error))
            if code in ACCESS_DENIED:
                raise ProvisionError(f"missing permission: {service}:{operation} was denied for {self.caller()} "
                                     f"({message}). Use a launcher persona role of the team (lead-data-scientist, "
                                     "fine-tuner, genai-developer) in this account.") from None
            if code in ("InvalidParametersException", "ValidationError", "ValidationException"):
                raise ProvisionError(f"bad parameter: {message}") from None
            if code in ("ResourceNotFoundException", "ParameterNotFound"):
                raise ProvisionError(f"not found: {message}") from None
            raise ProvisionError(f"{operation} failed: {code} {message}", EXIT_FAILED) from None

    def caller(self) -> str:
        try:
            return self.sts.get_caller_identity()["Arn"]
        except (ClientError, BotoCoreError):
            return "your credentials"


def _check_project_name(name: str) -> None:
    if not PROJECT_NAME.match(name):
        raise ProvisionError(f"project name {name!r}: use 1-32 letters, digits or single hyphens, starting and "
                             "ending with a letter or digit (SageMaker's rule)")


def _refuse_sagemakers_parameters(parameters: dict[str, str]) -> None:
    for key in SET_BY_SAGEMAKER:
        if key in parameters:
            raise ProvisionError(f"bad parameter {key}: SageMaker sets it when it creates the project (the name is "
                                 "--name); remove --param " + key)


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
    return Provisioner(session.client("servicecatalog"), session.client("cloudformation"), session.client("sts"),
                       sagemaker=session.client("sagemaker"), ssm=session.client("ssm"))


@dataclass(frozen=True)
class ProjectPath:
    """Where ``--via project`` finds a team's templates: the SSM prefix the team's catalog stack
    writes below, and the tags its projects carry (the portfolio's TagOptions on the catalog path)."""

    path: str
    tag_options: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, config_path: str | None, team_name: str | None) -> ProjectPath:
        from infra import naming
        from infra.config import ConfigError, load_config
        from infra.stacks.catalog.offer import tag_options

        if not team_name:
            raise ProvisionError("--via project needs --team (the team whose templates to launch)")
        try:
            config = load_config(config_path)
        except ConfigError as error:
            raise ProvisionError(f"--config: {error}") from None
        team = next((t for t in config.teams if t.name == team_name), None)
        if team is None:
            raise ProvisionError(f"--team {team_name!r}: not a team of the config; teams: "
                                 f"{', '.join(t.name for t in config.teams)}")
        if team.catalog.project_path != "project":
            raise ProvisionError(f"team {team_name} launches through Service Catalog (catalog.project_path "
                                 f"{team.catalog.project_path}): use --via catalog")
        options = tuple({"Key": key, "Values": list(values)} for key, values in tag_options(team).items())
        return cls(naming.project_template_parameter(config.organisation.name, team.name), options)


def _print_products(console: Console, products: list[Product]) -> None:
    table = Table("template", "product", "id", "description", title="Products your role may launch")
    for product in products:
        table.add_row(product.template or "-", product.name, product.id, product.description)
    console.print(table)


def _print_templates(console: Console, templates: dict[str, dict[str, str]]) -> None:
    table = Table("template", "version", "template URL", title="SageMaker project templates of the team")
    for template_id, found in sorted(templates.items()):
        table.add_row(template_id, found["version"], found["url"])
    console.print(table)


def _report(console: Console, launch: Launch, outcome: Outcome) -> int:
    if DONE.get(outcome.status):
        table = Table("output", "value", title=f"{launch.name}: {launch.product.name} {launch.artifact_name}")
        for key, value in sorted(outcome.outputs.items()):
            table.add_row(key, value)
        console.print(table)
        return EXIT_OK
    console.print(f"[red]provisioning {launch.name} failed[/red] ({outcome.status}, project {outcome.project_id})")
    for logical_id, kind, reason in outcome.failed_resources:
        console.print(f"  failed resource {logical_id} ({kind}): {reason}")
    for error in outcome.errors:
        console.print(f"  {error}")
    if not outcome.failed_resources and not outcome.errors:
        console.print("  SageMaker gave no reason; see the project in Studio or its stack in the console")
    return EXIT_FAILED


def provision_project(template: str | None, name: str | None, params: Sequence[str] = (), *,
                      list_products: bool = False, version: str | None = None, project_tag: str | None = None,
                      via: str = "catalog", team: str | None = None, config: str | None = None,
                      profile: str | None = None, region: str | None = None, provisioner: Provisioner | None = None,
                      console: Console | None = None) -> int:
    """`fmops provision`: create SageMaker project ``name`` from ``template`` (``params`` as KEY=VALUE)
    through the team's Service Catalog product (``via`` catalog) or its template URL (``via``
    project: ``team`` of ``config``), wait and show its outputs; or list the products the role
    may launch. Exit status as in the module docstring."""
    console = console or Console()
    try:
        path = ProjectPath.of(config, team) if via == "project" else None
        provisioner = provisioner or _clients(profile, region)
        if list_products:
            if path is not None:
                _print_templates(console, provisioner.project_templates(path.path))
            else:
                _print_products(console, provisioner.products())
            return EXIT_OK
        if not template or not name:
            raise ProvisionError("give TEMPLATE and --name (or --list)")
        if path is not None:
            if version is not None:
                raise ProvisionError("--version: a team's SageMaker project template has one version, the deployed one")
            launch = provisioner.prepare_project(template, name, _parameters(params), path=path.path,
                                                 tag_options=path.tag_options, project_tag=project_tag)
        else:
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

