"""SageMaker Studio without internet: a VpcOnly domain and one user profile per team and persona.

Studio in VpcOnly mode sends all app traffic into the given subnets, so the apps see only the
VPC: AWS APIs through interface endpoints, Python packages through the organisation's
CodeArtifact mirror (the JupyterLab lifecycle configuration points pip and uv at it), and no
other route. Each user profile has its own execution role: the role can run JupyterLab only
in its own private spaces, only on SageMaker-provided images or the platform's custom images,
and carries the team's permission boundary.
"""

from __future__ import annotations

import base64
import hashlib
import json
import textwrap
from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import Aspects, Duration, Fn, IAspect, RemovalPolicy, Stack, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct, IConstruct

from fmops_constructs.acknowledge import acknowledge
from fmops_constructs.arns import own_arn
from fmops_constructs.kms import EncryptionKey
from fmops_constructs.log_group import retained_log_group
from fmops_constructs.package_mirror import PackageMirrorRef
from fmops_constructs.vpc_egress import allow_https_to_endpoints

# The AWS accounts that own the SageMaker Distribution images (the JupyterLab and Code Editor
# images of Studio), per region, from the SageMaker Developer Guide's image ARN tables.
SAGEMAKER_DISTRIBUTION_ACCOUNTS: dict[str, str] = {
    "us-east-1": "885854791233",
    "us-east-2": "137914896644",
    "us-west-1": "053634841547",
    "us-west-2": "542918446943",
    "af-south-1": "238384257742",
    "ap-east-1": "523751269255",
    "ap-south-1": "245090515133",
    "ap-northeast-1": "010972774902",
    "ap-northeast-2": "064688005998",
    "ap-northeast-3": "564864627153",
    "ap-southeast-1": "022667117163",
    "ap-southeast-2": "648430277019",
    "ap-southeast-3": "370607712162",
    "ca-central-1": "481561238223",
    "eu-central-1": "545423591354",
    "eu-west-1": "819792524951",
    "eu-west-2": "021081402939",
    "eu-west-3": "856416204555",
    "eu-north-1": "175620155138",
    "eu-south-1": "810671768855",
    "sa-east-1": "567556641782",
    "me-south-1": "523774347010",
    "me-central-1": "358593528301",
    "il-central-1": "080319125002",
}
DISTRIBUTION_IMAGES = ("sagemaker-distribution-cpu", "sagemaker-distribution-gpu")
STUDIO_LOG_GROUP = "/aws/sagemaker/studio"
NFS_PORT = 2049
STUDIO_APP_PORTS = (8192, 65535)
MIN_IDLE_MINUTES = 60  # the smallest idle timeout SageMaker accepts
# Apps the execution roles cannot start; hidden so Studio does not offer them.
HIDDEN_APP_TYPES = ("CodeEditor", "RStudioServerPro", "Canvas", "JupyterServer", "TensorBoard", "DetailedProfiler")


def distribution_image_arns(region: str) -> list[str]:
    """ARNs of the SageMaker Distribution CPU and GPU images in ``region``."""
    try:
        owner = SAGEMAKER_DISTRIBUTION_ACCOUNTS[region]
    except KeyError:
        raise ValueError(f"no SageMaker Distribution image account known for region {region!r}; add it to "
                         "SAGEMAKER_DISTRIBUTION_ACCOUNTS from the SageMaker Developer Guide") from None
    return [f"arn:aws:sagemaker:{region}:{owner}:image/{name}" for name in DISTRIBUTION_IMAGES]


