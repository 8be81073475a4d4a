"""The organisation's package and image mirror: one stack, in the governance account.

In single-account mode the mirror lives in the only account. Every other stack finds it
through :func:`package_mirror_ref`, which needs nothing but the config.
"""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from fmops_constructs.package_mirror import PackageMirror, PackageMirrorRef
from infra.config import ECR_IMAGE, Account, Mode, OrgConfig

PYPI_REPOSITORY = "pypi"


def package_mirror_account(config: OrgConfig) -> Account:
    """The governance account, or the only account in single-account mode."""
    if config.organisation.mode is Mode.SINGLE_ACCOUNT:
        return config.accounts[0]
    return next(a for a in config.accounts if a.role == "governance")


def package_mirror_ref(config: OrgConfig) -> PackageMirrorRef:
    """Where the mirror is: CodeArtifact domain and private ECR namespace named after the organisation."""
    org = config.organisation.name
    return PackageMirrorRef(account=package_mirror_account(config).id, region=config.organisation.region,
                            domain_name=org, repository_name=PYPI_REPOSITORY, image_prefix=org)


def mirrored_image_repositories(config: OrgConfig, mirror: PackageMirrorRef) -> list[str]:
    """The private ECR repositories that images in the config name in the mirror's registry."""
    names = set()
    for team in config.teams:
        for endpoint in team.genai.endpoints if team.genai else []:
            image = ECR_IMAGE.match(endpoint.image)
            if image and (image["account"], image["region"]) == (mirror.account, mirror.region):
                names.add(image["repository"])
    return sorted(names)


class PackageMirrorStack(Stack):
    """CodeArtifact PyPI mirror and ECR image mirror, readable by every account of the organisation."""

    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.mirror = package_mirror_ref(config)
        organization = config.organisation.aws_organization_id
        self.packages = PackageMirror(
            self, "PackageMirror",
            mirror=self.mirror,
            organization_id=organization,
            consumer_account_ids=() if organization else config.account_ids,
            image_repositories=mirrored_image_repositories(config, self.mirror),
            # npm for the delivery pipelines' CodeBuild projects (mode organisation only).
            npm=config.organisation.mode is Mode.ORGANISATION,
        )
