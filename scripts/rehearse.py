#!/usr/bin/env python3
"""Deploy rehearsal: the real CDK CLI deploys the app into a local AWS emulator, in either mode.

    .venv/bin/python scripts/rehearse.py [--config config/single-account.yaml] [--report FILE]
    .venv/bin/python scripts/rehearse.py --config config/default.yaml [--accounts risk-dev,...] [--report FILE]
    make rehearse        # single-account mode, config/single-account.yaml
    make rehearse-org    # mode organisation, the whole of config/default.yaml (7 accounts)

Steps, each bounded by a timeout, with a progress line per step and a PASS/FAIL summary at the
end (exit 0 when no check fails, 1 when one does, 2 for a config or --accounts it cannot rehearse):

1. start moto's server (``scripts/moto_emulator.py``) on 127.0.0.1 and a free port, as the
   config's account (``MOTO_ACCOUNT_ID``);
2. ``npx --no-install cdk bootstrap aws://ACCOUNT/REGION``;
3. ``npx --no-install cdk synth -c config=...``: the CLI runs ``app.py`` with every compliance
   check; the stacks the emulator cannot deploy are found in the templates (below);
4. ``npx --no-install cdk deploy --all --require-approval never`` on that cloud assembly
   (``--app``; the stacks by name instead of ``--all`` when some cannot be deployed), which
   publishes the assets and deploys each stack through change sets;
5. read the deployed state back with boto3 and check it (below), then provision the project
   templates (below);
6. ``npx --no-install cdk destroy --exclusively --force``, one deployed stack at a time, dependents
   first, check what happened, and stop the emulator (its whole process group), also after a
   failure, Ctrl-C or SIGTERM.

Mode organisation (``--config`` of a mode organisation config, e.g. config/default.yaml): one
emulator, and every account of the config a separate emulator account. The emulator runs without
``MOTO_ACCOUNT_ID``, so moto puts each request in the account of its access key; the rehearsal
gets each account's keys as an operator of an organisation would, by AssumeRole of the account's
``OrganizationAccountAccessRole`` (moto makes the keys of the role's account; the rehearsal checks
with GetCallerIdentity that they are), and runs every CLI command and boto3 check of an account
with that account's keys. In order:

- ``cdk synth`` of the whole organisation, once (the governance stacks at the top level, each
  workload account's stacks in its stage, ``assembly-<account>`` in cdk.out);
- per account, governance first, then the workload accounts in the order their pipelines deploy
  them (per pipeline dev, preprod, prod; ``infra/plan/delivery.py``), as docs/delivery.md says:
  create the account's generated CloudFormation execution policies (``aws iam create-policy`` of
  ``fmops bootstrap-commands``, from ``infra/tools/bootstrap.py``), ``cdk bootstrap
  aws://ACCOUNT/REGION --cloudformation-execution-policies ...``, with ``--trust <governance>
  --trust-for-lookup <governance>`` in a workload account; check the toolkit it made (its deploy,
  publishing and lookup roles trust the account itself and, in a workload account, the governance
  account and no other; the execution policies given are the generated ones); then ``cdk deploy``
  of the account's deployable stacks by their CLI selectors (``<stage>/<stack>`` for a workload
  account: what the account's pipeline stage would deploy, here with the account's own keys), check
  every stack is in that account, and run the same state checks as single-account mode on the
  account (names prefixed ``<account>: ``), and provision its products (workload accounts);
- across accounts: every account sees its own stacks, VPC, KMS keys and buckets and none of
  another's ("accounts isolated"); every bucket and ECR repository of the governance account that
  a workload account's templates name (the log archive AWS Config delivers to, the mirror's
  repositories the endpoints and products pull from: the app names them from the config, there
  is no cross-account reference CloudFormation resolves) was created by the governance stacks,
  deployed first, and is not the workload account's own ("cross-account references");
- destroy, the workload accounts (last deployed first) before the governance account.

Reported NOT REHEARSED in mode organisation, with why: the delivery pipelines (moto implements
neither CodePipeline nor CodeBuild nor any pipeline execution, so the pipeline stacks are left out
and the stages are deployed by the CLI instead: self-mutation, the Build step's scoped synth, the
asset publishing from CodeBuild and the approvals are not rehearsed); the cross-account trust
evaluation (moto authorises no request, AssumeRole succeeds whoever calls; the trust policies are
checked as written); SCP creation and attachment (no ``AWS::Organizations::Policy`` in moto's
CloudFormation, no emulated organisation). StackSets are not used by the app.

Which is which: ``make rehearse-org`` rehearses every account of config/default.yaml; the test
suite (tests/test_rehearsal.py) rehearses ``--accounts risk-dev``, the governance account and one
team's dev account, next to the whole single-account rehearsal, to keep the suite's time down
(measured: README, "What is verified offline").

The CLI runs in a temporary project folder whose ``cdk.json`` is the repository's with the app
command made absolute and the output folder inside the temp folder, so the rehearsal writes
nothing into the repository (no cdk.out, no cdk.context.json). Every request goes to
``http://localhost:PORT`` (AWS_ENDPOINT_URL; moto serves template URLs only for ``localhost``),
with dummy credentials (or an account's assumed-role keys), no profile, no proxy, no telemetry, no
notices and no version check.

Checked on the deployed state (boto3 against the emulator):

- every deployed stack is CREATE_COMPLETE, and every template resource of a type moto
  implements was created: the CLI's success alone proves nothing, because moto can fail inside
  ExecuteChangeSet and still report the stack complete;
- the VPC has the configured CIDR; no internet, egress-only internet or VPN gateway is attached;
  no NAT gateway; no Elastic IP; its subnets are in the configured AZs and map no public IP;
  every route is the local route or the S3 gateway endpoint's prefix list;
- the interface endpoints are exactly ``infra.plan.endpoints.interface_endpoints`` of the account's
  features, with private DNS, in every subnet, behind a security group that admits only
  TCP 443 from the VPC CIDR; the S3 gateway endpoint is on every subnet's route table;
- buckets are SSE-KMS with a customer-managed key of our stacks, except the access-log bucket,
  which is SSE-S3; every KMS key of our stacks is enabled, customer-managed and rotates;
- VPC flow logs capture ALL traffic into the configured log group, with the configured retention;
- every Lambda function runs in the VPC's subnets with a security group of the VPC;
- IAM roles: every role of a team (tagged ``fmops:team``: personas, Studio and product roles) and
  every role people assume (trusting an account, a role or a federated principal) carries a
  permission boundary that exists; the platform's service roles, trusted only by an AWS service
  (flow-log delivery, CDK custom-resource Lambdas, ECR, Bedrock log delivery), are listed. With no
  team or persona role deployed, the check says so instead of passing;
- provisioning: each product of the catalog stacks whose resources moto can create is launched
  as Service Catalog would launch it, as a CloudFormation stack ``SC-<account>-pp-rehearsal<n>``
  from the product's template, with the platform values its parameters read from SSM (the
  catalog stack writes them; when the emulator cannot deploy that stack, the rehearsal writes them
  from the deployed VPC, subnets, S3 endpoint, team key and alarm topic, and names the stand-ins
  for what only the catalog stack creates), a project name and id, and a value for every
  parameter without a default (its first allowed value); it must reach CREATE_COMPLETE with every resource
  of a type moto implements created, and is deleted again. The products moto cannot create (a
  resource it creates reads an attribute of one it skips) are listed with why, as NOT REHEARSED;
  Service Catalog's ProvisionProduct and SageMaker's CreateProject, which moto does not
  implement, are tested against botocore's Stubber (tests/test_provision.py). A launch moto
  refuses although AWS accepts it (``PROVISION_LIMITS``: its old list of SageMaker instance
  types) is listed with the reason, never passed; the config-declared SageMaker projects
  (``AWS::SageMaker::Project``, which moto does not implement) are named as NOT REHEARSED with
  the tests that assert them;
- after ``cdk destroy``: the stacks are gone, and every retained (DeletionPolicy Retain) bucket,
  key and log group of a destroyed stack still exists.

What the emulator cannot do is reported as NOT REHEARSED (never as PASS), with where it is
asserted on the templates instead:

- resource types moto's CloudFormation does not implement (``get_model_map()`` of moto) are
  skipped by it, not failed: e.g. ``AWS::S3::BucketPolicy``, the ``AWS::Route53Resolver::Firewall*``
  DNS firewall, SageMaker domains, Bedrock guardrails, CodeArtifact, Service Catalog. Each skipped
  type must be named by a test under tests/ (the templates are asserted there), or the rehearsal
  fails; ``AWS::CDK::Metadata`` (version reporting) has nothing to deploy;
- a stack in which a resource moto creates, or an output, reads an attribute (``Fn::GetAtt`` or
  ``${X.Attr}``) of a skipped resource fails on moto ("GetAtt references undefined resource").
  Such stacks, and the stacks that depend on them, are left out of the deploy and listed with
  the reason;
- properties moto ignores: bucket versioning, public access block, access logging, lifecycle
  and bucket key; security-group egress rules; the log group's KMS key; VPC DNS attributes;
  key rotation period (tests/test_network.py and the internet-free rules assert them);
- ``Custom::*`` resources: moto invokes their Lambda in Docker; without Docker the invocation
  fails (the function's log says so) and moto still marks the resource CREATE_COMPLETE, so e.g.
  the VPC's default security group keeps its egress rule. The rehearsal reads the log and
  reports NOT REHEARSED (it checks the group is closed when the handlers could run);
- deleting some stacks: moto 5.2.5 has no CloudFormation delete for route tables and VPC
  endpoints (so a VPC "has dependencies and cannot be deleted") nor for customer-managed IAM
  policies (so their role "must detach all policies first"). Those exact failures are reported
  as NOT REHEARSED (DESTROY_LIMITS); any other destroy failure fails the rehearsal.

scripts/moto_emulator.py fixes three bugs of moto's CloudFormation that would fail every tagged
KMS key and every cross-stack reference; it says exactly what and why.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.cloudformation.parsing import get_model_map

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from infra.assembly import StackArtifact, product_templates, read_stacks  # noqa: E402  (needs the repo on sys.path)
from infra.plan import endpoints  # noqa: E402
from infra.config import Account, ConfigError, Mode, OrgConfig, load_config  # noqa: E402
from infra import naming  # noqa: E402
from infra.tools.bootstrap import (  # noqa: E402
    account_kind, execution_policies, execution_policy_arns, execution_policy_name)

DEFAULT_CONFIG = REPO / "config" / "single-account.yaml"
EMULATOR = REPO / "scripts" / "moto_emulator.py"
CDK = ("npx", "--prefix", str(REPO), "--no-install", "cdk")

EMULATOR_START_S = 60
BOOTSTRAP_S = 180
SYNTH_S = 600
DEPLOY_S = 600
DESTROY_S = 120  # per stack
PROVISION_S = 120  # per product
EMULATOR_STOP_S = 10
BOTO = Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 2, "mode": "standard"})

PASS, FAIL, NOT_REHEARSED = "PASS", "FAIL", "NOT REHEARSED"
STEPS = {"bootstrap": "2/6", "synth": "3/6", "deploy": "4/6", "destroy": "6/6"}  # 1/6 emulator, 5/6 verify

CDK_METADATA = "AWS::CDK::Metadata"  # version reporting: nothing to deploy
# Stack deletions moto 5.2.5's CloudFormation cannot do, recognised by the CLI's error.
DESTROY_LIMITS = (
    (re.compile(r"The vpc vpc-[0-9a-f]+ has dependencies and cannot be deleted"),
     "moto has no CloudFormation delete for AWS::EC2::RouteTable and AWS::EC2::VPCEndpoint, so the VPC "
     "keeps its route tables and 'has dependencies and cannot be deleted'"),
    (re.compile(r"Cannot delete entity, must detach all policies first"),
     "moto has no CloudFormation delete for AWS::IAM::ManagedPolicy, so a role it is attached to "
     "(through the policy's Roles) 'must detach all policies first'"),
)
# Launches moto refuses although AWS accepts them: reported as NOT REHEARSED, with why.
PROVISION_LIMITS = (
    (re.compile(r"Value 'ml\.[a-z0-9.]+' at 'instanceType' failed to satisfy constraint: Member must satisfy enum"),
     "moto's SageMaker knows an old list of instance types (no ml.g5), so it refuses the endpoint config"),
)
DOCKER_ERROR = "error running docker"


class EmulatorError(RuntimeError):
    """The emulator did not start."""


class Problem(Exception):
    """A check found the deployed state wrong."""


class NotRehearsed(Exception):
    """The emulator cannot show this; the message says why and where it is asserted instead."""


@dataclass
class Check:
    name: str
    status: str
    detail: str


@dataclass
class Rehearsal:
    """Progress log and results of one run."""

    checks: list[Check] = field(default_factory=list)
    skipped_types: list[str] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)
    destroyed: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def say(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {message}", flush=True)

    def check(self, name: str, probe: Callable[[], str]) -> bool:
        """Run one probe: its return value is the PASS detail; Problem fails; NotRehearsed reports."""
        try:
            check = Check(name, PASS, probe())
        except NotRehearsed as why:
            check = Check(name, NOT_REHEARSED, str(why))
        except Problem as wrong:
            check = Check(name, FAIL, str(wrong))
        except Exception as error:  # an emulator or SDK error is a failed check, not a crash
            check = Check(name, FAIL, f"{type(error).__name__}: {error}")
        self._record(check)
        return check.status != FAIL

    def fail(self, name: str, detail: str) -> None:
        self._record(Check(name, FAIL, detail))

    def _record(self, check: Check) -> None:
        self.checks.append(check)
        self.say(f"  {check.status:<13} {check.name}: {check.detail}")

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.status != FAIL for c in self.checks)


# -- emulator and CLI ---------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _kill_group(process: subprocess.Popen, grace_s: float = EMULATOR_STOP_S) -> None:
    """Stop a process started with its own session, and every child it started."""
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def emulator(account_id: str | None, log_path: Path, run: Rehearsal) -> Iterator[str]:
    """moto's server on 127.0.0.1 and a free port; yields its ``http://localhost:PORT`` URL. With
    ``account_id`` every request is in that account (``MOTO_ACCOUNT_ID``); without, moto finds the
    account of each request from its access key (mode organisation, :func:`account_credentials`)."""
    port = _free_port()
    env = {**_clean_env(), **({"MOTO_ACCOUNT_ID": account_id} if account_id else {})}
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, str(EMULATOR), "-H", "127.0.0.1", "-p", str(port)],
                                   env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_ready(process, port, log_path)
        accounts = f"account {account_id}" if account_id else "one account per access key"
        run.say(f"1/6 emulator: moto {version('moto')} on 127.0.0.1:{port} (pid {process.pid}), {accounts}")
        yield f"http://localhost:{port}"
    finally:
        _kill_group(process)
        run.say(f"emulator: stopped (pid {process.pid})")
        _report_emulator_errors(run, log_path)


def _wait_ready(process: subprocess.Popen, port: int, log_path: Path) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + EMULATOR_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmulatorError(f"the emulator exited with {process.returncode}:\n{log_path.read_text()[-2000:]}")
        try:
            with opener.open(f"http://127.0.0.1:{port}/moto-api/", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise EmulatorError(f"the emulator did not answer on port {port} within {EMULATOR_START_S}s")


def _clean_env() -> dict[str, str]:
    """This process's environment without AWS settings, profiles, proxies or CDK settings."""
    dropped = ("AWS_", "CDK_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
    return {k: v for k, v in os.environ.items() if not k.upper().startswith(dropped)}


DUMMY_KEYS = {"AWS_ACCESS_KEY_ID": "rehearsal", "AWS_SECRET_ACCESS_KEY": "rehearsal"}


def cli_env(endpoint: str, region: str, work: Path, keys: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of the CDK CLI: the emulator for every service, dummy keys (or an account's,
    :func:`account_credentials`), nothing shared."""
    return {
        **_clean_env(),
        "AWS_ENDPOINT_URL": endpoint,
        **(keys or DUMMY_KEYS),
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_CONFIG_FILE": str(work / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(work / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "NO_PROXY": "localhost,127.0.0.1",
    }


def write_project(work: Path) -> Path:
    """A CDK project folder for the CLI: the repository's cdk.json, app command made absolute,
    output inside ``work``. Returns the output folder."""
    settings = json.loads((REPO / "cdk.json").read_text())
    settings.pop("watch", None)
    settings["app"] = f"{REPO / '.venv' / 'bin' / 'python'} {REPO / 'app.py'}"
    settings["output"] = str(work / "cdk.out")
    (work / "cdk.json").write_text(json.dumps(settings, indent=2))
    return work / "cdk.out"


def cdk(run: Rehearsal, step: str, args: list[str], *, work: Path, env: dict[str, str], timeout_s: int) -> str:
    """Run one CDK CLI command in ``work``; its output goes to a log file and is returned.
    Raises Problem on a non-zero exit or a timeout (the CLI and its children are killed)."""
    log_path = _log_path(work, step)
    run.say(f"{STEPS[step.split()[0]]} {step}: cdk {' '.join(args)} (timeout {timeout_s}s)")
    start = time.monotonic()
    with log_path.open("w") as log:
        process = subprocess.Popen([*CDK, *args, "--no-notices"], cwd=work, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise Problem(f"cdk {step} did not finish within {timeout_s}s; last output:\n"
                          f"{_tail(log_path)}") from None
        except BaseException:  # Ctrl-C or SIGTERM: the CLI runs in its own session, stop it too
            _kill_group(process)
            raise
    run.timings[step] = round(time.monotonic() - start, 1)
    output = log_path.read_text()
    if code != 0:
        raise Problem(f"cdk {step} exited with {code}; last output:\n{_tail(log_path)}")
    return output


def _log_path(work: Path, step: str) -> Path:
    return work / f"cdk-{step.replace(' ', '-')}.log"


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text().splitlines()[-lines:])


# -- what was deployed --------------------------------------------------------------------------

@dataclass
class Deployed:
    """Our stacks' templates and, per stack, the physical ID of each resource the emulator created."""

    templates: dict[str, dict]
    physical: dict[str, dict[str, str]]

    def resources(self, resource_type: str) -> Iterator[tuple[str, str, dict]]:
        """(stack, physical id, template resource) of every created resource of a type."""
        for stack, template in self.templates.items():
            for logical_id, resource in template["Resources"].items():
                if resource["Type"] == resource_type and logical_id in self.physical[stack]:
                    yield stack, self.physical[stack][logical_id], resource

    def physical_ids(self, resource_type: str) -> list[str]:
        return [physical for _, physical, _ in self.resources(resource_type)]

    def missing(self) -> dict[str, list[str]]:
        """Resource type -> 'stack/logical id' of template resources the emulator did not create."""
        found: dict[str, list[str]] = {}
        for stack, template in self.templates.items():
            for logical_id, resource in template["Resources"].items():
                if logical_id not in self.physical[stack]:
                    found.setdefault(resource["Type"], []).append(f"{stack}/{logical_id}")
        return found


@dataclass(frozen=True)
class Assembly:
    """The synthesized app (or one account's part of it): each stack's template and the stacks it
    depends on, by stack name, and the stacks' CLI selectors (``<stage>/<stack>`` inside a stage)."""

    templates: dict[str, dict]
    dependencies: dict[str, list[str]]
    selectors: dict[str, str] = field(default_factory=dict)
    stacks: list[StackArtifact] = field(default_factory=list, repr=False)


def read_assembly(path: Path, account_id: str | None = None) -> Assembly:
    """The stacks of the assembly's top level (a single-account app has no stages), or with
    ``account_id`` the stacks of that account, top level and stages."""
    found = [s for s in read_stacks(path) if (s.account == account_id if account_id else s.directory == path)]
    names = {s.artifact_id: s.name for s in found}
    return Assembly(
        {s.name: s.template for s in found},
        {s.name: [names[d] for d in s.artifact.get("dependencies", []) if d in names] for s in found},
        {s.name: s.artifact.get("displayName", s.name) for s in found},
        found,
    )


# -- what the emulator can deploy ---------------------------------------------------------------

def implemented_types() -> frozenset[str]:
    """Resource types moto's CloudFormation creates; it also runs ``Custom::*`` (as far as it can)."""
    return frozenset(get_model_map())


def _implemented(resource_type: str, implemented: frozenset[str]) -> bool:
    return resource_type in implemented or resource_type.startswith("Custom::")


def _attribute_targets(node: Any) -> Iterator[str]:
    """Logical IDs whose attributes ``node`` reads: ``Fn::GetAtt`` and ``${Id.Attr}`` in ``Fn::Sub``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::GetAtt":
                yield value[0] if isinstance(value, list) else value.split(".")[0]
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                yield from (ref.split(".")[0] for ref in re.findall(r"\$\{([^!}][^}]*)\}", text) if "." in ref)
            yield from _attribute_targets(value)
    elif isinstance(node, list):
        for value in node:
            yield from _attribute_targets(value)


def left_out(assembly: Assembly, implemented: frozenset[str]) -> dict[str, str]:
    """Stacks moto cannot deploy, with why: a resource it creates (or an output) reads an attribute
    of a resource it skips, or the stack depends on such a stack."""
    reasons: dict[str, str] = {}
    for stack, template in assembly.templates.items():
        types = {logical_id: r["Type"] for logical_id, r in template["Resources"].items()}
        created = {i: r for i, r in template["Resources"].items() if _implemented(r["Type"], implemented)}
        blocked = sorted({f"{i} ({types[i]})" for i in _attribute_targets([created, template.get("Outputs", {})])
                          if i in types and not _implemented(types[i], implemented)})
        if blocked:
            reasons[stack] = f"reads attributes of {', '.join(blocked)}, which moto does not implement"
    while True:
        dependents = {stack: deps for stack, deps in assembly.dependencies.items()
                      if stack not in reasons and any(d in reasons for d in deps)}
        if not dependents:
            return reasons
        reasons.update({stack: f"depends on {', '.join(d for d in deps if d in reasons)}"
                        for stack, deps in dependents.items()})


def asserting_tests(resource_type: str) -> list[str]:
    """Test modules that name ``resource_type``, i.e. assert something about it on the templates."""
    return [path.name for path in sorted((REPO / "tests").glob("test_*.py")) if resource_type in path.read_text()]


def _where_asserted(resource_types: list[str]) -> str:
    return "; ".join(f"{t}: {', '.join(asserting_tests(t)) or 'NOT ASSERTED ANYWHERE'}" for t in resource_types)


def check_plan(assembly: Assembly, run: Rehearsal) -> str:
    implemented = implemented_types()
    reasons = left_out(assembly, implemented)
    run.left_out.update(reasons)
    deployable = [s for s in assembly.templates if s not in reasons]
    if not deployable:
        raise Problem(f"the emulator can deploy none of the stacks: {reasons}")
    if not reasons:
        return f"all {len(deployable)} stacks: {', '.join(deployable)}"
    skipped_types = sorted({r["Type"] for s in reasons for r in assembly.templates[s]["Resources"].values()
                            if not _implemented(r["Type"], implemented) and r["Type"] != CDK_METADATA})
    unasserted = [t for t in skipped_types if not asserting_tests(t)]
    if unasserted:
        raise Problem(f"left out {reasons}; no test under tests/ names their types {unasserted}: assert "
                      "those resources on the synthesized templates in a test, the emulator cannot show them")
    raise NotRehearsed(f"deploying {', '.join(deployable)}; left out: "
                       + "; ".join(f"{s} ({why})" for s, why in reasons.items())
                       + f". Their skipped types are asserted on templates in: {_where_asserted(skipped_types)}")


def read_deployed(cloudformation: Any, templates: dict[str, dict]) -> Deployed:
    physical: dict[str, dict[str, str]] = {}
    for stack in templates:
        paginator = cloudformation.get_paginator("list_stack_resources")
        physical[stack] = {
            summary["LogicalResourceId"]: summary["PhysicalResourceId"]
            for page in paginator.paginate(StackName=stack)
            for summary in page["StackResourceSummaries"]
            if summary.get("LogicalResourceId") and summary.get("PhysicalResourceId")
            and summary["ResourceStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
        }
    return Deployed(templates, physical)


class Aws:
    """boto3 clients bound to the emulator, with dummy keys and bounded timeouts."""

    def __init__(self, endpoint: str, region: str, keys: dict[str, str] | None = None) -> None:
        keys = keys or DUMMY_KEYS
        self._session = boto3.session.Session(aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                                              aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
                                              aws_session_token=keys.get("AWS_SESSION_TOKEN"), region_name=region)
        self._endpoint = endpoint

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self._endpoint, config=BOTO)

    def __getattr__(self, service: str) -> Any:
        client = self.client(service)
        setattr(self, service, client)
        return client


# -- checks on the deployed state ---------------------------------------------------------------

def check_stacks(aws: Aws, templates: dict[str, dict]) -> str:
    statuses = {s: aws.cloudformation.describe_stacks(StackName=s)["Stacks"][0]["StackStatus"] for s in templates}
    wrong = {s: status for s, status in statuses.items() if status != "CREATE_COMPLETE"}
    if wrong:
        raise Problem(f"stacks not CREATE_COMPLETE: {wrong}")
    return f"{', '.join(statuses)}: CREATE_COMPLETE"


def check_resources_created(deployed: Deployed, run: Rehearsal) -> str:
    missing = deployed.missing()
    unexplained = {t: ids for t, ids in missing.items() if t != CDK_METADATA and not asserting_tests(t)}
    if unexplained:
        raise Problem(f"not created by the emulator and named by no test under tests/: {unexplained}. Either the "
                      "deployment failed inside the emulator (its server errors are listed at the end), or moto does not "
                      "implement the type: then assert those resources on the synthesized templates in a test")
    run.skipped_types = sorted(set(run.skipped_types) | set(missing))
    created = sum(len(ids) for ids in deployed.physical.values())
    skipped = _where_asserted([t for t in sorted(missing) if t != CDK_METADATA])
    return f"{created} resources created; skipped by the emulator (asserted on templates in): {skipped or 'none'}"


def _vpc_id(deployed: Deployed) -> str:
    vpcs = deployed.physical_ids("AWS::EC2::VPC")
    if len(vpcs) != 1:
        raise Problem(f"expected the one VPC of the single-account platform stack, the emulator has {vpcs}")
    return vpcs[0]


def check_vpc_closed(aws: Aws, deployed: Deployed, config: OrgConfig, account: Account) -> str:
    ec2, vpc_id = aws.ec2, _vpc_id(deployed)
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    attached = [{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
    problems = []
    cidr = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["CidrBlock"]
    if cidr != account.network.cidr:
        problems.append(f"CIDR {cidr}, config says {account.network.cidr}")
    found = {
        "internet gateways": ec2.describe_internet_gateways(Filters=attached)["InternetGateways"],
        "egress-only internet gateways": [g for g in ec2.describe_egress_only_internet_gateways()["EgressOnlyInternetGateways"]
                                          if any(a.get("VpcId") == vpc_id for a in g.get("Attachments", []))],
        "VPN gateways": ec2.describe_vpn_gateways(Filters=attached)["VpnGateways"],
        "NAT gateways": [g for g in ec2.describe_nat_gateways(Filters=in_vpc)["NatGateways"] if g["State"] != "deleted"],
        "Elastic IPs": ec2.describe_addresses()["Addresses"],
    }
    problems += [f"{len(items)} {kind}" for kind, items in found.items() if items]
    subnets = ec2.describe_subnets(Filters=in_vpc)["Subnets"]
    zones = config.organisation.availability_zones[: account.network.az_count]
    if sorted(s["AvailabilityZone"] for s in subnets) != sorted(zones):
        problems.append(f"subnets in {sorted(s['AvailabilityZone'] for s in subnets)}, config says {zones}")
    problems += [f"subnet {s['SubnetId']} maps public IPs" for s in subnets if s["MapPublicIpOnLaunch"]]
    problems += _open_routes(ec2, in_vpc)
    if problems:
        raise Problem("; ".join(problems))
    return (f"{vpc_id} {cidr}: {len(subnets)} subnets in {', '.join(zones)}, no public IP mapping, no internet/"
            "egress-only/VPN gateway, no NAT gateway, no EIP, routes only local and S3 gateway endpoint")


def _open_routes(ec2: Any, in_vpc: list[dict]) -> list[str]:
    problems = []
    for table in ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]:
        for route in table["Routes"]:
            local = route.get("GatewayId") == "local"
            s3_endpoint = route.get("GatewayId", "").startswith("vpce-") and "DestinationPrefixListId" in route
            if not (local or s3_endpoint):
                problems.append(f"route table {table['RouteTableId']} has route {route}")
    return problems


def check_endpoints(aws: Aws, deployed: Deployed, config: OrgConfig, account: Account) -> str:
    ec2, vpc_id, region = aws.ec2, _vpc_id(deployed), config.organisation.region
    found = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]
    interface = [e for e in found if e["VpcEndpointType"] == "Interface"]
    gateway = [e for e in found if e["VpcEndpointType"] == "Gateway"]
    wanted = {endpoints.service_name(n, region) for n in endpoints.account_interface_endpoints(config, account)}
    names = {e["ServiceName"] for e in interface}
    problems = []
    if names != wanted:
        problems.append(f"missing {sorted(wanted - names)}, unexpected {sorted(names - wanted)}")
    subnets = {s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]}
    groups = {tuple(sorted(g["GroupId"] for g in e["Groups"])) for e in interface}
    for endpoint in interface:
        if not endpoint.get("PrivateDnsEnabled"):
            problems.append(f"{endpoint['ServiceName']} without private DNS")
        if set(endpoint.get("SubnetIds", [])) != subnets:
            problems.append(f"{endpoint['ServiceName']} in subnets {endpoint.get('SubnetIds')}, not all of {sorted(subnets)}")
    if len(groups) != 1 or len(next(iter(groups), ())) != 1:
        problems.append(f"interface endpoints should share one security group, found {groups}")
    problems += _s3_gateway_problems(ec2, gateway, vpc_id, region)
    if problems:
        raise Problem("; ".join(problems))
    return (f"{len(interface)} interface endpoints = interface_endpoints({sorted(str(f) for f in config.features_of(account))}), "
            "private DNS, every subnet, one security group; S3 gateway endpoint on every subnet route table")


def _s3_gateway_problems(ec2: Any, gateway: list[dict], vpc_id: str, region: str) -> list[str]:
    if [g["ServiceName"] for g in gateway] != [f"com.amazonaws.{region}.s3"]:
        return [f"gateway endpoints {[g['ServiceName'] for g in gateway]}, expected only S3"]
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
    subnet_tables = {t["RouteTableId"] for t in tables if not any(a.get("Main") for a in t.get("Associations", []))}
    if not subnet_tables <= set(gateway[0].get("RouteTableIds", [])):
        return [f"S3 gateway endpoint on {gateway[0].get('RouteTableIds')}, subnet route tables are {sorted(subnet_tables)}"]
    return []


def check_endpoint_security_group(aws: Aws, deployed: Deployed, account: Account) -> str:
    vpc_id = _vpc_id(deployed)
    found = aws.ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]
    group_ids = sorted({g["GroupId"] for e in found for g in e.get("Groups", [])})
    if len(group_ids) != 1:
        raise Problem(f"expected one endpoint security group, found {group_ids}")
    [group] = aws.ec2.describe_security_groups(GroupIds=group_ids)["SecurityGroups"]
    rules = [(p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), sorted(r["CidrIp"] for r in p.get("IpRanges", [])),
              len(p.get("UserIdGroupPairs", [])) + len(p.get("PrefixListIds", [])) + len(p.get("Ipv6Ranges", [])))
             for p in group["IpPermissions"]]
    expected = [("tcp", 443, 443, [account.network.cidr], 0)]
    if rules != expected:
        raise Problem(f"{group_ids[0]} ingress {group['IpPermissions']}, expected only TCP 443 from {account.network.cidr}")
    return f"{group_ids[0]}: ingress only TCP 443 from {account.network.cidr}"


def check_buckets(aws: Aws, deployed: Deployed, config: OrgConfig, account: Account) -> str:
    access_logs = naming.access_log_bucket_name(config.organisation.name, account.id, config.organisation.region)
    our_keys = {aws.kms.describe_key(KeyId=k)["KeyMetadata"]["Arn"] for k in deployed.physical_ids("AWS::KMS::Key")}
    problems, seen = [], []
    for stack, bucket, _ in deployed.resources("AWS::S3::Bucket"):
        [rule] = aws.s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        default = rule["ApplyServerSideEncryptionByDefault"]
        if bucket == access_logs:
            ok, wanted = default["SSEAlgorithm"] == "AES256", "SSE-S3 (access logs can only go to SSE-S3 buckets)"
        else:
            ok = default["SSEAlgorithm"] == "aws:kms" and default.get("KMSMasterKeyID") in our_keys
            wanted = "SSE-KMS with a customer-managed key of our stacks"
        seen.append(f"{bucket}: {default['SSEAlgorithm']}")
        if not ok:
            problems.append(f"{stack} bucket {bucket} has {default}, expected {wanted}")
    if access_logs not in deployed.physical_ids("AWS::S3::Bucket"):
        problems.append(f"access-log bucket {access_logs} not deployed")
    if problems:
        raise Problem("; ".join(problems))
    return "; ".join(seen)


def check_keys(aws: Aws, deployed: Deployed) -> str:
    problems, keys = [], deployed.physical_ids("AWS::KMS::Key")
    for key in keys:
        meta = aws.kms.describe_key(KeyId=key)["KeyMetadata"]
        rotation = aws.kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"]
        if meta["KeyState"] != "Enabled" or meta["KeyManager"] != "CUSTOMER" or not rotation:
            problems.append(f"{key}: state {meta['KeyState']}, manager {meta['KeyManager']}, rotation {rotation}")
    if not keys:
        problems.append("no KMS key deployed")
    if problems:
        raise Problem("; ".join(problems))
    return f"{len(keys)} customer-managed keys, enabled, rotation on"


def check_flow_logs(aws: Aws, deployed: Deployed, config: OrgConfig, account: Account) -> str:
    vpc_id, org = _vpc_id(deployed), config.organisation
    group = f"/{org.name}/vpc-flow-logs/{account.name}"
    logs = aws.ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]
    if [(f["TrafficType"], f.get("LogGroupName")) for f in logs] != [("ALL", group)]:
        raise Problem(f"flow logs of {vpc_id}: {[(f['TrafficType'], f.get('LogGroupName')) for f in logs]}, "
                      f"expected one with ALL traffic into {group}")
    [found] = [g for g in aws.logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] if g["logGroupName"] == group]
    if found.get("retentionInDays") != org.log_retention_days:
        raise Problem(f"{group} retention {found.get('retentionInDays')}, config says {org.log_retention_days}")
    return f"ALL traffic of {vpc_id} into {group}, retention {org.log_retention_days} days"


def check_lambdas_in_vpc(aws: Aws, deployed: Deployed) -> str:
    vpc_id = _vpc_id(deployed)
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    subnets = {s["SubnetId"] for s in aws.ec2.describe_subnets(Filters=in_vpc)["Subnets"]}
    groups = {g["GroupId"] for g in aws.ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]}
    functions = deployed.physical_ids("AWS::Lambda::Function")
    problems = []
    for name in functions:
        vpc_config = aws.client("lambda").get_function_configuration(FunctionName=name).get("VpcConfig") or {}
        if not vpc_config.get("SubnetIds") or not set(vpc_config["SubnetIds"]) <= subnets \
                or not vpc_config.get("SecurityGroupIds") or not set(vpc_config["SecurityGroupIds"]) <= groups:
            problems.append(f"{name}: VpcConfig {vpc_config}")
    if problems:
        raise Problem("; ".join(problems))
    return f"{len(functions)} Lambda function(s) in the VPC's subnets with a VPC security group"


def check_custom_resources(aws: Aws, deployed: Deployed) -> str:
    """The VPC's default security group must end up closed by Custom::VpcRestrictDefaultSG; when
    moto could not run the handlers (no Docker), say so for every custom resource."""
    vpc_id = _vpc_id(deployed)
    [group] = aws.ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                        {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    if not group["IpPermissions"] and not group["IpPermissionsEgress"]:
        return f"default security group {group['GroupId']} of {vpc_id} closed by its custom resource"
    handler_log = _lambda_log(aws, deployed)
    if DOCKER_ERROR in handler_log:
        custom = sorted({r["Type"] for t in deployed.templates.values() for r in t["Resources"].values()
                         if r["Type"].startswith("Custom::")})
        raise NotRehearsed(
            f"moto runs Lambda in Docker and there is none here ({handler_log.strip().splitlines()[0][:120]}), yet "
            f"it marked every custom resource CREATE_COMPLETE without running its handler, so their effects are "
            f"not rehearsed: e.g. the default group {group['GroupId']} keeps its rules. Asserted on templates in: "
            f"{_where_asserted(custom)}")
    raise Problem(f"default security group {group['GroupId']} still has rules: ingress {group['IpPermissions']}, "
                  f"egress {group['IpPermissionsEgress']}; handler log: {handler_log[:300]!r}")


def _lambda_log(aws: Aws, deployed: Deployed) -> str:
    """Every log line the emulator wrote for our Lambda functions."""
    lines = []
    for name in deployed.physical_ids("AWS::Lambda::Function"):
        group = f"/aws/lambda/{name}"
        if not aws.logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
            continue
        for stream in aws.logs.describe_log_streams(logGroupName=group)["logStreams"]:
            events = aws.logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])["events"]
            lines += [e["message"] for e in events]
    return "\n".join(lines)


def check_role_boundaries(aws: Aws, deployed: Deployed) -> str:
    """Roles of a team (tagged ``fmops:team``) and roles people assume (trusting an account, a role
    or a federated principal) carry an existing boundary; the platform's service roles, trusted only
    by AWS services, are listed."""
    bounded, service_roles, problems = [], [], []
    for stack, role_name, resource in deployed.resources("AWS::IAM::Role"):
        role = aws.iam.get_role(RoleName=role_name)["Role"]
        boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        principals = _principals(role)
        needs_boundary = _team_tagged(resource) or any(kind != "Service" for kind, _ in principals)
        if boundary:
            aws.iam.get_policy(PolicyArn=boundary)  # the boundary policy must exist
            bounded.append(role_name)
        elif needs_boundary:
            problems.append(f"{stack} role {role_name} (trusts {principals}) has no permission boundary")
        else:
            service_roles.append(f"{role_name} ({', '.join(value for _, value in principals)})")
    if problems:
        raise Problem("; ".join(problems))
    detail = (f"{len(bounded)} team or persona role(s) with an existing permission boundary; "
              f"{len(service_roles)} platform service role(s) without: {', '.join(service_roles) or 'none'}")
    if not bounded:
        raise NotRehearsed(f"no team or persona role is deployed by this config, so no boundary to check; {detail}")
    return detail


def _team_tagged(resource: dict) -> bool:
    return any(tag.get("Key") == "fmops:team" for tag in resource.get("Properties", {}).get("Tags", []))


def _principals(role: dict) -> list[tuple[str, str]]:
    found = []
    for statement in role["AssumeRolePolicyDocument"].get("Statement", []):
        if not statement or statement.get("Effect") != "Allow":
            continue
        for kind, values in statement.get("Principal", {}).items():
            found += [(kind, value) for value in ([values] if isinstance(values, str) else values)]
    return sorted(set(found))


# -- destroy ------------------------------------------------------------------------------------

def destroy_order(deployed: Deployed, assembly: Assembly) -> list[str]:
    """The deployed stacks, every stack before the stacks it depends on."""
    remaining, order = list(deployed.templates), []
    while remaining:
        free = [s for s in remaining if not any(s in assembly.dependencies[other] for other in remaining)]
        order += free
        remaining = [s for s in remaining if s not in free]
    return order


def check_destroy(aws: Aws, outputs: dict[str, str], run: Rehearsal) -> str:
    """Only DELETE_COMPLETE counts (moto drops a stack whose delete failed from its stack list);
    a failure the emulator is known for is NOT REHEARSED, any other fails."""
    paginator = aws.cloudformation.get_paginator("list_stacks")
    deleted = {summary["StackName"] for page in paginator.paginate(StackStatusFilter=["DELETE_COMPLETE"])
               for summary in page["StackSummaries"]}
    destroyed = [s for s in outputs if s in deleted]
    run.destroyed += destroyed
    known = {s: _known_destroy_limit(output) for s, output in outputs.items() if s not in deleted}
    unexplained = {s: outputs[s][-1500:] for s, why in known.items() if why is None}
    if unexplained:
        raise Problem(f"stacks not destroyed: {unexplained}")
    if known:
        raise NotRehearsed(f"destroyed {', '.join(destroyed) or 'nothing'}; not destroyed, as the emulator "
                           "cannot: " + "; ".join(f"{s}: {why}" for s, why in known.items()))
    return f"destroyed {', '.join(destroyed)}"


def _known_destroy_limit(output: str) -> str | None:
    return next((why for pattern, why in DESTROY_LIMITS if pattern.search(output)), None)


def check_retained(aws: Aws, deployed: Deployed, destroyed: list[str]) -> str:
    """Every retained bucket, key and log group of a destroyed stack still exists."""
    probes: dict[str, Callable[[str], bool]] = {
        "AWS::S3::Bucket": lambda name: bool(aws.s3.head_bucket(Bucket=name)),
        "AWS::KMS::Key": lambda key: aws.kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled",
        "AWS::Logs::LogGroup": lambda name: any(g["logGroupName"] == name for g in
                                                aws.logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]),
    }
    kept, lost = [], []
    for resource_type, probe in probes.items():
        for stack, physical, resource in deployed.resources(resource_type):
            if stack not in destroyed or resource.get("DeletionPolicy") != "Retain":
                continue
            try:
                (kept if probe(physical) else lost).append(f"{resource_type} {physical}")
            except ClientError:
                lost.append(f"{resource_type} {physical}")
    if lost:
        raise Problem(f"retained resources lost on destroy: {lost}")
    if not kept:
        raise NotRehearsed(f"no destroyed stack ({', '.join(destroyed) or 'none'}) had a retained bucket, key or log group")
    return f"{len(kept)} retained resources survive destroy: {', '.join(kept)}"


# -- the run ------------------------------------------------------------------------------------

# -- provisioning the project templates ---------------------------------------------------------

def launch_parameters(template: dict, index: int) -> list[dict[str, str]]:
    """What a launch gives: the project's name and id, and the first allowed value (or a name) for
    every parameter without a default; the platform values keep their SSM defaults."""
    given = {"SageMakerProjectName": f"rehearsal{index}", "SageMakerProjectId": f"p-rehearsal{index}"}
    for key, spec in template.get("Parameters", {}).items():
        if key not in given and "Default" not in spec:
            given[key] = (spec.get("AllowedValues") or [f"rehearsal{index}"])[0]
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()]


def _wait_for_stack(cloudformation: Any, stack: str, timeout_s: int) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
        if not described["StackStatus"].endswith("_IN_PROGRESS"):
            return described
        if time.monotonic() > deadline:
            raise Problem(f"{stack} still {described['StackStatus']} after {timeout_s}s")
        time.sleep(1)


def platform_values(deployed: Deployed, config: OrgConfig, account: Account) -> dict[str, tuple[str, str]]:
    """Key below a team's catalog SSM prefix -> (value, where it comes from), for the platform
    values the catalog stack writes when the emulator cannot deploy it: the deployed VPC, subnets,
    S3 gateway endpoint, team data key and alarm topic, and stand-ins for what only the catalog
    stack creates (the project key and security group: the team's data key and the endpoints'
    group) or the emulator skips (guardrail, labeling workforce)."""
    region = config.organisation.region
    team = config.teams_in(account)[0].name
    team_stack = f"{config.organisation.name}-{account.name}-{team}"
    gateway = [p for _, p, r in deployed.resources("AWS::EC2::VPCEndpoint")
               if r["Properties"].get("VpcEndpointType") == "Gateway"]
    groups = [p for stack, p, _ in deployed.resources("AWS::EC2::SecurityGroup") if stack.endswith("-platform")]
    keys = [p for stack, p, _ in deployed.resources("AWS::KMS::Key") if stack == team_stack]
    topics = [p for stack, p, _ in deployed.resources("AWS::SNS::Topic") if stack == team_stack]
    # Without the team stack (moto cannot deploy it when a resource reads an attribute of one it
    # skips, such as the MLflow tracking server's ARN), any deployed key of ours stands in.
    keys = keys or [p for stack, p, _ in deployed.resources("AWS::KMS::Key")]
    key_arn = f"arn:aws:kms:{region}:{account.id}:key/{keys[0]}" if keys else "missing"
    stand_in = "stand-in: the catalog stack is not deployed"
    values = {
        "vpc-id": (_vpc_id(deployed), "deployed VPC"),
        "subnet-ids": (",".join(deployed.physical_ids("AWS::EC2::Subnet")), "deployed subnets"),
        "s3-endpoint-id": (gateway[0] if gateway else "missing", "deployed S3 gateway endpoint"),
        "data-key-arn": (key_arn, "deployed team data key"),
        "alarm-topic-arn": ((topics[0], "deployed team alarm topic") if topics else
                            (f"arn:aws:sns:{region}:{account.id}:rehearsal-alarms",
                             "stand-in: the team stack, which holds the alarm topic, is not deployed")),
        "project-key-arn": (key_arn, f"{stand_in} (the team's data key)"),
        "security-group-id": (groups[0] if groups else "missing", f"{stand_in} (the endpoints' group)"),
        "seed-bucket": (f"cdk-hnb659fds-assets-{account.id}-{region}", "the bootstrap asset bucket"),
        "promotion-account": _promotion_account(config, account),
    }
    skipped = f"{stand_in}; moto does not implement it"
    values.update({
        "guardrail-arn": (f"arn:aws:bedrock:{region}:{account.id}:guardrail/rehearsal", f"{skipped} (a guardrail ARN)"),
        "guardrail-key-arn": (key_arn, f"{skipped} (the team's data key)"),
        "labeling-user-pool-id": (f"{region}_rehearsal", f"{skipped} (a user pool id)"),
        "labeling-client-id": ("rehearsal", f"{skipped} (a client id)"),
        "execute-api-endpoint-id": ("vpce-0rehearsal", f"{stand_in} (an endpoint id)"),
    })
    return values


def _promotion_account(config: OrgConfig, account: Account) -> tuple[str, str]:
    """The account a project's model is promoted to from this one: the team's next stage."""
    if config.organisation.mode is Mode.SINGLE_ACCOUNT:
        return "none", "single account: no next stage"
    stages = list(config.teams_in(account)[0].accounts.by_stage().items())
    names = [name for _, name in stages]
    if account.name not in names[:-1]:
        return "none", "the team's last stage: no next stage"
    following = names[names.index(account.name) + 1]
    return next(a.id for a in config.accounts if a.name == following), f"stand-in: the next stage's account ({following})"


def _write_platform_values(aws: Aws, template: dict, values: dict[str, tuple[str, str]], used: dict[str, str]) -> None:
    """Put the SSM parameters a product's parameters default to, unless the emulator has them."""
    for spec in template.get("Parameters", {}).values():
        name = spec.get("Default", "")
        if not spec["Type"].startswith("AWS::SSM::Parameter::") or not name:
            continue
        try:
            aws.ssm.get_parameter(Name=name)
            continue
        except ClientError:
            pass
        key = name.rsplit("/", 1)[1]
        value, source = (f"rehearsal/{key}.zip", "stand-in seed bundle key") if "/seed/" in name else values.get(
            key, (None, ""))
        if value is None:
            raise Problem(f"no platform value for SSM parameter {name}")
        kind = "StringList" if "List<" in spec["Type"] else "String"
        aws.ssm.put_parameter(Name=name, Value=value, Type=kind)
        used[key] = source


def provision_products(run: Rehearsal, aws: Aws, stacks: list[StackArtifact], values: dict[str, tuple[str, str]],
                       account_id: str) -> tuple[list[str], list[str], dict[str, str]]:
    """Launch every product moto can create (see the module docstring): (what was provisioned,
    what cannot be and why, the platform values written and where from). A failed launch raises
    Problem."""
    implemented = implemented_types()
    provisioned, cannot, used = [], [], {}
    for index, product in enumerate(product_templates(stacks)):
        label = f"{product.name} {product.version}"
        blocked = left_out(Assembly({label: product.template}, {label: []}), implemented)
        if blocked:
            cannot.append(f"{label}: {blocked[label]}")
            continue
        stack = f"SC-{account_id}-pp-rehearsal{index}"
        run.say(f"  provisioning {label} as {stack}")
        _write_platform_values(aws, product.template, values, used)
        try:
            aws.cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(product.template),
                                            Parameters=launch_parameters(product.template, index),
                                            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])
        except ClientError as error:
            why = next((why for pattern, why in PROVISION_LIMITS if pattern.search(str(error))), None)
            if why is None:
                raise
            cannot.append(f"{label}: {why}")
            continue
        described = _wait_for_stack(aws.cloudformation, stack, PROVISION_S)
        if described["StackStatus"] != "CREATE_COMPLETE":
            raise Problem(f"{label}: {described['StackStatus']} {described.get('StackStatusReason', '')}")
        deployed = read_deployed(aws.cloudformation, {stack: product.template})
        missing = {t: ids for t, ids in deployed.missing().items() if t != CDK_METADATA}
        resources = product.template["Resources"]
        conditional = sorted(i.split("/", 1)[1] for ids in missing.values() for i in ids
                             if "Condition" in resources[i.split("/", 1)[1]])
        failed = sorted(i for t, ids in missing.items() if _implemented(t, implemented) for i in ids
                        if "Condition" not in resources[i.split("/", 1)[1]])
        if failed:
            raise Problem(f"{label}: moto implements these and did not create them: {failed}")
        skipped = sorted(t for t, ids in missing.items() if not _implemented(t, implemented)
                         and any("Condition" not in resources[i.split("/", 1)[1]] for i in ids))
        unasserted = [t for t in skipped if not asserting_tests(t)]
        if unasserted:
            raise Problem(f"{label}: not created by the emulator and named by no test under tests/: {unasserted}")
        provisioned.append(f"{label} ({len(deployed.physical[stack])} resources; skipped by the emulator: "
                           f"{', '.join(skipped) or 'none'}; not created, their condition false for this launch: "
                           f"{', '.join(conditional) or 'none'}; {_terminate(aws, stack)})")
    return provisioned, cannot, used


