"""The organisation's package and image mirror: where it is, and which image repositories it holds;
and which project templates a team is offered (their custom images are repositories of the mirror).

In mode organisation the mirror lives in the governance account, in single-account mode in the
only account. Every stack finds it through :func:`mirror_ref`, which needs nothing but the plan's
facts: the CodeArtifact domain and the private ECR namespace are named after the organisation.
"""

from __future__ import annotations

from fmops_constructs.package_mirror import PackageMirrorRef
from fmops_constructs.product import ImageRegistry
from infra.config import ECR_IMAGE, Feature, OrgConfig
from infra.config.offers import offered_templates

PYPI_REPOSITORY = "pypi"


def mirror_ref(organisation: str, region: str, account_id: str) -> PackageMirrorRef:
    return PackageMirrorRef(account=account_id, region=region, domain_name=organisation,
                            repository_name=PYPI_REPOSITORY, image_prefix=organisation)


def mirrored_image_repositories(config: OrgConfig, mirror: PackageMirrorRef) -> list[str]:
    """The private ECR repositories of the mirror's registry: those the config's endpoint images
    name, and one per custom image slot of every template a team is offered
    (``<namespace>/<template>-<slot>``: the templates default to AWS-provided images, a launch opts
    in to a custom one by its tag)."""
    registry = ImageRegistry(account=mirror.account, region=mirror.region, namespace=mirror.image_prefix)
    names = {registry.custom_repository(entry.id, slot)
             for team in config.teams if Feature.SERVICE_CATALOG in team.features
             for entry in offered_templates(team, None) for slot in entry.images}
    for team in config.teams:
        for endpoint in team.genai.endpoints if team.genai else []:
            image = ECR_IMAGE.match(endpoint.image)
            if image and (image["account"], image["region"]) == (mirror.account, mirror.region):
                names.add(image["repository"])
    return sorted(names)
