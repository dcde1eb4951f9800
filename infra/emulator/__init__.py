"""Stand-ins for the AWS services the system uses, built from the topology: API Gateway (JWT
authorizer, request models, throttling), Lambda containers, event source mappings (stream,
SQS, EventBridge pumps) and the patches that make moto behave as DynamoDB does. Knows AWS and
`infra.topology`, nothing of `orders dev` (`infra/dev/`)."""
