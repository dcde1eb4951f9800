"""The relational read model: PostgreSQL behind RDS Proxy, in a VPC with no way to the internet.

The VPC has isolated subnets only: no NAT gateway, no internet gateway, no interface
endpoints (each costs money by the hour). What the in-VPC functions (query_orders,
projector, migrate, replay) must reach, and how:

- RDS Proxy, inside the VPC (the functions' security group is the only one it admits);
- DynamoDB (reading the log, healing gaps, replay): the free gateway endpoint;
- nothing else. The IAM auth token for the proxy is a SigV4 signature computed locally by
  boto3 (no call to RDS); credentials come from the Lambda environment (no call to STS);
  logs, metrics (EMF in the logs) and X-Ray segments leave through the Lambda service, not
  the VPC. The database password lives in Secrets Manager for the proxy only: functions log
  in with IAM tokens, so none of them needs a Secrets Manager endpoint.

Functions that need SQS, EventBridge or SES (the publisher, notification...) stay out of
the VPC, which is why the stream has two consumers instead of one.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, triggers
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

from infra.aws.functions import Network
from infra.aws.nag import acknowledge

DATABASE_NAME = "orders"
DATABASE_USER = "orders"  # the proxy's one login; functions connect as it with IAM tokens
DATABASE_PORT = 5432


class ReadModel(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, name_prefix: str) -> None:
        super().__init__(scope, construct_id)
        flow_logs = logs.LogGroup(
            self, "FlowLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
        )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                )
            ],
            gateway_endpoints={
                "DynamoDB": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
            },
            flow_logs={
                # Rejected traffic only: what a security group stopped is what one wants to see.
                "Rejected": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                    traffic_type=ec2.FlowLogTrafficType.REJECT,
                )
            },
        )
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.functions_security_group = ec2.SecurityGroup(
            self,
            "Functions",
            vpc=self.vpc,
            description="Lambda functions that use the read model",
            # The subnets route nowhere but the VPC and the DynamoDB gateway endpoint.
            allow_all_outbound=True,
        )
        self.proxy_security_group = ec2.SecurityGroup(
            self, "ProxySecurityGroup", vpc=self.vpc, description="RDS Proxy", allow_all_outbound=True
        )
        self.database = self._database(name_prefix)
        self.proxy = rds.DatabaseProxy(
            self,
            "Proxy",
            proxy_target=rds.ProxyTarget.from_instance(self.database),
            secrets=[self.database.secret],
            vpc=self.vpc,
            vpc_subnets=self.subnets,
            iam_auth=True,
            require_tls=True,
            # Well inside the API functions' 10 s: a full pool answers a clear error (retried
            # by the stream and queue consumers) instead of a Lambda timeout.
            borrow_timeout=Duration.seconds(5),
            security_groups=[self.proxy_security_group],
        )
        self.database.connections.allow_default_port_from(self.proxy, "RDS Proxy to PostgreSQL")
        self.proxy.connections.allow_from(
            self.functions_security_group, ec2.Port.tcp(DATABASE_PORT), "Lambda functions to RDS Proxy"
        )
        self.network = Network(
            vpc=self.vpc, subnets=self.subnets, security_group=self.functions_security_group
        )

    def _database(self, name_prefix: str) -> rds.DatabaseInstance:
        identifier = f"{name_prefix}-read-model"
        # Created here so that PostgreSQL's log gets a retention (RDS would create it unbounded).
        postgres_log = logs.LogGroup(
            self,
            "PostgresLog",
            log_group_name=f"/aws/rds/instance/{identifier}/postgresql",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        database = rds.DatabaseInstance(
            self,
            "Postgres",
            instance_identifier=identifier,
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17_9),
            instance_type=ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.MICRO),
            vpc=self.vpc,
            vpc_subnets=self.subnets,
            port=DATABASE_PORT,
            database_name=DATABASE_NAME,
            credentials=rds.Credentials.from_generated_secret(DATABASE_USER),
            storage_encrypted=True,
            allocated_storage=20,
            max_allocated_storage=100,
            backup_retention=Duration.days(7),
            deletion_protection=True,
            removal_policy=RemovalPolicy.SNAPSHOT,
            multi_az=False,
            publicly_accessible=False,
            cloudwatch_logs_exports=["postgresql"],
            auto_minor_version_upgrade=True,
        )
        database.node.add_dependency(postgres_log)
        acknowledge(
            database,
            "AwsSolutions-RDS3",
            "Single-AZ to keep a learning deployment cheap. The read model is derived data: it is rebuilt "
            "from the event log (replay), so losing the instance loses no facts.",
        )
        acknowledge(
            database,
            "AwsSolutions-RDS11",
            "A non-default port hides nothing: only the RDS Proxy security group may connect.",
        )
        acknowledge(
            database,  # its generated secret is a child ("Secret")
            "AwsSolutions-SMG4",
            "No function ever uses this password: they connect to the proxy with IAM tokens. Rotation would "
            "need a rotation function with a Secrets Manager endpoint in the VPC.",
        )
        return database

    def run_migrations_on_deploy(self, migrate: lambda_.Function) -> triggers.Trigger:
        """Invoke `migrate` during the deployment, once the proxy and the database are up.

        CDK's trigger calls it synchronously with an empty event and fails the deployment if it
        fails. It runs again whenever the function changes, i.e. whenever a migration is added;
        migrations are idempotent, so running them again is harmless.
        """
        return triggers.Trigger(
            self,
            "Migrate",
            handler=migrate,
            invocation_type=triggers.InvocationType.REQUEST_RESPONSE,
            timeout=migrate.timeout or Duration.minutes(5),
            execute_after=[self.database, self.proxy, self.proxy_security_group],
        )
