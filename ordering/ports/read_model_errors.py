"""The read model port's errors, in a module of their own.

Every API function answers an unreachable read model with a 503 (handlers/http.py), but most
never use the read model: importing its port (and the domain states it holds) only for these
two classes cost them a few milliseconds of every cold start.
"""

from __future__ import annotations


class ReadModelError(Exception):
    """The read model refused an operation (a constraint, a bad value)."""


class ReadModelUnavailable(ReadModelError):
    """The read model could not be reached; the operation may be retried as a whole."""
