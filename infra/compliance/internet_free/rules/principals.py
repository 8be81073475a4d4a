"""Principals, trusts and shares: resource and trust policies, permissions and shares admit only
the accounts and organisation of the config.

Judged exactly against the organisation (``organisation.py``): an explicit principal of another
account, an account wildcard, a condition that names another organisation or account, or one
that does not bind (a negated operator, ``...IfExists``, ``ForAnyValue:``/``ForAllValues:`` on a
single-valued key) admits someone outside. Service principals in trust policies are accepted:
a service can only act with the role for the role's own account, which must pass it
(``iam:PassRole``). Service principals in resource policies (confused deputy) are not judged
here (see the closing note of issue 14).
"""

from __future__ import annotations

from typing import Any

from infra.compliance.internet_free.identity import account_outside, arn_outside, template_local
from infra.compliance.internet_free.intrinsics import MISSING, flat, parse_json, texts, values
from infra.compliance.internet_free.organisation import Organisation
from infra.compliance.internet_free.policies import principals_of, restricts, statements_of
from infra.compliance.internet_free.registry import Subject, rule
from infra.compliance.internet_free.rules.resource_policies import policy_documents

PERIMETER = "resource"

_ORG_KEYS = ("aws:principalorgid", "aws:sourceorgid", "aws:resourceorgid", "aws:vpceorgid")
_PATH_KEYS = ("aws:principalorgpaths", "aws:sourceorgpaths", "aws:resourceorgpaths", "aws:vpceorgpaths")
_ACCOUNT_KEYS = (
    "aws:principalaccount", "aws:sourceaccount", "aws:vpceaccount", "aws:resourceaccount",
    "kms:calleraccount", "aws:sourceowner",
)
_ARN_KEYS = ("aws:principalarn", "aws:sourcearn")
_NETWORK_KEYS = ("aws:sourcevpce", "aws:sourcevpc")
_POSITIVE = ("stringequals", "stringlike", "arnequals", "arnlike", "stringequalsignorecase")


def _value_inside(key: str, text: str, organisation: Organisation) -> bool:
    if key in _ORG_KEYS:
        return organisation.org_inside(text)
    if key in _PATH_KEYS:
        return organisation.org_path_inside(text)
    if key in _ACCOUNT_KEYS:
        return account_outside(text, organisation) is None and "{?}" not in text
    if key in _ARN_KEYS:
        return text.startswith("arn:") and arn_outside(text, organisation) is None and "{?}" not in text.split(":")[4]
    return key in _NETWORK_KEYS and not text.strip("*?") == "" and "{any}" not in text


def _binding(condition: Any, template: dict, organisation: Organisation) -> tuple[bool, list[str]]:
    """(the condition ties every caller to the organisation or its network, why not)."""
    why: list[str] = []
    for branch in values(condition, template):
        if not isinstance(branch, dict):
            return False, ["condition only known at deploy time"]
        bound = negated = False
        for operator, block in branch.items():
            if not isinstance(block, dict):
                continue
            op = operator.lower()
            for key, value in block.items():
                key = key.lower()
                if key not in (*_ORG_KEYS, *_PATH_KEYS, *_ACCOUNT_KEYS, *_ARN_KEYS, *_NETWORK_KEYS):
                    continue
                if "not" in op and key not in _NETWORK_KEYS:
                    why.append(f"{operator} on {key}: an Allow for everyone else admits outsiders")
                    negated = True
                    continue
                if op not in _POSITIVE:
                    why.append(f"{operator} on {key} does not bind (a request without the key, or with "
                               "any one matching value, passes)")
                    continue
                candidates = [text for item in flat(value, template) for text in texts(item, template)]
                outside = [text for text in candidates if not _value_inside(key, text, organisation)]
                if outside:
                    why.append(f"{operator} {key} admits {', '.join(outside)}: outside the organisation")
                else:
                    bound = True
        if negated or not bound:
            return False, why or ["no condition on the organisation, its accounts or its network"]
    return True, []


