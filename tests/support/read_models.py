"""The backends the read model's contract suites run against: in memory, and Postgres."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ordering.adapters.memory_read_model import InMemoryReadModel, InMemoryRebuilds
from ordering.ports.read_model import ReadModel, Rebuilds

READ_MODELS = ["memory", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Backend:
    kind: str
    read_model: ReadModel
    rebuilds: Rebuilds


@contextlib.contextmanager
def read_model_backend(kind: str) -> Iterator[Backend]:
    if kind == "memory":
        live = InMemoryReadModel()
        yield Backend(kind, live, InMemoryRebuilds(live))
    elif kind == "postgres":
        from tests.support.postgres import fresh_read_model

        with fresh_read_model() as pg:
            yield Backend(kind, pg.read_model, pg.rebuilds)
    else:
        raise ValueError(kind)
