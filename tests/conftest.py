"""Settings every test layer shares. Fixtures of one layer live in that layer's conftest."""

import os

from hypothesis import HealthCheck, settings

# Tests never reach AWS: moto intercepts every call, and these fake credentials make sure
# that a call moto does not intercept fails instead of touching a real account.
for name, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
}.items():
    os.environ[name] = value
os.environ.pop("AWS_PROFILE", None)
# What every function gets in Lambda (service name, metrics namespace, log level), for each
# layer that runs a handler; set before Powertools reads them.
for name, value in {
    "POWERTOOLS_SERVICE_NAME": "orders",
    "POWERTOOLS_METRICS_NAMESPACE": "Orders",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}.items():
    os.environ.setdefault(name, value)

settings.register_profile(
    "default",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# CI: the same examples every run, so that a red build can be reproduced.
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