def pip_mirror_script(mirror: PackageMirrorRef) -> str:
    """The JupyterLab lifecycle script: regional STS, then pip and uv pointed at ``mirror``.

    It runs as the Studio user at every app start. The regional STS setting goes first and into
    ``~/.aws/config`` (every SDK in every kernel reads it) and ``~/.bashrc`` (terminals). The
    package index needs a CodeArtifact token (12 hours at most, renewed at each start); the
    index URL is derived from the mirror's names, so no endpoint lookup is needed. If the
    mirror cannot be reached the app still starts, with a message in the lifecycle log, because
    a notebook without pip is better than no notebook.
    """
    return textwrap.dedent(f"""\
        #!/bin/bash
        # FMOps Foundation: JupyterLab start-up in an internet-free VPC (generated; do not edit).
        set -euo pipefail
        export AWS_STS_REGIONAL_ENDPOINTS=regional
        export AWS_DEFAULT_REGION={mirror.region}

        aws configure set sts_regional_endpoints regional
        line='export AWS_STS_REGIONAL_ENDPOINTS=regional'
        grep -qxF "$line" "$HOME/.bashrc" 2>/dev/null || echo "$line" >> "$HOME/.bashrc"

        if ! token="$(aws codeartifact get-authorization-token --domain {mirror.domain_name} \\
                --domain-owner {mirror.account} --duration-seconds 43200 \\
                --query authorizationToken --output text --cli-connect-timeout 10)"; then
            echo "fmops: the package mirror {mirror.domain_name} is unreachable; pip and uv are not configured" >&2
            exit 0
        fi
        index="https://aws:$token@{mirror.pypi_host}{mirror.pypi_index_path}"
        umask 077
        mkdir -p "$HOME/.config/pip" "$HOME/.config/uv"
        printf '[global]\\nindex-url = %s\\n' "$index" > "$HOME/.config/pip/pip.conf"
        printf '[[index]]\\nurl = "%s"\\ndefault = true\\n' "$index" > "$HOME/.config/uv/uv.toml"
        echo "fmops: pip and uv install from {mirror.pypi_host}{mirror.pypi_index_path}"
        """)


@jsii.implements(IAspect)
class _VersionedName:
    """Name a lifecycle configuration ``<prefix>-<hash>`` over its content and its final tags.

    CloudFormation replaces a lifecycle configuration when its content or tags change, and a
    replacement cannot reuse the name; a name that changes with them lets the new one be
    created before the old one is deleted. Tags are final only once the tag aspects ran, so
    this is an aspect of the default priority, which runs after them.
    """

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, sagemaker.CfnStudioLifecycleConfig):
            tags = Stack.of(node).resolve(node.cdk_tag_manager.render_tags())
            digest = hashlib.sha256(
                json.dumps([node.studio_lifecycle_config_content, tags], sort_keys=True).encode()).hexdigest()
            node.studio_lifecycle_config_name = f"{self._prefix}-{digest[:12]}"


