"""The data lakes of an account: its Lake Formation settings and LF-tags, and per team its Glue
Data Catalog, ETL inside the VPC, Athena workgroup and Lake Formation grants.

Lake Formation is the authority over catalog and data access: the persona roles' IAM policies
(infra/personas/matrix.yaml) admit the Glue, Athena and Lake Formation calls, and the grants
below say on which databases and tables they take effect:

- data owner: SELECT and DESCRIBE on the team's tables (LF-tag ``team=<team>``) and DESCRIBE on
  its databases, each *with grant option*, and DESCRIBE/ASSOCIATE on the domain and sensitivity
  tags (to classify tables). It is not a data lake administrator, so Lake Formation refuses any
  grant beyond these: another team's tables, write permissions, data locations, tags.
- data engineer and the ETL role (jobs and crawlers): write on the team's tables, CREATE_TABLE
  on its databases, the registered location; no grant option.
- the personas with query-data: SELECT and DESCRIBE on the team's tables.
- ``teams[].data_lake.grants``: read on the tables of the grant's tag expression, to the other
  team's account (cross-account sharing) or role; in the consumer's account, resource links to
  the shared databases and SELECT/DESCRIBE for its data-consumer role.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lakeformation as lf
from constructs import Construct

from fmops_constructs.data_lake import (TABLE_PERMISSIONS_READ, TABLE_PERMISSIONS_WRITE, ZONES,
                                        LakeFormationSettings, PrivateEtl, QueryWorkgroup, TeamDataCatalog,
                                        tag_expression)
from fmops_constructs.acknowledge import acknowledge, acknowledge_resolved_wildcards
from fmops_constructs.aspects import exempt_from_internet_free
from fmops_constructs.kms import EncryptionKey
from fmops_constructs.private_network import PrivateNetwork
from infra import naming, personas
from infra.config import Sensitivity
from infra.config.matrix import Cell
from infra.plan import AccountPlan, TeamPlan
from infra.plan.data_lake import DataShare, TAG_DOMAIN, TAG_SENSITIVITY, TAG_TEAM, database_prefix

ETL_LOG_GROUPS = "/aws-glue/"
"""Where Glue jobs and crawlers with a security configuration log (``/aws-glue/jobs/<config>-role/...``,
``/aws-glue/crawlers-role/...``)."""


class LakeFormationStack(Stack):
    """The account's Lake Formation settings (the CloudFormation execution role as the data lake
    administrator that deploys catalogs and grants) and its LF-tags team, domain, sensitivity."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: AccountPlan, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        deployer = naming.bootstrap_role_arn(plan.account.id, plan.org.region, "cfn-exec")
        self.lake = LakeFormationSettings(self, "LakeFormation", admins=[deployer], tags=dict(plan.lake_tags))