def _terminate(aws: Aws, stack: str) -> str:
    """Delete a provisioned product's stack, as terminating it would; what happened."""
    try:
        aws.cloudformation.delete_stack(StackName=stack)
    except ClientError as error:
        why = _known_destroy_limit(str(error))
        if why is None:
            raise
        return f"not deleted: {why}"
    return "deleted"


def check_provisioning(run: Rehearsal, aws: Aws, stacks: list[StackArtifact], deployed: Deployed, config: OrgConfig,
                       account: Account, label: str = "") -> None:
    started = time.monotonic()
    found: dict[str, Any] = {}

    def provision() -> str:
        values = platform_values(deployed, config, account)
        found["provisioned"], found["cannot"], used = provision_products(run, aws, stacks, values, account.id)
        if not found["provisioned"]:
            raise NotRehearsed("moto can create none of the products: " + "; ".join(found["cannot"]))
        sources = ", ".join(f"{key} ({source})" for key, source in sorted(used.items()))
        return "; ".join(found["provisioned"]) + (f". Platform values written for them: {sources}" if used else "")

    run.check(f"{label}provision products", provision)
    run.timings[f"{label}provision"] = round(time.monotonic() - started, 1)
    if not any(check.name == "declared projects" for check in run.checks):  # once per run, not per account
        run.check("declared projects", lambda: check_declared_projects(config, implemented_types()))
    if found.get("cannot"):
        run.check(f"{label}products the emulator cannot provision", lambda: _not_rehearsed(
            "; ".join(found["cannot"]) + ". Their templates are asserted in tests/test_catalog.py, launches against "
            "botocore's Stubber in tests/test_provision.py"))


