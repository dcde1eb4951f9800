"""How long the local pumps wait before retrying a failed delivery.

AWS backs off exponentially; its real intervals (up to minutes) would make a laptop run
crawl, so the local base is a setting (`orders dev --retry-delay`) and attempt n waits
base x 2^(n-1), at most base x 32. The number of attempts is always the topology's.
"""

from __future__ import annotations

DEFAULT_BASE_SECONDS = 1.0
MAX_FACTOR = 32


def backoff(base_seconds: float, attempt: int) -> float:
    """The wait before retry number `attempt` (1 for the first retry)."""
    return base_seconds * min(2 ** max(attempt - 1, 0), MAX_FACTOR)
