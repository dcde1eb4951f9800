"""One Lambda function per entry of topology.FUNCTIONS, configured alike.

Every function: arm64 (cheaper per ms than x86 for the same work), Python 3.12, memory and
timeout from the topology, Lambda's active X-Ray tracing (no X-Ray SDK in the code: see
docs/architecture.md, "Tracing"), a log group kept 30 days, and reserved concurrency where
the topology sets it (it caps the connections a function can open through RDS Proxy).
Powertools is bundled, byte-compiled, with every other dependency (infra/aws/bundling.py).
Functions with `in_vpc` sit in the read model's isolated subnets. What a function may touch
(environment and IAM) is decided by the composing stack, from the topology's `uses`.

The API functions run with SnapStart: each deploy publishes a version, Lambda snapshots it
after init, and API Gateway invokes the `live` alias that points at it, so a cold start is a
restore. Their after-restore hooks are in handlers/snapstart.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import topology
from infra.aws.bundling import PYTHON_VERSION, BundlingError, missing_handlers
from infra.aws.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_12
LIVE_ALIAS = "live"  # what API Gateway invokes: the newest published (snapshotted) version
FUNCTION_TAG = "orders:function"  # names the topology entry a Lambda function implements


@dataclass(frozen=True)
class Network:
    """Where functions with `in_vpc` go."""

    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    security_group: ec2.ISecurityGroup


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        specs: Sequence[topology.Function],
        code: Callable[[topology.Function], lambda_.Code],
        network: Network,
        name_prefix: str,
        async_failure_queues: Mapping[str, sqs.IQueue],
    ) -> None:
        super().__init__(scope, construct_id)
        if RUNTIME.name != f"python{PYTHON_VERSION}":
            raise ValueError(f"runtime {RUNTIME.name} does not match the wheels built for {PYTHON_VERSION}")
        if Stack.of(self).bundling_required and (missing := missing_handlers(specs)):
            # Packages are shared, so a missing module would deploy without complaint and fail at run time.
            raise BundlingError("cannot package the functions: " + "; ".join(missing))
        self.by_name: dict[str, lambda_.Function] = {}
        # What a trigger invokes: the live alias of a SnapStart function, the function otherwise.
        self.invocable: dict[str, lambda_.IFunction] = {}
        for spec in specs:
            function = self._function(
                spec, code, network, f"{name_prefix}-{spec.name}", async_failure_queues.get(spec.name)
            )
            self.by_name[spec.name] = function
            self.invocable[spec.name] = function
            if spec.snap_start:
                self.invocable[spec.name] = lambda_.Alias(
                    self, f"{spec.name}-live", alias_name=LIVE_ALIAS, version=function.current_version
                )
        self._explain_findings()

    def _explain_findings(self) -> None:
        managed = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        acknowledge(
            self,
            "AwsSolutions-L1",
            f"python{PYTHON_VERSION} on purpose, not the newest runtime: the wheels (pip "
            "--python-version) and the bytecode (compileall by a 3.12 interpreter) are built for it; "
            "move all three together.",
        )
        acknowledge(
            self,
            f"AwsSolutions-IAM4[{managed}AWSLambdaBasicExecutionRole]",
            "The AWS-managed policy only lets the function write its own logs; a copy would only drift.",
        )
        acknowledge(
            self,
            f"AwsSolutions-IAM4[{managed}AWSLambdaVPCAccessExecutionRole]",
            "The AWS-managed policy only lets Lambda manage the network interfaces of in-VPC functions.",
        )
        acknowledge(
            self,
            "AwsSolutions-IAM5[Resource::*]",
            "Only actions without resource-level permissions get Resource '*': X-Ray's PutTraceSegments and "
            "PutTelemetryRecords, and DynamoDB's ListStreams (tests/infra checks that list).",
        )

    def _function(
        self,
        spec: topology.Function,
        code: Callable[[topology.Function], lambda_.Code],
        network: Network,
        function_name: str,
        failure_queue: sqs.IQueue | None,
    ) -> lambda_.Function:
        log_group = logs.LogGroup(
            self,
            f"{spec.name}-logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        function = lambda_.Function(
            self,
            spec.name,
            function_name=function_name,
            description=spec.description,
            handler=spec.handler,
            code=code(spec),
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            reserved_concurrent_executions=spec.reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            snap_start=(lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if spec.snap_start else None),
            environment={**topology.COMMON_ENVIRONMENT, **spec.environment},
            vpc=network.vpc if spec.in_vpc else None,
            vpc_subnets=network.subnets if spec.in_vpc else None,
            security_groups=[network.security_group] if spec.in_vpc else None,
            # Invoked asynchronously (EventBridge): a failure retried twice is parked, never dropped.
            dead_letter_queue=failure_queue,
            retry_attempts=topology.ASYNC_RETRY_ATTEMPTS if failure_queue else None,
        )
        Tags.of(function).add(FUNCTION_TAG, spec.name)
        return function

    def __getitem__(self, name: str) -> lambda_.Function:
        return self.by_name[name]
