"""Python packages and container images for VPCs that have no internet.

Packages come from a CodeArtifact domain whose "store" repository has the external connection
``public:pypi``; teams read from a second repository that has the store as its upstream.
Images come from ECR: a pull-through cache rule for ECR Public, and private repositories for
the organisation's own images. In both cases the fetch from the public registry is made by
the AWS service in its own network, never from a workload VPC: workloads reach CodeArtifact
and ECR through their VPC interface endpoints only.

The mirror lives in one account (the governance account, or the only account in
single-account mode). Consumers in every account of the organisation locate it through a
:class:`PackageMirrorRef`, which derives every ARN, host name and URL from names, so a
consumer stack never holds a cross-stack or cross-account reference.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_codeartifact as codeartifact
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge
from fmops_constructs.arns import own_arn
from fmops_constructs.kms import EncryptionKey

PYPI_UPSTREAM = "public:pypi"
NPM_UPSTREAM = "public:npmjs"
ECR_PUBLIC_PREFIX = "ecr-public"
ECR_PUBLIC_REGISTRY = "public.ecr.aws"
PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
CACHE_FILL_ACTIONS = ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository")
# CodeArtifact serves npm (not pip) package assets from an AWS-owned S3 bucket per Region, which
# a VPC's S3 gateway endpoint must admit ("Create the Amazon S3 gateway endpoint", CodeArtifact
# User Guide). Bucket owner accounts as the guide lists them; other Regions get the name pattern.
CODEARTIFACT_ASSET_BUCKET_OWNERS = {
    "us-east-1": "193858265520", "us-east-2": "250872398865", "us-west-2": "787052242323",
    "eu-west-1": "438097961670", "eu-west-2": "247805302724", "eu-west-3": "762466490029",
    "eu-north-1": "611884512288", "eu-south-1": "484130244270", "eu-central-1": "769407342218",
    "ap-northeast-1": "660291247815",
}


def codeartifact_asset_objects(region: str) -> str:
    """ARN of the objects of CodeArtifact's package-asset bucket in ``region``."""
    return f"arn:aws:s3:::assets-{CODEARTIFACT_ASSET_BUCKET_OWNERS.get(region, '*')}-{region}/*"


_REPOSITORY_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")