class DataLakeStack(Stack):
    """One team's data lake in one account (module docstring)."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: TeamPlan, network: PrivateNetwork,
                 data_key: kms.IKey, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        org, team, account = plan.org, plan.team, plan.account
        domains = team.data_lake.domain_values(team.name)
        self.catalog = TeamDataCatalog(
            self, "Catalog", bucket_name=plan.bucket_name, bucket_key=data_key, database_prefix=plan.database_prefix,
            registration_role_name=naming.lake_registration_role_name(org.name, team.name),
            tags={TAG_TEAM: [team.name], TAG_DOMAIN: [domains[0]],
                  TAG_SENSITIVITY: [team.data_lake.default_sensitivity.value]})
        self.etl_key = EncryptionKey(self, "EtlKey", alias=f"alias/{org.name}/{team.name}/etl", services=("glue",),
                                     description=f"{org.name}: Glue logs and job bookmarks of team {team.name}")
        self.etl_key.grant_logs(ETL_LOG_GROUPS)
        self.etl = PrivateEtl(self, "Etl", vpc=network.vpc, subnet=network.vpc.isolated_subnets[0],
                              name=naming.etl_name(org.name, team.name), data_key=data_key, log_key=self.etl_key)
        self.etl_role = self._etl_role(plan, data_key)
        self.workgroup = QueryWorkgroup(self, "Workgroup", name=naming.etl_name(org.name, team.name),
                                        bucket_name=plan.bucket_name,
                                        key_arn=f"arn:aws:kms:{org.region}:{account.id}:{naming.team_data_key_alias(org.name, team.name)}")
        self.crawler = glue.CfnCrawler(
            self, "RawCrawler", name=f"{naming.etl_name(org.name, team.name)}-raw", role=self.etl_role.attr_arn,
            database_name=f"{plan.database_prefix}raw", crawler_security_configuration=self.etl.security_configuration_name,
            description="Catalogs what the data engineer ingests under lake/raw/",
            targets=glue.CfnCrawler.TargetsProperty(s3_targets=[glue.CfnCrawler.S3TargetProperty(
                path=f"s3://{plan.bucket_name}/{self.catalog.prefix}/raw/",
                connection_name=self.etl.connection_name)]),
            lake_formation_configuration=glue.CfnCrawler.LakeFormationConfigurationProperty(
                use_lake_formation_credentials=True, account_id=account.id),
            schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                update_behavior="UPDATE_IN_DATABASE", delete_behavior="LOG"))
        self.crawler.node.add_dependency(self.etl.security_configuration)
        self.crawler.node.add_dependency(self.etl.connection)
        self._grants(plan)

    def _etl_role(self, plan: TeamPlan, data_key: kms.IKey) -> iam.CfnRole:
        """The role Glue jobs and crawlers of the team run as: the lake and etl/ prefixes of the
        team bucket, the team's databases, Lake Formation credentials, its logs, the network
        interfaces of the connection."""
        org, team = plan.org, plan.team
        region, account = org.region, plan.account.id
        glue_arn = f"arn:aws:glue:{region}:{account}"
        prefix = plan.database_prefix
        bucket_arn = f"arn:aws:s3:::{plan.bucket_name}"
        document = {"Version": "2012-10-17", "Statement": [
            {"Sid": "LakeAndEtlObjects", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
             "Resource": [f"{bucket_arn}/lake/*", f"{bucket_arn}/etl/*"]},
            {"Sid": "ListLakeAndEtl", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn,
             "Condition": {"StringLike": {"s3:prefix": ["lake/*", "etl/*"]}}},
            {"Sid": "TeamCatalog", "Effect": "Allow",
             "Action": ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:CreateTable",
                        "glue:UpdateTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchCreatePartition",
                        "glue:BatchGetPartition", "glue:CreatePartition", "glue:UpdatePartition"],
             "Resource": [f"{glue_arn}:catalog", f"{glue_arn}:database/{prefix}*", f"{glue_arn}:table/{prefix}*/*"]},
            {"Sid": "Connection", "Effect": "Allow", "Action": ["glue:GetConnection"],
             "Resource": [f"{glue_arn}:catalog", f"{glue_arn}:connection/{naming.etl_name(org.name, team.name)}"]},
            {"Sid": "LakeFormationCredentials", "Effect": "Allow", "Action": "lakeformation:GetDataAccess",
             "Resource": "*"},
            {"Sid": "DataKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
             "Resource": [data_key.key_arn, self.etl_key.key_arn]},
            {"Sid": "Logs", "Effect": "Allow",
             "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
             "Resource": f"arn:aws:logs:{region}:{account}:log-group:{ETL_LOG_GROUPS}*"},
            {"Sid": "ConnectionInterfaces", "Effect": "Allow",
             "Action": ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
             "Resource": [f"arn:aws:ec2:{region}:{account}:{kind}/*"
                          for kind in ("network-interface", "subnet", "security-group")]},
            {"Sid": "DescribeNetwork", "Effect": "Allow",
             "Action": ["ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcEndpoints", "ec2:DescribeSubnets",
                        "ec2:DescribeVpcs", "ec2:DescribeSecurityGroups", "ec2:DescribeRouteTables"],
             "Resource": "*"},
            {"Sid": "TagGlueInterfaces", "Effect": "Allow", "Action": "ec2:CreateTags",
             "Resource": f"arn:aws:ec2:{region}:{account}:network-interface/*",
             "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["aws-glue-service-resource"]}}},
        ]}
        role = iam.CfnRole(
            self, "EtlRole", role_name=naming.etl_role_name(org.name, team.name),
            description=f"Glue jobs and crawlers of team {team.name}, in the VPC",
            assume_role_policy_document={"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}}}]},
            policies=[iam.CfnRole.PolicyProperty(policy_name="etl", policy_document=document)])
        acknowledge(role, "scoped-inline-policy")
        acknowledge_resolved_wildcards(
            role, document["Statement"],
            "objects below lake/ and etl/ of the team bucket; the team's databases and their tables "
            "(<team>_*, the Glue names of the team); Glue's log groups /aws-glue/* of this account; "
            "Resource '*' only for lakeformation:GetDataAccess (Lake Formation has no resource types: it "
            "authorizes the credentials it vends per table itself) and the EC2 Describe calls Glue makes to "
            "find the connection's subnet (they have no resource types); network interfaces only in this "
            "account and Region.")
        return role

    def _grants(self, plan: TeamPlan) -> None:
        team, catalog = plan.team, self.catalog
        own = {TAG_TEAM: [team.name]}
        present = set(team.persona_names())
        role = plan.persona_role_name
        account = plan.account.id
        arn = lambda persona: naming.role_arn("aws", account, role(persona))  # noqa: E731
        matrix = personas.load_matrix()
        if "data-owner" in present:
            owner = arn("data-owner")
            catalog.grant_tables("DataOwnerTables", owner, own, TABLE_PERMISSIONS_READ, grantable=TABLE_PERMISSIONS_READ)
            catalog.grant_databases("DataOwnerDatabases", owner, own, ("DESCRIBE",), grantable=("DESCRIBE",))
            for key, values in ((TAG_DOMAIN, team.data_lake.domain_values(team.name)),
                                (TAG_SENSITIVITY, [s.value for s in Sensitivity])):
                catalog.grant_tag_use(f"DataOwnerTag-{key}", owner, key, values)
        writers = [self.etl_role.attr_arn] + ([arn("data-engineer")] if "data-engineer" in present else [])
        for index, principal in enumerate(writers):
            name = "Etl" if index == 0 else "DataEngineer"
            catalog.grant_tables(f"{name}Tables", principal, own, TABLE_PERMISSIONS_WRITE)
            catalog.grant_databases(f"{name}Databases", principal, own, ("CREATE_TABLE", "DESCRIBE"))
            catalog.grant_data_location(f"{name}Location", principal)
        readers = [p for p in matrix.personas if p in present and p not in ("data-owner", "data-engineer")
                   and matrix.cell(p, "query-data") in (Cell.ALLOW, Cell.READ_ONLY)]
        for persona in readers:
            catalog.grant_tables(f"Query-{persona}", arn(persona), own, TABLE_PERMISSIONS_READ)
            catalog.grant_databases(f"QueryDatabases-{persona}", arn(persona), own)
        for index, share in enumerate(plan.shares_out):
            catalog.grant_tables(f"Share{index}", share.principal, share.expression(), share.permissions)
            catalog.grant_databases(f"Share{index}Databases", share.principal, {TAG_TEAM: [team.name]})
        for index, share in enumerate(plan.shares_in):
            self._consume(index, share, plan)

    def _consume(self, index: int, share: DataShare, plan: TeamPlan) -> None:
        """The consumer side of a cross-account share: a resource link per shared database in this
        account's catalog, and the data-consumer role's read on the shared tables."""
        account = plan.account.id
        consumer = share.consumer_role
        prefix = database_prefix(share.producer)
        for zone in ZONES:
            link = glue.CfnDatabase(self, f"Shared{index}-{zone}", catalog_id=account,
                                    database_input=glue.CfnDatabase.DatabaseInputProperty(
                                        name=f"shared_{prefix}{zone}",
                                        target_database=glue.CfnDatabase.DatabaseIdentifierProperty(
                                            catalog_id=share.producer_account, database_name=f"{prefix}{zone}")))
            lf.CfnPrincipalPermissions(
                self, f"Shared{index}Link-{zone}", catalog=account, permissions=["DESCRIBE"],
                permissions_with_grant_option=[],
                principal=lf.CfnPrincipalPermissions.DataLakePrincipalProperty(data_lake_principal_identifier=consumer),
                resource=lf.CfnPrincipalPermissions.ResourceProperty(database=lf.CfnPrincipalPermissions.DatabaseResourceProperty(
                    catalog_id=account, name=f"shared_{prefix}{zone}"))).node.add_dependency(link)
        lf.CfnPrincipalPermissions(
            self, f"Shared{index}Tables", catalog=account, permissions=list(share.permissions),
            permissions_with_grant_option=[],
            principal=lf.CfnPrincipalPermissions.DataLakePrincipalProperty(data_lake_principal_identifier=consumer),
            resource=lf.CfnPrincipalPermissions.ResourceProperty(lf_tag_policy=lf.CfnPrincipalPermissions.LFTagPolicyResourceProperty(
                catalog_id=share.producer_account, resource_type="TABLE", expression=tag_expression(share.expression()))))

