"""Who and what is inside the organisation, judged on template values: accounts, principals,
buckets, image registries and URLs.

Every judgement goes through ``intrinsics.texts``: each text a value can take. ``{self}`` (the
template's own account) is inside; ``{any}`` (a plain parameter without AllowedValues) may be
anything and is outside; ``{?}`` (an attribute, an import, an SSM parameter, all resolved inside
the deploying account) is accepted where a whole name is unknown, never where a literal part
(an account field, a host) says otherwise.
"""

from __future__ import annotations

import re
from typing import Any

from infra.compliance.internet_free.intrinsics import ANY_TEXT, UNKNOWN_TEXT, is_intrinsic, referenced_ids, texts
from infra.compliance.internet_free.intrinsics import template_resource
from infra.compliance.internet_free.organisation import (
    ACCOUNT_ID,
    SELF_ACCOUNT,
    Organisation,
    arn_account,
    aws_image_accounts,
)

_ECR_HOST = re.compile(r"(?P<account>[^./]+)\.dkr\.ecr(-fips)?\.[^./]+\.amazonaws\.com(\.cn)?")
_CODEARTIFACT_HOST = re.compile(r"[a-z0-9-]+-(?P<account>\d{12}|\{self\})\.d\.codeartifact\.[^./]+\.amazonaws\.com(\.cn)?")
_AWS_HOST = re.compile(r"([^/@]*\.)?amazonaws\.com(\.cn)?")
_URL = re.compile(r"\b(?P<scheme>https?|git|ftp|s3|gs|hf|ssh)://(?P<rest>[^\s\"'<>`)\\]+)", re.IGNORECASE)
_HUB_COMMANDS = re.compile(
    r"\b(huggingface-cli\s+download|hf\s+download|snapshot_download|hf_hub_download|git\s+lfs\s+clone)\b"
)
_DOCKER_PULL = re.compile(r"\b(?:docker|podman|crane)\s+pull\s+(?:--?\S+\s+)*(?P<image>[^\s;&|]+)")
_PUBLIC_HOSTS = re.compile(
    r"\b(pypi\.org|files\.pythonhosted\.org|huggingface\.co|github\.com|githubusercontent\.com|gitlab\.com|"
    r"bitbucket\.org|registry\.npmjs\.org|docker\.io|ghcr\.io|quay\.io|public\.ecr\.aws|gcr\.io|"
    r"anaconda\.org|conda\.anaconda\.org|repo\.anaconda\.com|registry\.terraform\.io|proxy\.golang\.org)\b"
)


def template_local(expr: Any, template: dict) -> bool:
    """A Ref or GetAtt to a resource of this template (so in its account), with nothing else literal."""
    return is_intrinsic(expr) and bool(list(referenced_ids(expr))) and all(
        template_resource(template, target) for target in referenced_ids(expr)
    ) and UNKNOWN_TEXT in "".join(texts(expr, template))


def account_outside(text: str, organisation: Organisation) -> str | None:
    """Why an account text is outside, or None (``{?}`` alone is accepted: see module docstring)."""
    if text == UNKNOWN_TEXT or organisation.account_inside(text):
        return None
    if ANY_TEXT in text:
        return "may be any account (a parameter without AllowedValues)"
    if any(c in text for c in "*?") or UNKNOWN_TEXT in text:
        return f"account {text} may be any account"
    return f"account {text} is outside the organisation"


def arn_outside(text: str, organisation: Organisation) -> str | None:
    """Why an ARN's account is outside, or None. ARNs without an account field (S3) are not judged here."""
    if text in (UNKNOWN_TEXT,):
        return None
    if ANY_TEXT in text and not text.startswith("arn:"):
        return f"{text}: may be any ARN (a parameter without AllowedValues)"
    account = arn_account(text)
    if account is None or account == "":
        return None
    reason = account_outside(account, organisation)
    return f"{text}: {reason}" if reason else None


