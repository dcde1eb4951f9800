"""The AWS CDK app: the system of infra/topology.py as one CloudFormation stack.

app.py builds the app; stack.py composes one construct per concern (api, auth, event_store,
read_model, messaging, functions, operations) and does the wiring between them: environment
variables and IAM grants. bundling.py builds each function's package without Docker.
"""
