"""The AWS CDK app: the system of infra/topology.py as one CloudFormation stack.

app.py builds the app; stack.py composes one construct per concern (api, auth, event_store,
read_model, messaging, functions, operations) and does the wiring between them: environment
variables and IAM grants. bundling.py builds each function's package without Docker.
"""

from infra.aws.node import use_wheel_node

# jsii starts its node process on the first `import aws_cdk`: make it the wheel's node, whatever
# module of this package is imported first.
use_wheel_node()