def _not_rehearsed(why: str) -> str:
    raise NotRehearsed(why)


PROJECT_TYPE = "AWS::SageMaker::Project"


def check_declared_projects(config: OrgConfig, implemented: frozenset[str]) -> str:
    """Config-declared SageMaker projects (``teams[].catalog.declared_projects``, the teams'
    ``-projects`` stacks): moto's CloudFormation has no ``AWS::SageMaker::Project`` (and its
    SageMaker has no CreateProject), so the stack deploys with the project skipped. Should moto
    gain the type, this fails until the rehearsal checks the projects it creates."""
    declared = [f"{team.name}/{project.name} ({project.template})"
                for team in config.teams for project in team.catalog.declared_projects]
    if PROJECT_TYPE in implemented:
        raise AssertionError(f"moto now implements {PROJECT_TYPE}: rehearse the declared projects "
                             f"({', '.join(declared) or 'declare one in the rehearsal config'}) and check them")
    return _not_rehearsed(
        f"{', '.join(declared) or 'this config declares no project'}: moto implements no {PROJECT_TYPE} "
        f"(not in its CloudFormation model map) and no sagemaker CreateProject; asserted in "
        f"{', '.join(asserting_tests(PROJECT_TYPE))} (both project paths, the parameters they read, retention)")


