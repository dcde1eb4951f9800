"""The local runtime: the whole system on one machine, no AWS account, no Docker."""