class StudioDomain(Construct):
    """A SageMaker domain in VpcOnly mode with IAM authentication, for the teams of one account.

    - KMS key of its own (rotated, retained) for the home EFS, space volumes and the
      ``/aws/sagemaker/studio`` log group (created here: encrypted, with retention);
    - a security group that admits NFS (2049) and Studio traffic (8192-65535) from itself
      only, and sends only those to itself plus HTTPS to ``vpc_cidr`` (the interface
      endpoints); no rule names an internet address;
    - default user settings: the new Studio UI with JupyterLab only, the SageMaker
      Distribution CPU image on ``default_instance_type``, idle shutdown after
      ``idle_timeout`` (users may choose up to ``max_idle_timeout``), the lifecycle
      configuration of :func:`pip_mirror_script`, notebook sharing off, and a default
      execution role that grants nothing (profiles get their own, see :meth:`add_user_profile`);
    - tag propagation on, so resources created from Studio carry the profile's team tag;
    - the domain is retained when removed from the stack, and the home file system with it.

    ``custom_image_prefix`` names the platform's custom SageMaker images (``<prefix>-*`` in
    this account, built from the platform's ECR), the only images besides SageMaker's own
    that profiles may run.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        vpc_cidr: str,
        package_mirror: PackageMirrorRef,
        custom_image_prefix: str,
        log_retention_days: int,
        default_instance_type: str = "ml.t3.medium",
        idle_timeout: Duration = Duration.hours(1),
        max_idle_timeout: Duration = Duration.hours(4),
    ) -> None:
        super().__init__(scope, construct_id)
        idle, idle_max = idle_timeout.to_minutes(), max_idle_timeout.to_minutes()
        if not MIN_IDLE_MINUTES <= idle <= idle_max:
            raise ValueError(f"idle_timeout {idle} min must be between {MIN_IDLE_MINUTES} min and "
                             f"max_idle_timeout ({idle_max} min)")
        stack = Stack.of(self)
        self.package_mirror = package_mirror
        self.allowed_image_arns = [
            *distribution_image_arns(stack.region),
            f"arn:aws:sagemaker:{stack.region}:{stack.account}:image/{custom_image_prefix}-*",
        ]
        # SageMaker encrypts the domain's EFS home and the spaces' EBS volumes with KmsKeyId.
        self.key = EncryptionKey(self, "Key", alias=f"alias/{domain_name}/studio",
                                 services=("sagemaker", "elasticfilesystem", "ec2"),
                                 description=f"{domain_name}: SageMaker Studio home, spaces and logs")
        self.key.grant_logs(STUDIO_LOG_GROUP)
        self.log_group = retained_log_group(self, "Logs", name=STUDIO_LOG_GROUP, key=self.key,
                                            retention_days=log_retention_days)
        self.security_group = self._security_group(vpc, vpc_cidr)
        default_role = iam.Role(
            self, "DefaultExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{domain_name}: domain default execution role; grants nothing (every profile has its own)",
        )
        self.lifecycle_config = self._lifecycle_config(domain_name)
        lifecycle_arn = self.lifecycle_config.attr_studio_lifecycle_config_arn
        self.domain = sagemaker.CfnDomain(
            self, "Domain",
            domain_name=domain_name,
            auth_mode="IAM",
            app_network_access_type="VpcOnly",
            vpc_id=vpc.vpc_id,
            subnet_ids=vpc.select_subnets(subnet_type=subnets.subnet_type, subnets=subnets.subnets).subnet_ids,
            kms_key_id=self.key.key_arn,
            tag_propagation="ENABLED",
            default_user_settings=sagemaker.CfnDomain.UserSettingsProperty(
                execution_role=default_role.role_arn,
                security_groups=[self.security_group.security_group_id],
                studio_web_portal="ENABLED",
                default_landing_uri="studio::",
                studio_web_portal_settings=sagemaker.CfnDomain.StudioWebPortalSettingsProperty(
                    hidden_app_types=list(HIDDEN_APP_TYPES)),
                sharing_settings=sagemaker.CfnDomain.SharingSettingsProperty(notebook_output_option="Disabled"),
                jupyter_lab_app_settings=sagemaker.CfnDomain.JupyterLabAppSettingsProperty(
                    default_resource_spec=sagemaker.CfnDomain.ResourceSpecProperty(
                        instance_type=default_instance_type,
                        sage_maker_image_arn=self.allowed_image_arns[0],
                        lifecycle_config_arn=lifecycle_arn,
                    ),
                    lifecycle_config_arns=[lifecycle_arn],
                    app_lifecycle_management=sagemaker.CfnDomain.AppLifecycleManagementProperty(
                        idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(
                            lifecycle_management="ENABLED",
                            idle_timeout_in_minutes=idle,
                            min_idle_timeout_in_minutes=MIN_IDLE_MINUTES,
                            max_idle_timeout_in_minutes=idle_max,
                        )),
                ),
            ),
        )
        # DeleteDomain keeps the home EFS by default (RetentionPolicy HomeEfsFileSystem=Retain);
        # retaining the domain itself means a stack change never deletes a user's home either.
        self.domain.apply_removal_policy(RemovalPolicy.RETAIN)

    @property
    def domain_id(self) -> str:
        return self.domain.attr_domain_id

    def user_profile_arn(self, profile_name: str) -> str:
        return Stack.of(self).format_arn(service="sagemaker", resource="user-profile",
                                         resource_name=f"{self.domain_id}/{profile_name}")

    def add_user_profile(self, construct_id: str, *, profile_name: str, permissions_boundary: iam.IManagedPolicy,
                         key_tag: str, tags: Mapping[str, str], role_name: str | None = None) -> StudioUserProfile:
        """A user profile ``profile_name`` with its own execution role (named ``role_name`` when
        given, so other stacks can name it without a reference); see :class:`StudioUserProfile`."""
        return StudioUserProfile(self, construct_id, domain=self, profile_name=profile_name,
                                 permissions_boundary=permissions_boundary, key_tag=key_tag, tags=tags,
                                 role_name=role_name)

    def _security_group(self, vpc: ec2.IVpc, vpc_cidr: str) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="SageMaker Studio apps: NFS and app traffic within the group, HTTPS to the VPC endpoints",
        )
        for port, what in ((ec2.Port.tcp(NFS_PORT), "NFS to the domain's home file system"),
                           (ec2.Port.tcp_range(*STUDIO_APP_PORTS), "Studio app and kernel traffic")):
            group.add_ingress_rule(group, port, f"{what}, from Studio apps")
            group.add_egress_rule(group, port, f"{what}, to Studio apps")
        # The S3 gateway endpoint is reached at S3's public ranges (its prefix list cannot be
        # resolved offline): HTTPS to any address, which only reaches endpoints in this VPC.
        allow_https_to_endpoints(group)
        return group

    def _lifecycle_config(self, domain_name: str) -> sagemaker.CfnStudioLifecycleConfig:
        prefix = f"{domain_name}-pip"
        config = sagemaker.CfnStudioLifecycleConfig(
            self, "PipMirror",
            studio_lifecycle_config_app_type="JupyterLab",
            studio_lifecycle_config_content=base64.b64encode(pip_mirror_script(self.package_mirror).encode()).decode(),
            studio_lifecycle_config_name=prefix,
        )
        Aspects.of(config).add(_VersionedName(prefix))  # default priority: after the tag aspects
        return config


def _via(service: str) -> str:
    """``<service>.<region>.amazonaws.com``, the value of kms:ViaService for the stack's Region."""
    return Fn.sub(f"{service}.${{AWS::Region}}.amazonaws.com")