def verify_deployed(run: Rehearsal, aws: Aws, deployed: Deployed, config: OrgConfig, account: Account,
                    label: str = "") -> None:
    """The state checks of one account; ``label`` (``"<account>: "`` in mode organisation) prefixes their names."""
    run.say(f"5/6 verify: the deployed state{' of ' + account.name if label else ''}, read back with boto3")
    run.check(f"{label}stacks", lambda: check_stacks(aws, deployed.templates))
    run.check(f"{label}resources created", lambda: check_resources_created(deployed, run))
    run.check(f"{label}VPC without internet", lambda: check_vpc_closed(aws, deployed, config, account))
    run.check(f"{label}VPC endpoints", lambda: check_endpoints(aws, deployed, config, account))
    run.check(f"{label}endpoint security group", lambda: check_endpoint_security_group(aws, deployed, account))
    run.check(f"{label}bucket encryption", lambda: check_buckets(aws, deployed, config, account))
    run.check(f"{label}KMS keys", lambda: check_keys(aws, deployed))
    run.check(f"{label}flow logs", lambda: check_flow_logs(aws, deployed, config, account))
    run.check(f"{label}Lambda in VPC", lambda: check_lambdas_in_vpc(aws, deployed))
    run.check(f"{label}custom resources", lambda: check_custom_resources(aws, deployed))
    run.check(f"{label}permission boundaries", lambda: check_role_boundaries(aws, deployed))


