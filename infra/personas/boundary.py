"""The guards of the permission boundaries: the Deny statements that set the conditions of the
``conditional`` actions of the classification (``infra/personas/actions``), for one team (or the
platform) of one organisation. Each statement's ``Sid`` is the guard's name in the data.

Three boundaries, one per profile of :mod:`infra.personas.classification`:

* ``team``: every role of the team's stacks and products but the launch role;
* ``launch``: the team's Service Catalog launch role, which provisions the reviewed products: it
  may create roles only with the team boundary, only under the project path, attach only
  project policies, and it never edits either boundary;
* ``platform``: the platform personas of an account.
"""

from __future__ import annotations

from typing import Any

from infra import naming
from infra.personas.classification import LAUNCH_ONLY, Profile, guard_patterns

# Log groups the launch role may reconfigure (retention, keys, subscriptions, deletion): the
# team's own (its products'). Every other group (the invocation log, flow logs, the platform's)
# is append-only under every boundary (no other role has these actions at all).
TEAM_LOG_GROUPS = ("log-group:{prefix}*", "log-group:/aws/sagemaker/Endpoints/{team}-*")
# The audit stores: the log archive (CloudTrail, Config), the S3 access logs, the delivery bucket
# the pipelines deploy from. Read-only under every boundary.
AUDIT_BUCKETS = ("{org}-log-archive-*", "{org}-access-logs-*", "{org}-delivery-*")
# Guards the launch boundary leaves to the launch role's generated policy, which sets the same
# condition on every tagging call (fmops_constructs.launch_role.SCOPES: the team tag on SageMaker
# and Bedrock); IAM's 6,144 characters hold no more.
LAUNCH_IDENTITY_GUARDS = frozenset({"NoRetaggingOfOtherTeams"})


DATA_OWNER = "data-owner"
"""The persona that grants and revokes Lake Formation permissions on the team's tables."""


def _deny(sid: str, actions: list[str], **rest: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Deny", "Action": actions, **({"Resource": "*"} | rest)}


def guard_statements(org: str, team: str, profile: Profile, *, team_boundary_arn: str = "") -> list[dict[str, Any]]:
    """The guards of ``profile``'s boundary for ``team`` of ``org``.

    :param team_boundary_arn: (launch) the boundary every role the launch role creates must carry.
    """
    path = naming.project_role_path(org, team)
    team_roles = [f"arn:aws:iam::*:role{path}*", f"arn:aws:iam::*:role/{org}-{team}-*"]
    statements: list[dict[str, Any]] = []
    if profile == "launch":
        tags = {"ForAnyValue:StringEquals": {"aws:TagKeys": [naming.TAG_PERSONA]}}
        statements += [
            _deny("RolesOnlyWithTheTeamBoundary", ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
                  Condition={"StringNotEquals": {"iam:PermissionsBoundary": team_boundary_arn}}),
            _deny("BoundaryNeverRemoved", ["iam:DeleteRolePermissionsBoundary"]),
            # Every IAM write outside the project path is refused, the boundaries' policies (not
            # under the path) included. Service-linked roles keep their AWS path; IAM itself
            # refuses edits of them.
            _deny("IamOnlyUnderTheProjectPath", ["iam:*"], Resource=None,
                  NotResource=[f"arn:aws:iam::*:role{path}*", f"arn:aws:iam::*:policy{path}*",
                               "arn:aws:iam::*:role/aws-service-role/*"]),
            _deny("AttachOnlyProjectPolicies", ["iam:AttachRolePolicy"],
                  Condition={"ArnNotLike": {"iam:PolicyARN": f"arn:aws:iam::*:policy{path}*"}}),
            _deny("NoPersonaTags", ["iam:CreateRole", "iam:TagRole"], Condition=tags),
            _deny("TeamLogGroupsOnly", list(guard_patterns(LAUNCH_ONLY, profile, service="logs")), Resource=None,
                  NotResource=[f"arn:aws:logs:*:*:{g.format(prefix=naming.log_prefix(org, team), team=team)}"
                               for g in TEAM_LOG_GROUPS]),
        ]
    statements += [
        _deny("PassOnlyTeamRoles", ["iam:PassRole"], Resource=None, NotResource=team_roles),
        _deny("OwnStudioProfileOnly", ["sagemaker:CreatePresignedDomainUrl"], Resource=None,
              NotResource=f"arn:aws:sagemaker:*:*:user-profile/*/{team}-${{aws:PrincipalTag/{naming.TAG_PERSONA}}}"),
        {"Sid": "AuditStoresReadOnly", "Effect": "Deny", "NotAction": ["s3:Get*", "s3:List*"],
         "Resource": [f"arn:aws:s3:::{b.format(org=org)}" for b in AUDIT_BUCKETS]},
        _deny("GrantsOnlyForAwsServices", ["kms:CreateGrant"],
              Condition={"BoolIfExists": {"kms:GrantIsForAWSResource": "false"}}),
    ]
    # Data lake: Glue jobs and interactive sessions only with a VPC connection (glue:VpcIds is set
    # from the connections of the job); Lake Formation grants, revokes and table tags only by the
    # team's data owner (Lake Formation then limits them to what it holds with grant option).
    for sid, condition in (
            ("DenyGlueJobsOutsideVpc", {"Null": {"glue:VpcIds": "true"}}),
            ("OnlyTheDataOwnerGrants", {"ArnNotLike": {"aws:PrincipalArn": naming.role_arn(
                "aws", "*", naming.persona_role_name(org, team, DATA_OWNER))}})):
        if actions := list(guard_patterns(sid, profile)):
            statements.append(_deny(sid, actions, Condition=condition))
    if profile != "launch":  # LAUNCH_IDENTITY_GUARDS
        statements.append(_deny("NoRetaggingOfOtherTeams", list(guard_patterns("NoRetaggingOfOtherTeams", profile)),
                                Condition={"Null": {f"aws:ResourceTag/{naming.TAG_TEAM}": "false"},
                                           "StringNotEquals": {f"aws:ResourceTag/{naming.TAG_TEAM}": team}}))
    return [{k: v for k, v in s.items() if v is not None} for s in statements]
