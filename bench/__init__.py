"""Benchmarks of the system, each figure set beside a baseline measured in the same run.

This machine is shared and noisy, so an absolute figure means little on its own: every
benchmark also measures a plain reference (bare boto3 handlers, raw put_item, raw COPY) in
the same run, and the ratio between the two is the figure to compare across runs.
Run them with `python -m bench <name>` or `orders bench <name>`; docs/benchmarks.md holds
the results, the commands and the machine they ran on.
"""