def deploy_and_check(run: Rehearsal, config: OrgConfig, config_path: Path, work: Path) -> None:
    account, region = config.accounts[0], config.organisation.region
    output_dir = write_project(work)
    with emulator(account.id, work / "emulator.log", run) as endpoint:
        env, aws = cli_env(endpoint, region, work), Aws(endpoint, region)
        outside_app = work / "bootstrap"  # no cdk.json there: bootstrapping needs no synth of the app
        outside_app.mkdir()
        if not run.check("cdk bootstrap", lambda: _first_line(cdk(
                run, "bootstrap", ["bootstrap", f"aws://{account.id}/{region}"], work=outside_app, env=env,
                timeout_s=BOOTSTRAP_S), "bootstrapped")):
            return
        if not run.check("cdk synth", lambda: _first_line(cdk(
                run, "synth", ["synth", "--quiet", "-c", f"config={config_path}"], work=work, env=env,
                timeout_s=SYNTH_S), "Successfully synthesized")):
            return
        assembly = read_assembly(output_dir)
        run.check("stacks the emulator can deploy", lambda: check_plan(assembly, run))
        stacks = [s for s in assembly.templates if s not in run.left_out]
        if not stacks:
            return
        selection = stacks if run.left_out else ["--all"]
        if not run.check("cdk deploy", lambda: _first_line(cdk(
                run, "deploy", ["deploy", *selection, "--require-approval", "never", "--app", str(output_dir)],
                work=work, env=env, timeout_s=DEPLOY_S), "Total time")):
            return
        try:
            deployed = read_deployed(aws.cloudformation, {s: assembly.templates[s] for s in stacks})
        except Exception as error:  # an emulator or SDK error (moto answers some failures with HTML 500s)
            run.fail("read the deployed stacks", f"{type(error).__name__}: {error}")
            return
        verify_deployed(run, aws, deployed, config, account)
        check_provisioning(run, aws, assembly.stacks, deployed, config, account)
        outputs = {stack: _destroy(run, stack, work, env, output_dir)
                   for stack in destroy_order(deployed, assembly)}
        run.check("cdk destroy", lambda: check_destroy(aws, outputs, run))
        run.check("retained on destroy", lambda: check_retained(aws, deployed, run.destroyed))


