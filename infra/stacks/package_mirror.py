"""``<org>-<mirror account>-packages``: the organisation's package and image mirror, in the governance
account (the only account in single-account mode). Where it is: :attr:`infra.plan.OrgFacts.mirror`."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from constructs import Construct

from fmops_constructs.package_mirror import PackageMirror, PackageMirrorRef


class PackageMirrorStack(Stack):
    """CodeArtifact PyPI mirror and ECR image mirror, readable by every account of the organisation.

    :param mirror: where the mirror is and what it is named.
    :param organization_id: the AWS Organizations id: the mirror admits the organisation
        (aws:PrincipalOrgID). Default: none, ``consumer_account_ids`` are admitted one by one.
    :param consumer_account_ids: the accounts that read the mirror, without an organization id.
    :param image_repositories: private ECR repositories to create in the mirror.
    :param npm: also mirror npm (the delivery pipelines' CodeBuild projects need it).
    """

    def __init__(self, scope: Construct, construct_id: str, *, mirror: PackageMirrorRef,
                 organization_id: str | None, consumer_account_ids: Sequence[str], image_repositories: Sequence[str],
                 npm: bool, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.mirror = mirror
        self.packages = PackageMirror(
            self, "PackageMirror",
            mirror=mirror,
            organization_id=organization_id,
            consumer_account_ids=() if organization_id else list(consumer_account_ids),
            image_repositories=list(image_repositories),
            npm=npm,
        )
