"""Data labeling: a Ground Truth private work team for the project (a group of the account's
labelers' Cognito user pool, on the account's private workforce whose portal is in the VPC), the
role labeling jobs run with, and the S3 layout of items, manifest and labels."""

from __future__ import annotations

from aws_cdk import CfnOutput, Fn
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from fmops_constructs.product import Grant, PlatformValue, ProjectProductStack, ProjectRole, ProjectTemplateProps


class DataLabelingProduct(ProjectProductStack):
    """The product stack of the data-labeling template."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ProjectTemplateProps, description: str) -> None:
        super().__init__(scope, construct_id, props=props, description=description)
        pool = self.platform_string(PlatformValue.LABELING_USER_POOL_ID)
        group = cognito.CfnUserPoolGroup(
            self, "Labelers", user_pool_id=pool, group_name=self.resource_name("labelers"),
            description="Labelers of the project: add their users to this group")
        workteam = sagemaker.CfnWorkteam(
            self, "Workteam", workteam_name=self.resource_name(), workforce_name="default",
            description="Private work team of the project's labelers",
            member_definitions=[sagemaker.CfnWorkteam.MemberDefinitionProperty(
                cognito_member_definition=sagemaker.CfnWorkteam.CognitoMemberDefinitionProperty(
                    cognito_user_pool=pool, cognito_user_group=group.ref,
                    cognito_client_id=self.platform_string(PlatformValue.LABELING_CLIENT_ID)))])
        area = f"arn:${{AWS::Partition}}:s3:::{self.team_bucket_template}/labeling/${{SageMakerProjectName}}/"
        role = ProjectRole(
            self, "LabelingRole", service="sagemaker.amazonaws.com",
            description="Ground Truth labeling jobs of the project: read items, write labels",
            grants=[Grant(("s3:GetObject",), (f"{area}*",)),
                    Grant(("s3:PutObject",), (f"{area}output/*",)),
                    Grant(("s3:ListBucket",), (f"arn:${{AWS::Partition}}:s3:::{self.team_bucket_template}",),
                          {"StringLike": {"s3:prefix": "labeling/${SageMakerProjectName}/*"}}),
                    Grant(("kms:Decrypt", "kms:GenerateDataKey"), (self.data_key.key_arn, self.project_key.key_arn))],
            why="Ground Truth reads the project's items and writes its labels below labeling/<project>/ of the "
                "team bucket")
        base = Fn.sub(f"s3://{self.team_bucket_template}/labeling/${{SageMakerProjectName}}/")
        CfnOutput(self, "WorkteamArn", value=workteam.attr_workteam_arn, description="Work team of labeling jobs")
        CfnOutput(self, "LabelersGroup", value=group.ref,
                  description="Cognito group (in the account's labelers' pool) whose members label for the project")
        CfnOutput(self, "LabelingRoleArn", value=role.role_arn, description="RoleArn of the project's labeling jobs")
        CfnOutput(self, "LabelingArea", value=base,
                  description="input/ items, input.manifest and labels.json, output/ labels (seed: labeling_job.py)")