def bucket_outside(expr: Any, template: dict, organisation: Organisation) -> list[str]:
    """Why a bucket (name, ARN or s3:// URL) may be outside the organisation.

    Inside: a bucket of this template, or a name that embeds the deploying account (``{self}``,
    as CDK's asset buckets do) or one of the organisation's accounts (the project's naming).
    S3 names are global and carry no owner, so a name without an organisation account is outside.
    """
    if template_local(expr, template):
        return []
    reasons = []
    for text in texts(expr, template):
        name = re.sub(r"^(arn:[^:]*:s3:::|s3://)", "", text).split("/", 1)[0]
        if not name or name == UNKNOWN_TEXT:
            continue
        if ANY_TEXT in name:
            reasons.append(f"bucket {text} may be any bucket (a parameter without AllowedValues)")
        elif SELF_ACCOUNT not in name and not any(a in name for a in ACCOUNT_ID.findall(name) if organisation.account_inside(a)):
            reasons.append(f"bucket {name} is not named for an account of the organisation")
    return reasons


def image_outside(text: str, organisation: Organisation) -> str | None:
    """Why a container image URI is not from the organisation's ECR or an AWS-owned registry, or None."""
    if text == UNKNOWN_TEXT:
        return None
    if ANY_TEXT in text.split("/", 1)[0]:
        return f"image {text}: registry may be anything (a parameter without AllowedValues)"
    if text.startswith("aws/codebuild/"):
        return None  # CodeBuild's curated images, pulled by the service
    if text.startswith(UNKNOWN_TEXT) and "/" not in text.split(UNKNOWN_TEXT, 1)[1].split(":", 1)[0]:
        return None  # a repository URI attribute or import (``{?}:tag``): resolved in the account
    host = text.split("/", 1)[0] if "/" in text else ""
    match = _ECR_HOST.fullmatch(host)
    if not match:
        return f"image {text} is not from ECR (public registry or unknown host)"
    account = match.group("account")
    if organisation.account_inside(account) or account in aws_image_accounts():
        return None
    return f"image {text}: registry account {account} is neither the organisation's nor AWS's"


_WORTH_SCANNING = re.compile(r"://|\.(org|com|io|co|aws)\b|download|pull", re.IGNORECASE)


def fetches(text: str, template_organisation: Organisation) -> list[str]:
    """What a script, build spec, definition or argument fetches from outside the organisation."""
    if not _WORTH_SCANNING.search(text):
        return []
    found = []
    for match in _URL.finditer(text):
        scheme, rest = match.group("scheme").lower(), match.group("rest")
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0]
        if scheme == "s3":
            if not host:
                continue  # joined at run time (a pipeline's Std:Join of its own step properties)
            if not (SELF_ACCOUNT in host or UNKNOWN_TEXT in host or "${" in host or any(
                template_organisation.account_inside(a) for a in ACCOUNT_ID.findall(host)
            )):
                found.append(f"s3://{host}: bucket not named for an account of the organisation")
            continue
        codeartifact = _CODEARTIFACT_HOST.fullmatch(host)
        if codeartifact:
            if not template_organisation.account_inside(codeartifact.group("account")):
                found.append(f"{match.group(0)}: CodeArtifact domain of another account")
            continue
        ecr = _ECR_HOST.fullmatch(host)
        if ecr:
            reason = image_outside(f"{host}/x", template_organisation)
            found += [reason] if reason else []
            continue
        if host in ("localhost", "127.0.0.1", "169.254.169.254", "169.254.170.2") or _AWS_HOST.fullmatch(host):
            continue
        found.append(f"{match.group(0)[:120]}: fetched from outside the organisation")
    if _PUBLIC_HOSTS.search(text):  # rare: only then take the URLs (judged above) out first
        found += [f"{match.group(0)}: public host named" for match in _PUBLIC_HOSTS.finditer(_URL.sub(" ", text))]
    for match in _DOCKER_PULL.finditer(text):
        reason = image_outside(match.group("image"), template_organisation)
        found += [f"pull {reason}"] if reason else []
    for match in _HUB_COMMANDS.finditer(text):
        found.append(f"{' '.join(match.group(0).split())}: downloads from a public hub or registry")
    return list(dict.fromkeys(found))
