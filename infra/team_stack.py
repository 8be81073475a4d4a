"""Per-team, per-account stack: the team's own key and data bucket in the shared VPC.

One stack per team and account keeps teams independent: adding or removing a team adds or
removes its stacks and touches no other team's resources or logical IDs.
"""

from __future__ import annotations

from aws_cdk import Stack, Tags
from aws_cdk import aws_s3 as s3
from constructs import Construct

from fmops_constructs.kms import EncryptionKey
from fmops_constructs.private_network import PrivateNetwork
from fmops_constructs.secure_bucket import SecureBucket
from infra.config import Account, OrgConfig, Team
from infra.platform_stack import access_log_bucket_name


class TeamStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, account: Account,
                 team: Team, network: PrivateNetwork, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        org = config.organisation
        self.data_key = EncryptionKey(self, "DataKey", alias=f"alias/{org.name}/{team.name}/data",
                                      description=f"{org.name}: data of team {team.name} in {account.name}")
        access_logs = s3.Bucket.from_bucket_name(self, "AccessLogs", access_log_bucket_name(config, account))
        self.data = SecureBucket(
            self, "DataBucket",
            encryption_key=self.data_key.key,
            access_logs=access_logs,
            vpc_endpoint_ids=[network.s3_endpoint_id],
            log_prefix=f"{team.name}/data",
        )
        Tags.of(self).add("fmops:team", team.name)
        Tags.of(self).add("fmops:cost-centre", team.cost_centre)