def outside_statements(document: Any, template: dict, organisation: Organisation) -> list[str]:
    """Messages for Allow statements that admit a principal outside the organisation."""
    messages = []
    for number, statement in enumerate(statements_of(document, template), start=1):
        label = statement.get("Sid") or f"#{number}"
        if "Allow" not in values(statement.get("Effect"), template) or "NotPrincipal" in statement:
            continue
        principal = statement.get("Principal", MISSING)
        if principal is MISSING:
            continue  # an identity policy: no principal to judge
        everyone = False
        for candidate in principals_of(principal, template):
            if candidate == "*":
                everyone = True
                continue
            if isinstance(candidate, str) and candidate.split(":", 1)[0] in ("Service", "Federated"):
                continue  # services: see module docstring; federation: IF-TRUST-FEDERATED
            if template_local(candidate, template):
                continue
            for text in texts(candidate, template):
                if text == "*":
                    everyone = True
                elif (reason := _principal_reason(text, organisation)) is not None:
                    messages.append(f"statement {label}: {reason}")
        if everyone and restricts(statement.get("Condition", MISSING), template):  # else IF-POLICY-PUBLIC
            bound, why = _binding(statement["Condition"], template, organisation)
            if not bound:
                messages += [f"statement {label}: Principal '*' {reason}" for reason in why]
    return messages


def _principal_reason(text: str, organisation: Organisation) -> str | None:
    if text.isdigit() or text in ("{self}", "{any}") or "{any}" in text and not text.startswith("arn:"):
        reason = account_outside(text, organisation)
        return f"principal {text}: {reason}" if reason else None
    if not text.startswith("arn:"):
        return f"principal {text} is neither an account nor an ARN"
    return arn_outside(text, organisation)


@rule("IF-POLICY-OUTSIDE-ORG", "Resource and trust policies admit only the organisation", "*")
def policy_outside_org(s: Subject) -> list[str]:
    """An Allow statement in any resource or trust policy (bucket policies included; VPC endpoint
    policies only narrow the endpoint and are skipped) that names a principal of an account
    outside the organisation, an account wildcard (``arn:aws:iam::*:root``), a canonical user,
    or Principal '*' whose conditions do not bind it to the organisation: aws:PrincipalOrgID of
    another organisation, accounts or ARNs outside it, wildcards, or operators that do not bind
    (negated, ...IfExists, ForAnyValue:, ForAllValues:). Every value a parameter, Fn::If branch
    or Fn::Join can give is judged.

    Fix: name principals of the organisation's accounts, or condition Principal '*' with
    StringEquals on aws:PrincipalOrgID (the config's organisation ID), aws:PrincipalAccount or
    aws:SourceAccount of its accounts, or aws:SourceVpce.
    """
    if s.type == "AWS::EC2::VPCEndpoint":
        return []
    messages = []
    for document in policy_documents(s.props, s.template):
        for parsed in parse_json(document, s.template):
            if parsed is not MISSING:  # unparseable: IF-POLICY-PUBLIC reports it
                messages += outside_statements(parsed, s.template, s.organisation)
    return messages


_AWS_OIDC_ISSUERS = ("oidc.eks.", "cognito-identity.amazonaws.com")


