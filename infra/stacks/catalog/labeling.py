"""``<org>-<account>-labeling`` (accounts where some team labels data): the account's Ground Truth
private workforce (one per account and Region) and its Cognito user pool, reached in the VPC."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from fmops_constructs.private_network import PrivateNetwork
from fmops_constructs.vpc_egress import endpoints_only_security_group
from infra.plan import AccountPlan


class LabelingWorkforceStack(Stack):
    """The account's Ground Truth private workforce: a Cognito user pool of labelers (invited by
    an administrator, MFA required, no self sign-up) and the workforce, whose worker portal is
    reached through a VPC endpoint SageMaker creates in the isolated subnets."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: AccountPlan, network: PrivateNetwork,
                 **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        org, account = plan.org, plan.account
        self.user_pool = cognito.UserPool(
            self, "Labelers", user_pool_name=f"{org.name}-{account.name}-labelers",
            self_sign_up_enabled=False, sign_in_aliases=cognito.SignInAliases(email=True),
            mfa=cognito.Mfa.REQUIRED, mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            password_policy=cognito.PasswordPolicy(min_length=14, require_digits=True, require_lowercase=True,
                                                   require_uppercase=True, require_symbols=True,
                                                   temp_password_validity=Duration.days(3)),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY, deletion_protection=True,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.client = self.user_pool.add_client(
            "Workforce", generate_secret=True,
            o_auth=cognito.OAuthSettings(flows=cognito.OAuthFlows(authorization_code_grant=True),
                                         scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL,
                                                 cognito.OAuthScope.PROFILE],
                                         callback_urls=["https://localhost"]),
        )
        self.domain = self.user_pool.add_domain("Domain", cognito_domain=cognito.CognitoDomainOptions(
            domain_prefix=f"{org.name}-{account.id}-labelers"))
        group = endpoints_only_security_group(self, "PortalSecurityGroup", vpc=network.vpc,
                                              description="Ground Truth worker portal endpoint: HTTPS from the VPC")
        group.add_ingress_rule(ec2.Peer.ipv4(network.cidr), ec2.Port.tcp(443), "Labelers reach the portal from the VPC")
        subnets = network.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids
        self.workforce = sagemaker.CfnWorkforce(
            self, "Workforce", workforce_name="default",
            cognito_config=sagemaker.CfnWorkforce.CognitoConfigProperty(
                client_id=self.client.user_pool_client_id, user_pool=self.user_pool.user_pool_id),
            workforce_vpc_config=sagemaker.CfnWorkforce.WorkforceVpcConfigRequestProperty(
                vpc_id=network.vpc.vpc_id, security_group_ids=[group.security_group_id], subnets=subnets[:2]),
        )
        self.workforce.node.add_dependency(self.domain)
