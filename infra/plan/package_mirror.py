"""The organisation's package and image mirror: where it is, and which image repositories it holds.

In mode organisation the mirror lives in the governance account, in single-account mode in the
only account. Every stack finds it through :func:`mirror_ref`, which needs nothing but the plan's
facts: the CodeArtifact domain and the private ECR namespace are named after the organisation.
"""

from __future__ import annotations

from fmops_constructs.package_mirror import PackageMirrorRef
from infra.config import ECR_IMAGE, OrgConfig

PYPI_REPOSITORY = "pypi"


def mirror_ref(organisation: str, region: str, account_id: str) -> PackageMirrorRef:
    return PackageMirrorRef(account=account_id, region=region, domain_name=organisation,
                            repository_name=PYPI_REPOSITORY, image_prefix=organisation)


def mirrored_image_repositories(config: OrgConfig, mirror: PackageMirrorRef) -> list[str]:
    """The private ECR repositories that images in the config name in the mirror's registry."""
    names = set()
    for team in config.teams:
        for endpoint in team.genai.endpoints if team.genai else []:
            image = ECR_IMAGE.match(endpoint.image)
            if image and (image["account"], image["region"]) == (mirror.account, mirror.region):
                names.add(image["repository"])
    return sorted(names)
