"""PackageMirror: a KMS-encrypted, retained CodeArtifact PyPI (and npm) mirror and an ECR mirror
(ECR Public pull-through cache, private repositories), read-only for the consumers."""

from __future__ import annotations

import pytest

from fmops_constructs.package_mirror import ECR_PUBLIC_PREFIX, PYPI_UPSTREAM, PackageMirror, PackageMirrorRef
from tests.constructs.bare import ORG, REGION, app_names, bare_stack, only, resources, template

MIRROR = PackageMirrorRef(account="123456789012", region=REGION, domain_name=ORG, repository_name="pypi",
                          image_prefix=ORG)
CONSUMERS = ["123456789012", "210987654321"]


@pytest.fixture(scope="module")
def synthesized():
    stack = bare_stack()
    PackageMirror(stack, "Mirror", mirror=MIRROR, consumer_account_ids=CONSUMERS,
                  image_repositories=[f"{ORG}/serving"], npm=True)
    return template(stack)


def test_domain_and_repositories_encrypted_retained_and_read_only(synthesized):
    domain = only(synthesized, "AWS::CodeArtifact::Domain")
    assert domain["DomainName"] == ORG and domain["EncryptionKey"]["Fn::GetAtt"][1] == "Arn"
    repositories = {r["Properties"]["RepositoryName"]: r for r in resources(synthesized, "AWS::CodeArtifact::Repository").values()}
    assert set(repositories) == {"pypi", "pypi-store", "npm", "npm-store"}
    assert repositories["pypi-store"]["Properties"]["ExternalConnections"] == [PYPI_UPSTREAM]
    assert all(r["DeletionPolicy"] == "Retain" for r in repositories.values())
    [read] = repositories["pypi"]["Properties"]["PermissionsPolicyDocument"]["Statement"]
    assert read["Action"] == "codeartifact:ReadFromRepository"
    assert sorted(p["Fn::Join"][1][-1] for p in read["Principal"]["AWS"]) == sorted(f":iam::{a}:root" for a in CONSUMERS)


def test_images_from_the_cache_and_private_immutable_scanned_repositories(synthesized):
    assert only(synthesized, "AWS::ECR::PullThroughCacheRule")["EcrRepositoryPrefix"] == ECR_PUBLIC_PREFIX
    repository = only(synthesized, "AWS::ECR::Repository")
    assert repository["RepositoryName"] == f"{ORG}/serving" and repository["ImageTagMutability"] == "IMMUTABLE"
    assert repository["ImageScanningConfiguration"] == {"ScanOnPush": True}


def test_the_key_is_the_package_mirror_alias(synthesized):
    assert only(synthesized, "AWS::KMS::Alias")["AliasName"] == f"alias/{ORG}/package-mirror"


def test_reference_derives_hosts_and_arns_from_names():
    assert MIRROR.pypi_host == f"{ORG}-123456789012.d.codeartifact.{REGION}.amazonaws.com"
    assert MIRROR.repository_arn == f"arn:aws:codeartifact:{REGION}:123456789012:repository/{ORG}/pypi"
    assert MIRROR.image_repository_arns[0].endswith(f":repository/{ORG}/*")


def test_carries_no_app_names(synthesized):
    assert app_names(synthesized) == []
