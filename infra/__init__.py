"""Where the system runs: the topology (pure data), the AWS CDK app and the local runtime."""