@dataclass(frozen=True)
class PackageMirrorRef:
    """Where the organisation's package and image mirror is, for consumers in any account.

    ``domain_name`` is the CodeArtifact domain, ``repository_name`` the team-facing PyPI
    repository in it, and ``image_prefix`` the namespace of the private ECR repositories
    (``<image_prefix>/<name>``) in the same account and region.
    """

    account: str
    region: str
    domain_name: str
    repository_name: str
    image_prefix: str
    npm_repository_name: str = "npm"

    @property
    def store_repository_name(self) -> str:
        """The repository that holds the external connection to public PyPI."""
        return f"{self.repository_name}-store"

    @property
    def domain_arn(self) -> str:
        return self._arn("codeartifact", f"domain/{self.domain_name}")

    @property
    def repository_arn(self) -> str:
        return self._arn("codeartifact", f"repository/{self.domain_name}/{self.repository_name}")

    @property
    def pypi_host(self) -> str:
        """The repository host name, served privately by the ``codeartifact.repositories`` endpoint."""
        return f"{self.domain_name}-{self.account}.d.codeartifact.{self.region}.amazonaws.com"

    @property
    def pypi_index_path(self) -> str:
        """Path of the PyPI simple index below :attr:`pypi_host` (what pip calls the index URL)."""
        return f"/pypi/{self.repository_name}/simple/"

    @property
    def npm_store_repository_name(self) -> str:
        """The repository that holds the external connection to the public npm registry."""
        return f"{self.npm_repository_name}-store"

    @property
    def npm_repository_arn(self) -> str:
        return self._arn("codeartifact", f"repository/{self.domain_name}/{self.npm_repository_name}")

    @property
    def npm_registry_url(self) -> str:
        """The npm registry URL of the team-facing npm repository (no lookup needed)."""
        return f"https://{self.pypi_host}/npm/{self.npm_repository_name}/"

    def login_commands(self) -> list[str]:
        """Shell commands that point pip and npm at the mirror with a CodeArtifact token (12 h).

        The URLs are derived from names, so the caller needs only the statements of
        :meth:`read_packages_statements` and :meth:`read_npm_statements` (no endpoint lookup).
        npm keeps ``replace-registry-host=npmjs`` (its default), so a package-lock.json that
        names registry.npmjs.org installs from the mirror.
        """
        registry = self.npm_registry_url.removeprefix("https:")
        return [
            f"export CODEARTIFACT_AUTH_TOKEN=\"$(aws codeartifact get-authorization-token --domain {self.domain_name} "
            f"--domain-owner {self.account} --region {self.region} --query authorizationToken --output text)\"",
            f"pip config set global.index-url \"https://aws:${{CODEARTIFACT_AUTH_TOKEN}}@{self.pypi_host}"
            f"{self.pypi_index_path}\"",
            f"npm config set registry {self.npm_registry_url}",
            f"npm config set \"{registry}:_authToken\" \"${{CODEARTIFACT_AUTH_TOKEN}}\"",
        ]

    def read_npm_statements(self) -> list[iam.PolicyStatement]:
        """Identity-policy statement that lets a principal install npm packages from the mirror
        (with the token statements of :meth:`read_packages_statements`)."""
        return [iam.PolicyStatement(sid="NpmMirrorRead", actions=["codeartifact:ReadFromRepository"],
                                    resources=[self.npm_repository_arn])]

    @property
    def image_repository_arns(self) -> list[str]:
        """Every repository consumers pull from: the private namespace and the ECR Public cache."""
        return [self._arn("ecr", f"repository/{prefix}/*") for prefix in (self.image_prefix, ECR_PUBLIC_PREFIX)]

    @property
    def cache_repository_arn(self) -> str:
        return self._arn("ecr", f"repository/{ECR_PUBLIC_PREFIX}/*")

    def read_packages_statements(self) -> list[iam.PolicyStatement]:
        """Identity-policy statements that let a principal install packages from the mirror.

        CodeArtifact hands out a bearer token (``GetAuthorizationToken``, which needs
        ``sts:GetServiceBearerToken`` for the CodeArtifact service only) and then serves
        ``ReadFromRepository`` on the team-facing repository. Nothing else: no publishing, no
        repository or domain administration, no endpoint lookups (the URL is derived).
        """
        return [
            iam.PolicyStatement(
                sid="PackageMirrorToken",
                actions=["codeartifact:GetAuthorizationToken"],
                resources=[self.domain_arn],
            ),
            iam.PolicyStatement(
                sid="PackageMirrorBearerToken",
                actions=["sts:GetServiceBearerToken"],
                resources=["*"],
                conditions={"StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="PackageMirrorRead",
                actions=["codeartifact:ReadFromRepository"],
                resources=[self.repository_arn],
            ),
        ]

    def pull_images_statements(self) -> list[iam.PolicyStatement]:
        """Identity-policy statements that let a principal pull mirrored images.

        A pull of an ECR Public image that is not cached yet makes ECR create the cache
        repository and import the image, which the caller must be allowed too.
        """
        return [
            iam.PolicyStatement(sid="ImageMirrorLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            iam.PolicyStatement(sid="ImageMirrorPull", actions=list(PULL_ACTIONS),
                                resources=self.image_repository_arns),
            iam.PolicyStatement(sid="ImageMirrorFillCache", actions=list(CACHE_FILL_ACTIONS),
                                resources=[self.cache_repository_arn]),
        ]

    def grant_read_packages(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` install Python packages from the mirror (see :meth:`read_packages_statements`)."""
        return _grant_all(grantee, self.read_packages_statements())

    def grant_pull_images(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` pull images from the mirror (see :meth:`pull_images_statements`)."""
        return _grant_all(grantee, self.pull_images_statements())

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"


def _grant_all(grantee: iam.IGrantable, statements: list[iam.PolicyStatement]) -> iam.Grant:
    grants = [
        iam.Grant.add_to_principal(grantee=grantee, actions=s.actions, resource_arns=s.resources,
                                   conditions=s.conditions or None)
        for s in statements
    ]
    combined = grants[0]
    for grant in grants[1:]:
        combined = combined.combine(grant)
    return combined


class PackageMirror(Construct):
    """The organisation's CodeArtifact PyPI mirror and ECR image mirror, in the account of ``mirror``.

    - a KMS key (rotated, retained) that encrypts the CodeArtifact domain and every repository;
    - CodeArtifact, retained (it keeps every package version the organisation installed):
      domain ``mirror.domain_name``; repository ``<repository>-store`` with the external
      connection ``public:pypi``; repository ``<repository>`` with the store as its upstream.
      The domain policy lets the consumers get tokens, the repository policy lets them read,
      nothing more; with ``npm``, the same pair for npm (``npm-store`` with ``public:npmjs``,
      and ``npm``), for the delivery pipelines;
    - ECR: a pull-through cache rule for ECR Public under ``ecr-public/`` whose repositories
      are created KMS-encrypted with a pull-only policy for the consumers (repository creation
      template); a registry policy that lets the consumers fill the cache; one private
      repository per name in ``image_repositories`` (``<image_prefix>/...``), scanned on push,
      immutable tags, KMS, pull-only for the consumers, retained.

    The consumers are the AWS Organizations organisation ``organization_id`` (``Principal *``
    with ``aws:PrincipalOrgID``: accounts join and leave without any policy change, and the
    policies stay small at any number of accounts), or else the accounts
    ``consumer_account_ids``, named one by one. Give exactly one of the two.

    Cached ECR Public repositories keep mutable tags: the cache re-syncs a tag when the upstream
    moves it, which an immutable repository would refuse. Pin cached images by digest.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        mirror: PackageMirrorRef,
        organization_id: str | None = None,
        consumer_account_ids: Sequence[str] = (),
        image_repositories: Sequence[str] = (),
        npm: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        if (stack.account, stack.region) != (mirror.account, mirror.region):
            raise ValueError(f"the package mirror {mirror.domain_name} belongs in {mirror.account}/{mirror.region}, "
                             f"not in stack {stack.stack_name} ({stack.account}/{stack.region})")
        if (organization_id is None) == (not consumer_account_ids):
            raise ValueError("give the mirror's consumers as organization_id or as consumer_account_ids, "
                             "exactly one of the two")
        for name in image_repositories:
            if not name.startswith(f"{mirror.image_prefix}/") or not _REPOSITORY_NAME.match(name):
                raise ValueError(f"image repository {name!r} must be a valid ECR name under {mirror.image_prefix}/")
        self.mirror = mirror
        self._organization_id = organization_id
        self._accounts = sorted(set(consumer_account_ids))
        self.key = EncryptionKey(self, "Key", alias=f"alias/{mirror.domain_name}/package-mirror",
                                 services=("codeartifact", "ecr"),  # the domain and the repositories
                                 description=f"{mirror.domain_name}: CodeArtifact packages and ECR images")
        self._pypi()
        if npm:
            self._npm()
        self._ecr_public_cache()
        self.repositories = [self._private_repository(name) for name in image_repositories]

    # -- CodeArtifact ------------------------------------------------------------------------

    def _pypi(self) -> None:
        mirror = self.mirror
        self.domain = codeartifact.CfnDomain(
            self, "Domain",
            domain_name=mirror.domain_name,
            encryption_key=self.key.key_arn,
            permissions_policy_document=self._document(
                self._consumer_statement("ConsumersGetTokens", ["codeartifact:GetAuthorizationToken"], ["*"])),
        )
        self.store = codeartifact.CfnRepository(
            self, "PypiStore",
            domain_name=self.domain.attr_name,
            repository_name=mirror.store_repository_name,
            description="Public PyPI, fetched by CodeArtifact (not from any VPC) and kept here",
            external_connections=[PYPI_UPSTREAM],
        )
        self.repository = codeartifact.CfnRepository(
            self, "Pypi",
            domain_name=self.domain.attr_name,
            repository_name=mirror.repository_name,
            description="Team-facing PyPI index: the store upstream, read-only for the organisation",
            upstreams=[self.store.attr_name],
            permissions_policy_document=self._document(
                self._consumer_statement("ConsumersRead", ["codeartifact:ReadFromRepository"], ["*"])),
        )
        for resource in (self.domain, self.store, self.repository):
            resource.apply_removal_policy(RemovalPolicy.RETAIN)

    def _npm(self) -> None:
        """The same pair for npm (``public:npmjs``): what the delivery pipelines' CodeBuild
        projects install the CDK CLI and the lock file's packages from."""
        mirror = self.mirror
        self.npm_store = codeartifact.CfnRepository(
            self, "NpmStore",
            domain_name=self.domain.attr_name,
            repository_name=mirror.npm_store_repository_name,
            description="Public npm registry, fetched by CodeArtifact (not from any VPC) and kept here",
            external_connections=[NPM_UPSTREAM],
        )
        self.npm_repository = codeartifact.CfnRepository(
            self, "Npm",
            domain_name=self.domain.attr_name,
            repository_name=mirror.npm_repository_name,
            description="Team-facing npm registry: the store upstream, read-only for the organisation",
            upstreams=[self.npm_store.attr_name],
            permissions_policy_document=self._document(
                self._consumer_statement("ConsumersRead", ["codeartifact:ReadFromRepository"], ["*"])),
        )
        for resource in (self.npm_store, self.npm_repository):
            resource.apply_removal_policy(RemovalPolicy.RETAIN)

    # -- ECR ---------------------------------------------------------------------------------

    def _consumer_statement(self, sid: str, actions: list[str], resources: list[str] | None = None) -> iam.PolicyStatement:
        """An Allow of ``actions`` to the consumers: the organisation, or the listed accounts."""
        if self._organization_id is None:
            return iam.PolicyStatement(sid=sid, actions=actions, resources=resources,
                                       principals=[iam.AccountPrincipal(account) for account in self._accounts])
        return iam.PolicyStatement(sid=sid, actions=actions, resources=resources, principals=[iam.AnyPrincipal()],
                                   conditions={"StringEquals": {"aws:PrincipalOrgID": self._organization_id}})

    def _pull_statement(self) -> iam.PolicyStatement:
        return self._consumer_statement("ConsumersPull", list(PULL_ACTIONS))

    def _ecr_public_cache(self) -> None:
        mirror = self.mirror
        self.cache_rule = ecr.CfnPullThroughCacheRule(
            self, "EcrPublicCache",
            ecr_repository_prefix=ECR_PUBLIC_PREFIX,
            upstream_registry="ecr-public",
            upstream_registry_url=ECR_PUBLIC_REGISTRY,
        )
        # ECR needs a role of its own to create cache repositories with a customer-managed key.
        creator = iam.Role(
            self, "CacheRepositoryCreator",
            assumed_by=iam.ServicePrincipal(
                "ecr.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": mirror.account}}),
            description="ECR creates the KMS-encrypted ECR Public cache repositories with this role",
        )
        creator_policy = iam.ManagedPolicy(
            self, "CacheRepositoryCreatorPolicy",
            roles=[creator],
            description="Create and encrypt ECR Public cache repositories, nothing else",
            statements=[
                iam.PolicyStatement(
                    sid="CreateCacheRepositories",
                    actions=["ecr:CreateRepository", "ecr:TagResource"],
                    resources=[own_arn("ecr", f"repository/{ECR_PUBLIC_PREFIX}/*")],
                ),
                iam.PolicyStatement(
                    sid="EncryptCacheRepositories",
                    actions=["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"],
                    resources=[self.key.key_arn],
                ),
            ],
        )
        acknowledge(creator_policy, "ecr-cache-repository-creator")
        template = ecr.CfnRepositoryCreationTemplate(
            self, "EcrPublicCacheTemplate",
            prefix=ECR_PUBLIC_PREFIX,
            applied_for=["PULL_THROUGH_CACHE"],
            description="ECR Public cache repositories: KMS, pull-only for the organisation",
            custom_role_arn=creator.role_arn,
            encryption_configuration=ecr.CfnRepositoryCreationTemplate.EncryptionConfigurationProperty(
                encryption_type="KMS", kms_key=self.key.key_arn),
            image_tag_mutability="MUTABLE",
            repository_policy=Stack.of(self).to_json_string(self._document(self._pull_statement()).to_json()),
        )
        template.node.add_dependency(creator_policy)
        self.registry_policy = ecr.CfnRegistryPolicy(
            self, "RegistryPolicy",
            policy_text=self._document(
                self._consumer_statement("ConsumersFillCache", list(CACHE_FILL_ACTIONS), [mirror.cache_repository_arn])),
        )
        self._acknowledge_organisation_principal(self.registry_policy)

    def _private_repository(self, name: str) -> ecr.Repository:
        construct_id = "Repository" + "".join(part.capitalize() for part in re.split(r"[/._-]", name))
        repository = ecr.Repository(
            self, construct_id,
            repository_name=name,
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=self.key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        repository.add_to_resource_policy(self._pull_statement())
        self._acknowledge_organisation_principal(repository)
        acknowledge(repository, "mirror-images-kept")
        return repository

    def _acknowledge_organisation_principal(self, scope: Construct) -> None:
        if self._organization_id is not None:
            acknowledge(scope, "ecr-organisation-principal")

    @staticmethod
    def _document(*statements: iam.PolicyStatement) -> iam.PolicyDocument:
        return iam.PolicyDocument(statements=list(statements))