def _studio_arn(resource: str) -> str:
    return own_arn("sagemaker", resource)


class StudioUserProfile(Construct):
    """A Studio user profile for one persona of one team, with its own least-privilege execution role.

    The role (tagged with ``tags``, bounded by ``permissions_boundary``) may, inside the domain:

    - create, update and delete only private spaces owned by this profile;
    - start JupyterLab only in those spaces and only on the domain's allowed images
      (``sagemaker:ImageArns``), and any attempt with another image is explicitly denied;
    - read the domain's Studio resources and write the Studio log group;
    - use (not administer) the domain key, which encrypts its home directory and space volume,
      and, by ABAC, the keys whose ``key_tag`` tag has the value of its own (the team's data key,
      when ``key_tag`` is the team tag);
    - install packages from the organisation's mirror.

    What the persona does beyond Studio (data, training, endpoints) is granted by the persona
    work, not here; a caller adds what a profile needs besides (:meth:`add_policy`).

    :param profile_name: the user profile's name.
    :param permissions_boundary: the boundary of the execution role.
    :param key_tag: the tag that gives the role its keys (one of ``tags``).
    :param tags: tags of the profile and its role (the team and persona that ABAC reads).
    :param role_name: the execution role's name. Default: a name CloudFormation generates.
    """

    def __init__(self, scope: Construct, construct_id: str, *, domain: StudioDomain, profile_name: str,
                 permissions_boundary: iam.IManagedPolicy, key_tag: str, tags: Mapping[str, str],
                 role_name: str | None = None) -> None:
        super().__init__(scope, construct_id)
        if key_tag not in tags:
            raise ValueError(f"user profile {profile_name}: the key tag {key_tag} must be one of its tags")
        self.role = iam.Role(
            self, "ExecutionRole",
            role_name=role_name,
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            permissions_boundary=permissions_boundary,
            description=f"SageMaker Studio execution role of user profile {profile_name}",
        )
        self.policy = iam.ManagedPolicy(
            self, "Permissions",
            roles=[self.role],
            description=f"Studio permissions of user profile {profile_name}",
            statements=[*self._studio_statements(domain, domain.user_profile_arn(profile_name), key_tag),
                        *domain.package_mirror.read_packages_statements()],
        )
        self.profile = sagemaker.CfnUserProfile(
            self, "Profile",
            domain_id=domain.domain_id,
            user_profile_name=profile_name,
            user_settings=sagemaker.CfnUserProfile.UserSettingsProperty(execution_role=self.role.role_arn),
        )
        for key, value in tags.items():
            Tags.of(self).add(key, value)
        acknowledge(self.policy, "actions-without-resource-scope", "studio-own-spaces-and-apps", "team-keys-by-tag")

    def add_policy(self, construct_id: str, *, document: iam.PolicyDocument, description: str) -> iam.ManagedPolicy:
        """Another customer-managed policy of the execution role (still under its boundary)."""
        return iam.ManagedPolicy(self, construct_id, roles=[self.role], description=description, document=document)

    @staticmethod
    def _studio_statements(domain: StudioDomain, own_profile: str, key_tag: str) -> Sequence[iam.PolicyStatement]:
        owned_private = {
            "ArnEquals": {"sagemaker:OwnerUserProfileArn": own_profile},
            "StringEquals": {"sagemaker:SpaceSharingType": "Private"},
        }
        images = domain.allowed_image_arns
        return [
            iam.PolicyStatement(
                sid="OwnPrivateSpaces",
                actions=["sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace"],
                resources=[_studio_arn("space/*")],
                conditions=owned_private,
            ),
            # An app names its image: ForAllValues alone would also pass a request that names none.
            iam.PolicyStatement(
                sid="JupyterLabOnAllowedImages",
                actions=["sagemaker:CreateApp"],
                resources=[_studio_arn("app/*/*/JupyterLab/*")],
                conditions={**owned_private, "ForAllValues:ArnLike": {"sagemaker:ImageArns": images},
                            "Null": {"sagemaker:ImageArns": "false"}},
            ),
            iam.PolicyStatement(
                sid="DenyOtherImages",
                effect=iam.Effect.DENY,
                actions=["sagemaker:CreateApp", "sagemaker:CreateSpace", "sagemaker:UpdateSpace"],
                resources=["*"],
                conditions={"ForAnyValue:ArnNotLike": {"sagemaker:ImageArns": images}},
            ),
            iam.PolicyStatement(
                sid="DenyAppsWithoutImage",
                effect=iam.Effect.DENY,
                actions=["sagemaker:CreateApp"],
                resources=["*"],
                conditions={"Null": {"sagemaker:ImageArns": "true"}},
            ),
            iam.PolicyStatement(
                sid="StopOwnApps",
                actions=["sagemaker:DeleteApp"],
                resources=[_studio_arn("app/*")],
                conditions={"ArnEquals": {"sagemaker:OwnerUserProfileArn": own_profile}},
            ),
            iam.PolicyStatement(
                sid="TagOnCreate",
                actions=["sagemaker:AddTags"],
                resources=[_studio_arn("space/*"), _studio_arn("app/*")],
                conditions={"Null": {"sagemaker:TaggingAction": "false"}},
            ),
            iam.PolicyStatement(
                sid="ReadStudio",
                actions=["sagemaker:DescribeDomain"],
                resources=[Stack.of(domain).format_arn(service="sagemaker", resource="domain",
                                                       resource_name=domain.domain_id)],
            ),
            iam.PolicyStatement(
                sid="ReadStudioResources",
                actions=["sagemaker:DescribeUserProfile", "sagemaker:DescribeSpace", "sagemaker:DescribeApp"],
                resources=[_studio_arn("user-profile/*"), _studio_arn("space/*"), _studio_arn("app/*")],
            ),
            iam.PolicyStatement(
                sid="ListStudio",
                actions=["sagemaker:ListApps", "sagemaker:ListDomains", "sagemaker:ListSpaces",
                         "sagemaker:ListUserProfiles"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="StudioLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[domain.log_group.log_group_arn],
            ),
            iam.PolicyStatement(
                sid="StudioKey",
                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[domain.key.key_arn],
            ),
            # The team's keys only through the services that hold its data for the role: S3 (the
            # team bucket) and SageMaker (jobs and endpoints encrypted with it), never directly.
            iam.PolicyStatement(
                sid="TeamKeysByTag",
                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[own_arn("kms", "key/*")],
                conditions={"StringEquals": {f"aws:ResourceTag/{key_tag}": f"${{aws:PrincipalTag/{key_tag}}}",
                                             "kms:ViaService": [_via("s3"), _via("sagemaker")]}},
            ),
        ]
