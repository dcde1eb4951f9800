"""Bare handlers: what each function does on its first event, with boto3 and the standard library alone.

They are the cold-start benchmark's baselines. Each makes exactly the AWS calls its function
makes (the benchmark records both sides and checks this), writes items in the same layout,
and answers in the same shape, but without pydantic, Powertools, pynamodb or our domain.
They skip most validation and error handling on purpose: they show what the calls alone cost.
Not for production.
"""
