"""Apply the read model's SQL migrations on every deploy (ordering/adapters/read_model_tables/migrator.py).

Invoked by the deployment: CDK's `triggers.Trigger` calls it with an empty event, and the
custom-resource Provider framework (aws_cdk.custom_resources.Provider, as its on_event
handler) with a CloudFormation request. Both treat an exception as a failed deployment, and
this raises on any failure. Create and Update migrate; Delete keeps the data (the stack's
removal does not drop what replay would have to rebuild). Migrations are idempotent, so
every run after the first applies only what is new.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from ordering import bootstrap
from ordering.adapters.read_model_tables.migrator import applied_versions, migrate

logger = Logger()
PHYSICAL_ID = "orders-read-model-migrations"


def run_migrations() -> dict[str, Any]:
    schema = bootstrap.settings().read_model_schema
    with bootstrap.postgres_connect()() as conn:
        applied = migrate(conn, schema)
        versions = applied_versions(conn, schema)
    names = [f"{migration.version:03d}_{migration.name}" for migration in applied]
    logger.info(
        "migrated", extra={"schema": schema, "applied": names, "version": versions[-1] if versions else 0}
    )
    return {"schema": schema, "applied": ",".join(names), "version": versions[-1] if versions else 0}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = (event or {}).get("RequestType")
    if request is None:  # a trigger (or a person) invoking it directly
        return run_migrations()
    if request in ("Create", "Update"):
        return {"PhysicalResourceId": PHYSICAL_ID, "Data": run_migrations()}
    if request == "Delete":
        logger.info("stack deletion: the read model is kept")
        return {"PhysicalResourceId": event.get("PhysicalResourceId") or PHYSICAL_ID}
    raise ValueError(f"unknown CloudFormation RequestType {request!r}")
