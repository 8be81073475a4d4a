"""A governed data lake on S3: Lake Formation settings and LF-tags of an account, a team's Glue
Data Catalog on its bucket, ETL inside the VPC and an Athena workgroup with enforced settings.

Lake Formation authorizes catalog and data access itself, on top of IAM: a principal needs both
the IAM action (``glue:GetTable``, ``lakeformation:GetDataAccess``...) and a Lake Formation
permission on the database, table or LF-tag expression. Grants are Lake Formation's own: a
principal can grant only what it holds *with grant option* (or as a data lake administrator), so
a grantable permission on an LF-tag expression is the whole of what a data owner can give away.

Every resource is an L1 (``aws_lakeformation``, ``aws_glue``, ``aws_athena``): there are no
stable L2s for them in aws-cdk-lib, and the L1s do the same job at the lowest synth cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lakeformation as lf
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge, acknowledge_resolved_wildcards
from fmops_constructs.vpc_egress import endpoints_only_security_group

ZONES = ("raw", "curated", "ml_results")
"""The databases of a team catalog: data as ingested, cleaned and modelled data, ML outputs."""

TABLE_PERMISSIONS_READ = ("SELECT", "DESCRIBE")
TABLE_PERMISSIONS_WRITE = ("SELECT", "INSERT", "DELETE", "ALTER", "DESCRIBE")


def tag_expression(tags: Mapping[str, Sequence[str]]) -> list[dict]:
    """An LF-tag expression (every key must match one of its values), as the L1 takes it (jsii
    struct keys: camelCase; CloudFormation's TagKey/TagValues would be dropped)."""
    return [{"tagKey": key, "tagValues": list(values)} for key, values in tags.items()]


class LakeFormationSettings(Construct):
    """The account's Lake Formation settings and its LF-tags.

    - data lake administrators: ``admins`` only (the CloudFormation execution role that deploys
      the catalogs and grants), appended to whatever administrators exist (``MutationType APPEND``);
    - no ``IAMAllowedPrincipals`` default on new databases and tables: access is what Lake
      Formation grants, not whatever IAM allows;
    - cross-account version 4 (grants to other accounts through AWS RAM, also on LF-tag
      expressions);
    - one ``AWS::LakeFormation::Tag`` per key of ``tags``, with its allowed values
      (:attr:`tags`; a grant or association on a key must depend on it).

    :param admins: IAM role ARNs made data lake administrators.
    :param tags: LF-tag key -> its values.
    """

    def __init__(self, scope: Construct, construct_id: str, *, admins: Sequence[str],
                 tags: Mapping[str, Sequence[str]]) -> None:
        super().__init__(scope, construct_id)
        account = Stack.of(self).account
        self.settings = lf.CfnDataLakeSettings(
            self, "Settings", admins=[{"dataLakePrincipalIdentifier": arn} for arn in admins],
            mutation_type="APPEND", create_database_default_permissions=[], create_table_default_permissions=[],
            parameters={"CROSS_ACCOUNT_VERSION": "4"})
        self.tags = {}
        for key, values in tags.items():
            tag = lf.CfnTag(self, f"Tag-{key}", catalog_id=account, tag_key=key, tag_values=sorted(values))
            tag.node.add_dependency(self.settings)
            self.tags[key] = tag


class TeamDataCatalog(Construct):
    """A team's Glue Data Catalog databases on ``<prefix>/`` of its bucket, registered with Lake
    Formation and tagged.

    - the location ``s3://<bucket>/<prefix>/`` is registered with Lake Formation with its own
      registration role (:attr:`registration_role`), not the service-linked role: the role may
      read and write objects below the prefix and list them, and use the bucket's key, nothing
      else; the service-linked role would get a policy statement per location added by Lake
      Formation, outside CloudFormation's view and this stack's boundary. Engines (Athena, Glue)
      get temporary credentials of this role from Lake Formation, per table they are granted.
    - one database per zone (:data:`ZONES`), ``<database_prefix><zone>``, located at
      ``s3://<bucket>/<prefix>/<zone>/``, carrying ``tags`` (tables inherit them).

    Grants: :meth:`grant_tables` (on an LF-tag expression), :meth:`grant_databases`,
    :meth:`grant_data_location`.

    :param bucket_name: the team's bucket (named: the bucket's policy admits the registration role by name).
    :param bucket_key: the bucket's KMS key.
    :param database_prefix: prefix of the database names (lowercase, digits, underscores).
    :param registration_role_name: the registration role's name.
    :param tags: LF-tag key -> values put on every database (keys of an account's
        :class:`LakeFormationSettings`).
    :param depends_on: what the associations and grants need first (the LF-tags, the settings).
    :param prefix: the bucket prefix of the lake. Default: ``lake``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, bucket_name: str, bucket_key: kms.IKey,
                 database_prefix: str, registration_role_name: str, tags: Mapping[str, Sequence[str]],
                 depends_on: Sequence[Construct] = (), prefix: str = "lake") -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.account = stack.account
        self._depends_on = list(depends_on)
        self.prefix = prefix
        self.bucket_name = bucket_name
        bucket_arn = f"arn:{stack.partition}:s3:::{bucket_name}"
        self.location_arn = f"{bucket_arn}/{prefix}"
        self.registration_role = iam.CfnRole(
            self, "RegistrationRole", role_name=registration_role_name,
            description=f"Lake Formation registration of s3://{bucket_name}/{prefix}/",
            assume_role_policy_document={"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lakeformation.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:SetContext", "sts:SetSourceIdentity"],
                "Condition": {"StringEquals": {"aws:SourceAccount": stack.account}}}]},
            policies=[iam.CfnRole.PolicyProperty(policy_name="registered-location", policy_document={
                "Version": "2012-10-17", "Statement": [
                    {"Sid": "LocationObjects", "Effect": "Allow",
                     "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                     "Resource": f"{self.location_arn}/*"},
                    {"Sid": "ListLocation", "Effect": "Allow", "Action": "s3:ListBucket",
                     "Resource": bucket_arn, "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/*", prefix]}}},
                    {"Sid": "BucketKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt",
                                                                        "kms:GenerateDataKey"],
                     "Resource": bucket_key.key_arn},
                ]})])
        acknowledge(self.registration_role, "scoped-inline-policy")
        acknowledge_resolved_wildcards(self.registration_role, self.registration_role.policies[0].policy_document["Statement"],  # type: ignore[index]
                                       "objects below the registered prefix only (the location Lake Formation vends "
                                       "credentials for), listed with an s3:prefix condition.")
        self.registration_role_arn = self.registration_role.attr_arn
        self.location = lf.CfnResource(self, "Location", resource_arn=self.location_arn, use_service_linked_role=False,
                                       role_arn=self.registration_role.attr_arn, hybrid_access_enabled=False)
        self.databases: dict[str, glue.CfnDatabase] = {}
        for zone in ZONES:
            name = f"{database_prefix}{zone}"
            database = self.databases[zone] = glue.CfnDatabase(
                self, f"Database-{zone}", catalog_id=stack.account, database_input=glue.CfnDatabase.DatabaseInputProperty(
                    name=name, description=f"{zone} zone of s3://{bucket_name}/{prefix}/",
                    location_uri=f"s3://{bucket_name}/{prefix}/{zone}/",
                    create_table_default_permissions=[]))
            association = lf.CfnTagAssociation(
                self, f"Tags-{zone}",
                resource=lf.CfnTagAssociation.ResourceProperty(database=lf.CfnTagAssociation.DatabaseResourceProperty(
                    catalog_id=stack.account, name=name)),
                lf_tags=[lf.CfnTagAssociation.LFTagPairProperty(catalog_id=stack.account, tag_key=key,
                                                                tag_values=list(values)) for key, values in tags.items()])
            association.node.add_dependency(database)
            self._after(association)

    @property
    def database_names(self) -> list[str]:
        return [d.database_input.name for d in self.databases.values()]  # type: ignore[union-attr]

    def _after(self, resource: lf.CfnPrincipalPermissions | lf.CfnTagAssociation) -> None:
        for dependency in self._depends_on:
            resource.node.add_dependency(dependency)

    def grant_tables(self, construct_id: str, principal: str, tags: Mapping[str, Sequence[str]],
                     permissions: Sequence[str] = TABLE_PERMISSIONS_READ, grantable: Sequence[str] = (),
                     catalog_id: str | None = None) -> lf.CfnPrincipalPermissions:
        """Give ``principal`` (a role ARN or an account ID) ``permissions`` on every table whose
        LF-tags match ``tags``, and ``grantable`` of them with grant option."""
        grant = lf.CfnPrincipalPermissions(
            self, construct_id, catalog=catalog_id or self.account, permissions=list(permissions),
            permissions_with_grant_option=list(grantable),
            principal=lf.CfnPrincipalPermissions.DataLakePrincipalProperty(data_lake_principal_identifier=principal),
            resource=lf.CfnPrincipalPermissions.ResourceProperty(lf_tag_policy=lf.CfnPrincipalPermissions.LFTagPolicyResourceProperty(
                catalog_id=catalog_id or self.account, resource_type="TABLE", expression=tag_expression(tags))))
        self._after(grant)
        for database in self.databases.values():
            grant.node.add_dependency(database)
        return grant

    def grant_databases(self, construct_id: str, principal: str, tags: Mapping[str, Sequence[str]],
                        permissions: Sequence[str] = ("DESCRIBE",), grantable: Sequence[str] = ()) -> lf.CfnPrincipalPermissions:
        """Give ``principal`` ``permissions`` on the databases whose LF-tags match ``tags``."""
        grant = lf.CfnPrincipalPermissions(
            self, construct_id, catalog=self.account, permissions=list(permissions),
            permissions_with_grant_option=list(grantable),
            principal=lf.CfnPrincipalPermissions.DataLakePrincipalProperty(data_lake_principal_identifier=principal),
            resource=lf.CfnPrincipalPermissions.ResourceProperty(lf_tag_policy=lf.CfnPrincipalPermissions.LFTagPolicyResourceProperty(
                catalog_id=self.account, resource_type="DATABASE", expression=tag_expression(tags))))
        self._after(grant)
        for database in self.databases.values():
            grant.node.add_dependency(database)
        return grant

    def grant_tag_use(self, construct_id: str, principal: str, key: str, values: Sequence[str],
                      grantable: bool = False) -> lf.CfnPrincipalPermissions:
        """Let ``principal`` see LF-tag ``key`` and put its ``values`` on resources it may alter
        (``DESCRIBE``, ``ASSOCIATE``)."""
        permissions = ["DESCRIBE", "ASSOCIATE"]
        grant = lf.CfnPrincipalPermissions(
            self, construct_id, catalog=self.account, permissions=permissions,
            permissions_with_grant_option=permissions if grantable else [],
            principal=lf.CfnPrincipalPermissions.DataLakePrincipalProperty(data_lake_principal_identifier=principal),
            resource=lf.CfnPrincipalPermissions.ResourceProperty(lf_tag=lf.CfnPrincipalPermissions.LFTagKeyResourceProperty(
                catalog_id=self.account, tag_key=key, tag_values=list(values))))
        self._after(grant)
        return grant

    def grant_data_location(self, construct_id: str, principal: str) -> lf.CfnPrincipalPermissions:
        """Let ``principal`` create tables on the registered location (``DATA_LOCATION_ACCESS``)."""
        grant = lf.CfnPrincipalPermissions(
            self, construct_id, catalog=self.account, permissions=["DATA_LOCATION_ACCESS"],
            permissions_with_grant_option=[],
            principal=lf.CfnPrincipalPermissions.DataLakePrincipalProperty(data_lake_principal_identifier=principal),
            resource=lf.CfnPrincipalPermissions.ResourceProperty(data_location=lf.CfnPrincipalPermissions.DataLocationResourceProperty(
                catalog_id=self.account, resource_arn=self.location_arn)))
        grant.node.add_dependency(self.location)
        self._after(grant)
        return grant


class PrivateEtl(Construct):
    """Glue ETL inside the VPC: a ``NETWORK`` connection in one isolated subnet with its own
    security group, and a security configuration that encrypts what Glue writes.

    - the connection's security group admits its own members on every TCP port (Glue workers talk
      to each other, a Glue requirement) and sends HTTPS to the VPC and gateway endpoints only;
    - the security configuration: S3 output SSE-KMS with ``data_key``, CloudWatch logs and job
      bookmarks with ``log_key`` (bookmarks CSE-KMS);
    - ``log_key`` must admit CloudWatch Logs for the ``/aws-glue/`` log groups
      (``EncryptionKey.grant_logs``) and Glue (``services=("glue",)``).

    :param vpc: the VPC.
    :param subnet: the isolated subnet Glue puts its network interfaces in.
    :param name: the connection's and security configuration's name.
    :param data_key: the key of the data Glue writes to S3.
    :param log_key: the key of Glue's logs and bookmarks.
    """

    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, subnet: ec2.ISubnet, name: str,
                 data_key: kms.IKey, log_key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.security_group = endpoints_only_security_group(
            self, "SecurityGroup", vpc=vpc, description=f"Glue connection {name}: its workers, and HTTPS to endpoints")
        self.security_group.add_ingress_rule(self.security_group, ec2.Port.all_tcp(), "Glue workers of this connection")
        self.security_group.add_egress_rule(self.security_group, ec2.Port.all_tcp(), "Glue workers of this connection")
        self.connection_name = name
        self.connection = glue.CfnConnection(self, "Connection", catalog_id=stack.account, connection_input=glue.CfnConnection.ConnectionInputProperty(
            name=name, connection_type="NETWORK", description="Glue jobs and crawlers in the internet-free VPC",
            physical_connection_requirements=glue.CfnConnection.PhysicalConnectionRequirementsProperty(
                availability_zone=subnet.availability_zone, subnet_id=subnet.subnet_id,
                security_group_id_list=[self.security_group.security_group_id])))
        self.security_configuration_name = name
        self.security_configuration = glue.CfnSecurityConfiguration(
            self, "SecurityConfiguration", name=name,
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                s3_encryptions=[glue.CfnSecurityConfiguration.S3EncryptionProperty(
                    s3_encryption_mode="SSE-KMS", kms_key_arn=data_key.key_arn)],
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=log_key.key_arn),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=log_key.key_arn)))


class QueryWorkgroup(athena.CfnWorkGroup):
    """An Athena workgroup whose settings its users cannot override: results in
    ``s3://<bucket>/<result_prefix>/`` of the expected owner, SSE-KMS with ``key``, CloudWatch
    metrics on, and a per-query scan limit.

    :param name: the workgroup's name.
    :param bucket_name: the result bucket.
    :param key_arn: the result key: its ARN or its alias ARN (an alias is a value the Control Tower
        rule CT.ATHENA.PR.2 can read, a reference to another stack's key is not).
    :param result_prefix: the result prefix. Default: ``athena-results``.
    :param bytes_scanned_cutoff: the most a query may scan. Default: 100 GB.
    """

    def __init__(self, scope: Construct, construct_id: str, *, name: str, bucket_name: str, key_arn: str,
                 result_prefix: str = "athena-results", bytes_scanned_cutoff: int = 100 * 1024 ** 3) -> None:
        stack = Stack.of(scope)
        self.output_location = f"s3://{bucket_name}/{result_prefix}/"
        super().__init__(
            scope, construct_id, name=name, description="Queries of the team's data lake, results encrypted",
            state="ENABLED", recursive_delete_option=False,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True, publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=bytes_scanned_cutoff,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(selected_engine_version="AUTO"),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=self.output_location, expected_bucket_owner=stack.account,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=key_arn))))