def _destroy(run: Rehearsal, stack: str, work: Path, env: dict[str, str], output_dir: Path,
             selector: str | None = None) -> str:
    """``cdk destroy --exclusively --force`` of one stack (``selector``: its CLI selector, when not
    its name); the CLI's output, also when it fails."""
    step = f"destroy {stack}"
    try:
        return cdk(run, step, ["destroy", selector or stack, "--exclusively", "--force", "--app", str(output_dir)],
                   work=work, env=env, timeout_s=DESTROY_S)
    except Problem as failed:
        run.say(f"  {str(failed).splitlines()[0]}")
        return _log_path(work, step).read_text()


# -- mode organisation ------------------------------------------------------------------------

ACCESS_ROLE = "OrganizationAccountAccessRole"
"""The role AWS Organizations creates in a member account for the management account: the
rehearsal assumes it to get each account's keys, as an operator would."""
BOOTSTRAP_ROLES = ("deploy", "file-publishing", "image-publishing", "lookup")
PIPELINE_LIMITS = (
    "the delivery pipelines (CDK Pipelines: CodePipeline and CodeBuild) are not deployed: moto implements neither "
    "AWS::CodePipeline::Pipeline nor AWS::CodeBuild::Project, and has no pipeline execution, so the self-mutation, the "
    "Build step's scoped synth (-c pipeline_group=...), the asset publishing from CodeBuild in the governance VPC, the "
    "manual approvals and the pipeline's own cross-account deployment through the workload accounts' bootstrap roles "
    "are not rehearsed. Instead each stage's deployable stacks are deployed with `cdk deploy <stage>/<stack>` using "
    "that workload account's keys, in the pipeline's order (governance first, then dev, preprod, prod of each team); "
    "the pipeline stacks are asserted on the templates in tests/test_delivery.py and tests/test_scoped_synth.py")
TRUST_LIMIT = (
    "moto does not evaluate IAM: AssumeRole returns keys of the role's account whether or not the role exists or "
    "trusts the caller, and no request is authorised against any policy, boundary or SCP. So the cross-account trust "
    "itself (that the governance account, and only it, can assume the workload accounts' deploy and publishing roles) "
    "is not rehearsed; the rehearsal checks the trust policies the bootstrap wrote (check 'bootstrap trust'); "
    "tests/test_workflows.py evaluates the personas' requests offline with infra/compliance/iam_eval.py")
SCP_LIMIT = (
    "moto's CloudFormation does not implement AWS::Organizations::Policy (the SCPs of the governance platform stack), "
    "and the rehearsal's accounts are not in an emulated organisation, so no SCP is created, attached or enforced; "
    "the SCPs are asserted on the templates and evaluated offline (tests/test_workflows.py); tests naming "
    "AWS::Organizations::Policy: ")