@rule(
    "IF-TRUST-FEDERATED",
    "Roles trust only the organisation's identities",
    "AWS::IAM::Role",
    "AWS::IAM::OIDCProvider",
)
def federated_trust(s: Subject) -> list[str]:
    """A role trusting web identities (Google, Facebook, Login with Amazon), an OIDC provider of
    an outside issuer (GitHub Actions, GitLab, any SaaS), a SAML provider of another account, or
    Cognito identity pools without a StringEquals on cognito-identity.amazonaws.com:aud admits
    identities the organisation does not manage. An OIDC provider for an outside issuer is a
    finding by itself. SAML and OIDC providers of the organisation's accounts for EKS or the
    organisation's own IdP (SAML) are accepted.

    Fix: federate people through IAM Identity Center or the organisation's SAML provider; for
    Cognito, condition the trust on the identity pool (aud).
    """
    if s.type == "AWS::IAM::OIDCProvider":
        return [
            f"OIDC provider for {url}: identities outside the organisation"
            for url in texts(s.props.get("Url", MISSING), s.template)
            if not url.removeprefix("https://").startswith(_AWS_OIDC_ISSUERS)
        ]
    messages = []
    for number, statement in enumerate(statements_of(s.props.get("AssumeRolePolicyDocument"), s.template), 1):
        if "Allow" not in values(statement.get("Effect"), s.template):
            continue
        federated = [p for p in principals_of(statement.get("Principal"), s.template)
                     if isinstance(p, str) and p.startswith("Federated:")]
        for principal in federated:
            name = principal.removeprefix("Federated:")
            label = statement.get("Sid") or f"#{number}"
            if name == "cognito-identity.amazonaws.com":
                conditions = [c for c in values(statement.get("Condition"), s.template) if isinstance(c, dict)]
                bound = any("cognito-identity.amazonaws.com:aud" in (c.get("StringEquals") or {}) for c in conditions)
                if not bound:
                    messages.append(f"statement {label}: Cognito identities without an aud condition")
            elif not name.startswith("arn:"):
                messages.append(f"statement {label}: trusts the web identity provider {name}")
            elif ":oidc-provider/" in name and not name.split(":oidc-provider/", 1)[1].startswith(_AWS_OIDC_ISSUERS):
                messages.append(f"statement {label}: trusts the outside OIDC issuer {name.split(':oidc-provider/')[1]}")
            elif (reason := arn_outside(name, s.organisation)) is not None:
                messages.append(f"statement {label}: identity provider {reason}")
    return messages


def _accounts_in(s: Subject, *path: str) -> list[str]:
    return [text for value in s.flat(*path) if value is not MISSING for text in texts(value, s.template)]


@rule(
    "IF-SHARE-OUTSIDE-ORG",
    "Permissions and shares only to the organisation",
    "AWS::Lambda::Permission",
    "AWS::Lambda::LayerVersionPermission",
    "AWS::EC2::VPCEndpointServicePermissions",
    "AWS::ServiceCatalog::PortfolioShare",
    "AWS::CloudFormation::StackSet",
)
def share_outside_org(s: Subject) -> list[str]:
    """Lambda and layer permissions for another account or organisation, endpoint service
    permissions for principals of other accounts, Service Catalog portfolios shared with another
    account, and StackSets deployed to accounts outside the organisation all give someone outside
    a way in, or carry the organisation's code out.

    Fix: share only with the config's accounts and organisation ID (PrincipalOrgID /
    OrganizationId), or remove the share.
    """
    org = s.organisation
    messages: list[str] = []
    if s.type == "AWS::Lambda::Permission":
        for text in _accounts_in(s, "Principal"):
            if text.isdigit() or text.startswith("arn:"):
                reason = account_outside(text, org) if text.isdigit() else arn_outside(text, org)
                messages += [f"Principal {text}: {reason}"] if reason else []
        for text in _accounts_in(s, "SourceAccount"):
            messages += [f"SourceAccount: {r}"] if (r := account_outside(text, org)) else []
        messages += [f"PrincipalOrgID {text} is not the organisation" for text in _accounts_in(s, "PrincipalOrgID")
                     if not org.org_inside(text)]
    elif s.type == "AWS::Lambda::LayerVersionPermission":
        messages += [f"OrganizationId {text} is not the organisation" for text in _accounts_in(s, "OrganizationId")
                     if not org.org_inside(text)]
        messages += [f"Principal: {r}" for text in _accounts_in(s, "Principal")
                     if text != "*" and (r := account_outside(text, org))]
    elif s.type == "AWS::EC2::VPCEndpointServicePermissions":
        messages += [f"AllowedPrincipals: {r}" for text in _accounts_in(s, "AllowedPrincipals")
                     if text != "*" and (r := arn_outside(text, org))]
    elif s.type == "AWS::ServiceCatalog::PortfolioShare":
        messages += [f"shared with {r}" for text in _accounts_in(s, "AccountId") if (r := account_outside(text, org))]
    else:
        groups = [group for group in s.flat("StackInstancesGroup") if isinstance(group, dict)]
        accounts = [text for group in groups for value in flat(group.get("DeploymentTargets", {}).get("Accounts", []),
                                                                s.template) for text in texts(value, s.template)]
        messages += [f"deployed to {r}" for text in accounts if (r := account_outside(text, org))]
    return messages
