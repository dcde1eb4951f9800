"""Leases: one holder at a time for work whose effect cannot be taken back (an e-mail sent).

A lease runs until a time its holder chooses: the moment its invocation is stopped for good,
after which the holder can do nothing more. Until then nobody else can claim the key; after
it, anybody can, so a holder that died holds nothing up for longer than its own deadline. A
holder whose work failed releases the lease, so that a retry can claim it at once.

A lease guards the doing, not the result: whoever claims it next must still find out whether
the work was done (the notification service reads the order's log for ConfirmationSent).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Lease:
    key: str
    token: str  # this claim's own: a release cannot end a later holder's lease
    until: datetime


class LeaseError(Exception):
    """A lease could not be claimed or released (no connection, throttled, refused): the
    caller lets its trigger retry, and finally dead-letter."""


class Leases(abc.ABC):
    @abc.abstractmethod
    def claim(self, key: str, *, until: datetime) -> Lease | None:
        """The lease on `key` until `until`, or None while another holder's has not run out."""

    @abc.abstractmethod
    def release(self, lease: Lease) -> None:
        """End `lease` now. A lease that ran out and was claimed by another holder is left alone."""