def account_credentials(endpoint: str, region: str, account_id: str) -> dict[str, str]:
    """Keys of ``account_id`` on the emulator: AssumeRole of the account's ``OrganizationAccountAccessRole``
    from the emulator's default account. moto makes the keys of the role's account (every later request
    made with them is in that account) and checks neither that the role exists nor that it trusts the
    caller. Raises EmulatorError when the keys are not in ``account_id``."""
    sts = Aws(endpoint, region).sts
    granted = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{ACCESS_ROLE}",
                              RoleSessionName="fmops-rehearsal")["Credentials"]
    keys = {"AWS_ACCESS_KEY_ID": granted["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": granted["SecretAccessKey"],
            "AWS_SESSION_TOKEN": granted["SessionToken"]}
    found = Aws(endpoint, region, keys).sts.get_caller_identity()["Account"]
    if found != account_id:
        raise EmulatorError(f"the keys of {ACCESS_ROLE} in {account_id} are in account {found}")
    return keys


def rehearsed_accounts(config: OrgConfig, names: list[str] | None) -> list[Account]:
    """The governance account, then the workload accounts in the order their pipelines deploy them
    (per pipeline: dev, preprod, prod); with ``names``, only those workload accounts. Raises
    ValueError naming an account the config does not have or that is not a workload account."""
    from infra.plan.delivery import governance_account, pipeline_groups

    governance = governance_account(config)
    ordered = [a for group in pipeline_groups(config) for a in group.all_accounts]
    if names is not None:
        known = {a.name for a in ordered}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"--accounts: {', '.join(unknown)} is not a workload account of the config "
                             f"(workload accounts: {', '.join(sorted(known))})")
        ordered = [a for a in ordered if a.name in names]
    return [governance, *ordered]


def _trusted_accounts(role: dict) -> set[str]:
    """Account ids of the AWS principals a role's trust policy admits (``ID`` or ``arn:...:ID:root``)."""
    found = set()
    for kind, value in _principals(role):
        if kind == "AWS":
            found.add(value if re.fullmatch(r"\d{12}", value) else value.split(":")[4])
    return found


def check_bootstrap_trust(aws: Aws, config: OrgConfig, account: Account, governance: Account,
                          policy_arns: list[str]) -> str:
    """The CDK toolkit's roles trust the account itself and, in a workload account, the governance
    account (``--trust``, ``--trust-for-lookup``); its CloudFormation execution role has the
    generated execution policies, not AdministratorAccess."""
    region, qualifier = config.organisation.region, naming.CDK_QUALIFIER
    wanted = {account.id} | ({governance.id} if account.id != governance.id else set())
    problems, seen = [], []
    for kind in BOOTSTRAP_ROLES:
        name = f"cdk-{qualifier}-{kind}-role-{account.id}-{region}"
        trusted = _trusted_accounts(aws.iam.get_role(RoleName=name)["Role"])
        if trusted != wanted:
            problems.append(f"{name} trusts accounts {sorted(trusted)}, expected {sorted(wanted)}")
        seen.append(kind)
    execution = f"cdk-{qualifier}-cfn-exec-role-{account.id}-{region}"
    attached = sorted(p["PolicyArn"] for p in aws.iam.list_attached_role_policies(RoleName=execution)["AttachedPolicies"])
    [toolkit] = aws.cloudformation.describe_stacks(StackName="CDKToolkit")["Stacks"]
    given = {p["ParameterKey"]: p.get("ParameterValue", "") for p in toolkit.get("Parameters", [])}
    # moto shows a CommaDelimitedList parameter as the repr of a Python list: read the ARNs out of it
    given_policies = sorted(re.findall(r"arn:aws:iam::\d{12}:policy/[\w+=,.@-]+?(?=['\",\]]|$)",
                                       given.get("CloudFormationExecutionPolicies", "")))
    if given_policies != sorted(policy_arns):
        problems.append(f"CDKToolkit's CloudFormationExecutionPolicies is {given_policies}, expected the generated "
                        f"execution policies {sorted(policy_arns)}")
    if attached and attached != sorted(policy_arns):
        problems.append(f"{execution} has {attached}, expected the generated execution policies {sorted(policy_arns)}")
    if problems:
        raise Problem("; ".join(problems))
    how = ("attached to it" if attached else "given to the CDKToolkit stack (moto's CloudFormation does not attach "
           "a template role's ManagedPolicyArns, so the role itself has none here)")
    return (f"{', '.join(seen)} roles trust {', '.join(sorted(wanted))}; {execution}: the {len(policy_arns)} "
            f"generated execution policies {how}")


def create_execution_policies(aws: Aws, config: OrgConfig, account: Account,
                              policies: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The generated execution policies, created in the account as ``fmops bootstrap-commands`` says
    (``aws iam create-policy``); their ARNs, which must be those its bootstrap command names."""
    kind = account_kind(config, account)
    arns = [aws.iam.create_policy(PolicyName=execution_policy_name(config, kind, number),
                                  PolicyDocument=json.dumps(document))["Policy"]["Arn"]
            for number, document in enumerate(policies[kind], 1)]
    if ",".join(arns) != execution_policy_arns(config, account, policies):
        raise Problem(f"created {arns}, the bootstrap command names {execution_policy_arns(config, account, policies)}")
    return arns


def check_stack_accounts(aws: Aws, account: Account, stacks: list[str]) -> str:
    """Each stack of the account is in the account (its stack ARN), read with the account's keys."""
    ids = {s: aws.cloudformation.describe_stacks(StackName=s)["Stacks"][0]["StackId"] for s in stacks}
    wrong = {s: i for s, i in ids.items() if i.split(":")[4] != account.id}
    if wrong:
        raise Problem(f"stacks not in {account.id}: {wrong}")
    return f"{len(ids)} stacks in {account.id}"


@dataclass
class AccountRun:
    """One account of a mode organisation rehearsal: its keys, clients, stacks and what was deployed."""

    account: Account
    keys: dict[str, str]
    aws: Aws
    assembly: Assembly
    stacks: list[str] = field(default_factory=list)
    deployed: Deployed | None = None


def accounts_left_out(this: "AccountRun") -> list[str]:
    """The stacks of an account the emulator cannot deploy (``check_plan`` found them)."""
    return [s for s in this.assembly.templates if s not in this.stacks]


def _own_resources(runs: list[AccountRun]) -> dict[str, dict[str, set[str]]]:
    """Account name -> kind -> what its own stacks created (stack names, VPC ids, key ids, bucket names)."""
    return {r.account.name: {
        "stacks": set(r.stacks),
        "VPCs": set(r.deployed.physical_ids("AWS::EC2::VPC")),
        "KMS keys": set(r.deployed.physical_ids("AWS::KMS::Key")),
        "buckets": set(r.deployed.physical_ids("AWS::S3::Bucket")),
    } for r in runs if r.deployed}


def check_isolation(runs: list[AccountRun]) -> str:
    """Every account sees its own stacks, VPC, keys and buckets and none of another account's: the
    emulator keeps the accounts apart, so the checks per account are about that account."""
    own, problems = _own_resources(runs), []
    for r in runs:
        if r.deployed is None:
            continue
        aws, name = r.aws, r.account.name
        visible = {
            "stacks": {s["StackName"] for page in aws.cloudformation.get_paginator("list_stacks").paginate()
                       for s in page["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"},
            "VPCs": {v["VpcId"] for v in aws.ec2.describe_vpcs()["Vpcs"]},
            "KMS keys": {k["KeyId"] for page in aws.kms.get_paginator("list_keys").paginate() for k in page["Keys"]},
            "buckets": {b["Name"] for b in aws.s3.list_buckets()["Buckets"]},
        }
        for kind, mine in own[name].items():
            if not mine <= visible[kind]:
                problems.append(f"{name} does not see its own {kind} {sorted(mine - visible[kind])}")
            for other, theirs in own.items():
                if other != name and theirs[kind] & visible[kind]:
                    problems.append(f"{name} sees {other}'s {kind} {sorted(theirs[kind] & visible[kind])}")
        for other, theirs in own.items():
            for vpc in sorted(theirs["VPCs"]) if other != name else []:
                try:
                    aws.ec2.describe_vpcs(VpcIds=[vpc])
                    problems.append(f"{name} can describe {other}'s VPC {vpc}")
                except ClientError:
                    pass
    if problems:
        raise Problem("; ".join(problems))
    counts = ", ".join(f"{n} ({', '.join(f'{len(v)} {k}' for k, v in kinds.items())})" for n, kinds in own.items())
    return (f"{len(own)} accounts each see their own and none of the others' stacks, VPCs, KMS keys and buckets "
            f"(and DescribeVpcs of another account's VPC id fails): {counts}")


def _governance_names(text: str, governance: Account, region: str) -> dict[str, set[str]]:
    """Buckets and ECR repositories of the governance account that a template's text names (the app
    names them from the config: ``<org>-log-archive-<gov>-<region>``, ``<gov>.dkr.ecr...``)."""
    gov = re.escape(governance.id)
    buckets = set(re.findall(rf"arn:aws:s3:::([a-z0-9.-]*{gov}[a-z0-9.-]*)", text))
    repositories = set(re.findall(rf"arn:aws:ecr:{region}:{gov}:repository/([a-z0-9._/-]+?)(?:/\*)?\"", text))
    repositories |= set(re.findall(rf"{gov}\.dkr\.ecr\.{region}\.amazonaws\.com/([a-z0-9._/-]+)", text))
    return {"buckets": buckets - {f"cdk-{naming.CDK_QUALIFIER}-assets-{governance.id}-{region}"},
            "ECR repositories": {r for r in repositories if not r.endswith("/")}}  # "fmops/": a prefix being joined


def check_cross_account_references(runs: list[AccountRun], governance: Account, region: str) -> str:
    """The values a workload account takes from the governance account: the app has no cross-account
    reference CloudFormation resolves, it names them from the config (the log-archive bucket AWS
    Config delivers to, the mirror's ECR repositories the endpoints and products pull from). Every
    such name in a workload account's templates (stacks and products) must be a bucket or
    repository the governance account's deployed stacks created, and none of the workload account's own."""
    gov = next(r for r in runs if r.account.id == governance.id)

    def present(aws: Aws) -> dict[str, set[str]]:
        return {"buckets": {b["Name"] for b in aws.s3.list_buckets()["Buckets"]},
                "ECR repositories": {r["repositoryName"] for page in aws.ecr.get_paginator("describe_repositories")
                                     .paginate() for r in page["repositories"]}}

    there, problems, seen = present(gov.aws), [], []
    for r in runs:
        if r.account.id == governance.id or r.deployed is None:
            continue
        texts = [json.dumps(t) for t in r.assembly.templates.values()]
        texts += [json.dumps(p.template) for p in product_templates(r.assembly.stacks)]
        named: dict[str, set[str]] = {"buckets": set(), "ECR repositories": set()}
        for text in texts:
            for kind, names in _governance_names(text, governance, region).items():
                named[kind] |= names
        own = present(r.aws)
        for kind, names in named.items():
            if names - there[kind]:
                problems.append(f"{r.account.name} names {kind} {sorted(names - there[kind])} of {governance.name}, "
                                f"which its deployed stacks did not create")
            if names & own[kind]:
                problems.append(f"{r.account.name} has {kind} {sorted(names & own[kind])} of its own")
        if not named["buckets"]:
            problems.append(f"{r.account.name} names no bucket of {governance.name} (AWS Config delivers to its log archive)")
        seen.append(f"{r.account.name}: {', '.join(f'{len(v)} {k}' for k, v in named.items())}")
    if problems:
        raise Problem("; ".join(problems))
    if not seen:
        raise NotRehearsed("no workload account deployed")
    return (f"every bucket and ECR repository of {governance.name} a workload account's templates name exists in "
            f"{governance.name} and not in the workload account: {'; '.join(seen)}")


def deploy_and_check_organisation(run: Rehearsal, config: OrgConfig, config_path: Path, work: Path,
                                  accounts: list[Account]) -> None:
    """Mode organisation: one emulator, each account of ``accounts`` (governance first) a separate
    emulator account with its own keys (module docstring)."""
    region = config.organisation.region
    output_dir = write_project(work)
    with emulator(None, work / "emulator.log", run) as endpoint:
        if not run.check("cdk synth", lambda: _first_line(cdk(
                run, "synth", ["synth", "--quiet", "-c", f"config={config_path}"], work=work,
                env=cli_env(endpoint, region, work), timeout_s=SYNTH_S), "Successfully synthesized")):
            return
        policies = execution_policies(config, output_dir)
        (work / "bootstrap").mkdir()  # no cdk.json there: bootstrapping needs no synth of the app
        runs: list[AccountRun] = []
        for account in accounts:
            keys = account_credentials(endpoint, region, account.id)
            runs.append(AccountRun(account, keys, Aws(endpoint, region, keys), read_assembly(output_dir, account.id)))
            if not _rehearse_account(run, config, runs[-1], accounts[0], policies, endpoint, work, output_dir):
                return
        run.check("accounts isolated", lambda: check_isolation(runs))
        run.check("cross-account references", lambda: check_cross_account_references(runs, accounts[0], region))
        pipelines = [s for s in accounts_left_out(runs[0]) if "CodeBuild" in run.left_out[s]]
        run.check("delivery pipelines", lambda: _not_rehearsed(
            f"{', '.join(pipelines) or 'no pipeline stack'} left out: {PIPELINE_LIMITS}"))
        run.check("cross-account trust evaluation", lambda: _not_rehearsed(TRUST_LIMIT))
        run.check("SCP attachment", lambda: _not_rehearsed(
            SCP_LIMIT + (", ".join(asserting_tests("AWS::Organizations::Policy")) or "NONE")))
        for this in reversed(runs):  # the workload accounts before the governance account, as they were deployed
            if this.deployed is not None:
                _destroy_account(run, this, cli_env(endpoint, region, work, this.keys), work, output_dir)


def _rehearse_account(run: Rehearsal, config: OrgConfig, this: AccountRun, governance: Account,
                      policies: dict[str, list[dict[str, Any]]], endpoint: str, work: Path, output_dir: Path) -> bool:
    """Bootstrap one account, deploy its deployable stacks and check them, with the account's keys;
    False when the rehearsal cannot go on (a bootstrap, deploy or read failed)."""
    account, region, label = this.account, config.organisation.region, f"{this.account.name}: "
    env = cli_env(endpoint, region, work, this.keys)
    trust = [] if account.id == governance.id else ["--trust", governance.id, "--trust-for-lookup", governance.id]
    arns: list[str] = []

    def bootstrap() -> str:
        arns.extend(create_execution_policies(this.aws, config, account, policies))
        return _first_line(cdk(run, f"bootstrap {account.name}", [
            "bootstrap", f"aws://{account.id}/{region}", *trust, "--cloudformation-execution-policies", ",".join(arns)],
            work=work / "bootstrap", env=env, timeout_s=BOOTSTRAP_S), "bootstrapped")

    if not run.check(f"{label}cdk bootstrap", bootstrap):
        return False
    run.check(f"{label}bootstrap trust", lambda: check_bootstrap_trust(this.aws, config, account, governance, arns))
    run.check(f"{label}stacks the emulator can deploy", lambda: check_plan(this.assembly, run))
    this.stacks = [s for s in this.assembly.templates if s not in run.left_out]
    if not this.stacks:
        return True
    selection = [this.assembly.selectors[s] for s in this.stacks]
    if not run.check(f"{label}cdk deploy", lambda: _first_line(cdk(
            run, f"deploy {account.name}", ["deploy", *selection, "--require-approval", "never", "--app", str(output_dir)],
            work=work, env=env, timeout_s=DEPLOY_S), "Total time")):
        return False
    run.check(f"{label}stacks in their account", lambda: check_stack_accounts(this.aws, account, this.stacks))
    try:
        this.deployed = read_deployed(this.aws.cloudformation, {s: this.assembly.templates[s] for s in this.stacks})
    except Exception as error:  # an emulator or SDK error (moto answers some failures with HTML 500s)
        run.fail(f"{label}read the deployed stacks", f"{type(error).__name__}: {error}")
        return False
    verify_deployed(run, this.aws, this.deployed, config, account, label)
    if account.id != governance.id and product_templates(this.assembly.stacks):
        check_provisioning(run, this.aws, this.assembly.stacks, this.deployed, config, account, label)
    return True


def _destroy_account(run: Rehearsal, this: AccountRun, env: dict[str, str], work: Path, output_dir: Path) -> None:
    """``cdk destroy`` of each deployed stack of one account, dependents first, with its keys; checked."""
    deployed, label = this.deployed, f"{this.account.name}: "
    assert deployed is not None
    outputs = {stack: _destroy(run, stack, work, env, output_dir, this.assembly.selectors[stack])
               for stack in destroy_order(deployed, this.assembly)}
    run.check(f"{label}cdk destroy", lambda: check_destroy(this.aws, outputs, run))
    run.check(f"{label}retained on destroy", lambda: check_retained(
        this.aws, deployed, [s for s in run.destroyed if s in deployed.templates]))


def _first_line(output: str, marker: str) -> str:
    return next((line.strip() for line in output.splitlines() if marker in line), "done")


def _report_emulator_errors(run: Rehearsal, log_path: Path) -> None:
    errors = sorted({line.strip() for line in log_path.read_text().splitlines()
                     if re.match(r"^\w*(Error|Exception)\b", line.strip())})
    if errors:
        run.say(f"emulator log: {len(errors)} distinct server-side error(s): {errors}")


def summary(run: Rehearsal) -> None:
    print("\nRehearsal summary")
    for check in run.checks:
        print(f"  {check.status:<13} {check.name}")
    counts = {s: sum(c.status == s for c in run.checks) for s in (PASS, NOT_REHEARSED, FAIL)}
    verdict = "PASS" if run.passed else "FAIL"
    print(f"{verdict}: {counts[PASS]} passed, {counts[NOT_REHEARSED]} not rehearsable on the emulator "
          f"(why: above), {counts[FAIL]} failed, in {time.monotonic() - run.started:.0f}s "
          f"(CLI steps: {run.timings})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                        help="the config to rehearse, either mode (default: config/single-account.yaml)")
    parser.add_argument("--accounts", help="mode organisation: rehearse only these workload accounts "
                        "(comma-separated names), with the governance account; default: every account")
    parser.add_argument("--report", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    config_path = args.config.resolve()
    try:
        config = load_config(config_path)
    except ConfigError as error:
        print(f"rehearse: invalid config\n{error}", file=sys.stderr)
        return 2
    organisation = config.organisation.mode is not Mode.SINGLE_ACCOUNT
    if args.accounts and not organisation:
        print(f"rehearse: --accounts: {config_path} is mode single-account, it has one account", file=sys.stderr)
        return 2
    try:
        accounts = rehearsed_accounts(config, args.accounts.split(",") if args.accounts else None) \
            if organisation else config.accounts[:1]
    except ValueError as error:
        print(f"rehearse: {error}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the cleanup below runs on SIGTERM too
    for name in ("NO_PROXY", "no_proxy"):  # boto3 talks to the emulator directly, never through a proxy
        os.environ[name] = ",".join(filter(None, [os.environ.get(name), "localhost", "127.0.0.1"]))
    run = Rehearsal()
    names = ", ".join(f"{a.name} {a.id}" for a in accounts)
    run.say(f"rehearsal of {config_path}, mode {config.organisation.mode} (accounts {names}; {config.organisation.region})")
    with tempfile.TemporaryDirectory(prefix="fmops-rehearsal-") as work:
        try:
            if organisation:
                deploy_and_check_organisation(run, config, config_path, Path(work), accounts)
            else:
                deploy_and_check(run, config, config_path, Path(work))
        except EmulatorError as error:
            run.fail("emulator", str(error))
    summary(run)
    if args.report:
        args.report.write_text(json.dumps({"passed": run.passed, "mode": str(config.organisation.mode),
                                           "accounts": [a.name for a in accounts],
                                           "checks": [asdict(c) for c in run.checks],
                                           "skipped_types": run.skipped_types, "left_out": run.left_out,
                                           "timings": run.timings,
                                           "elapsed_s": round(time.monotonic() - run.started, 1)}, indent=2))
    return 0 if run.passed else 1


if __name__ == "__main__":
    sys.exit(main())
