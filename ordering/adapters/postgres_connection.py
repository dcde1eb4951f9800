"""Postgres connections made for RDS Proxy: one per warm container, reopened when found dead.

RDS Proxy shares a few database connections among many Lambda containers unless a session
does something that ties it to one ("pinning": SET, server-side prepared statements,
temporary tables, advisory locks held across statements...). So every connection here is in
autocommit mode with each unit of work an explicit transaction, psycopg never prepares
(`prepare_threshold=None`), and nothing ever issues SET.

Where the database is: DATABASE_URL (local), or DB_HOST/DB_PORT/DB_NAME/DB_USER with TLS
(DB_SSLMODE, default require) and, with DB_IAM_AUTH=true, a fresh IAM auth token as the
password at every connect (a token is valid for 15 minutes; an open connection outlives it).
The deployed functions use verify-full: the server's certificate and name are checked against
DB_SSLROOTCERT, by default certifi's CA bundle (RDS Proxy presents an ACM certificate, which
chains to the Amazon Root CAs certifi ships).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import certifi
import psycopg

from ordering.adapters import aws_clients
from ordering.config import Settings
from ordering.ports.read_model import ReadModelError, ReadModelUnavailable

T = TypeVar("T")
Connect = Callable[[], psycopg.Connection]

CONNECT_OPTIONS: dict[str, Any] = {"autocommit": True, "prepare_threshold": None, "connect_timeout": 5}
VERIFYING_SSLMODES = ("verify-ca", "verify-full")

# How long the read path waits for Postgres: connect (5 s) plus this stays under the query
# function's 10 s timeout, so that the caller gets a 503, not the gateway's 502.
READ_TIMEOUT_SECONDS = 3.0


def connector(settings: Settings, *, auth_token: Callable[[Settings], str] | None = None) -> Connect:
    """How to open a connection with these settings. `auth_token` replaces the IAM token source
    (tests); secrets are read at connect time, so a rotated password is picked up."""
    if settings.database_url:
        url = settings.database_url
        return lambda: psycopg.connect(url, **CONNECT_OPTIONS)
    base: dict[str, Any] = {
        "host": settings.require("db_host"),
        "port": settings.db_port,
        "dbname": settings.require("db_name"),
        "sslmode": settings.db_sslmode,
    }
    if settings.db_sslmode in VERIFYING_SSLMODES:
        base["sslrootcert"] = settings.db_sslrootcert or certifi.where()

    def connect() -> psycopg.Connection:
        if settings.db_iam_auth:
            user, password = settings.require("db_user"), (auth_token or iam_auth_token)(settings)
        elif settings.db_secret_arn:
            user, password = secret_credentials(settings)
        else:
            user, password = settings.require("db_user"), None
        return psycopg.connect(**base, user=user, password=password, **CONNECT_OPTIONS)

    return connect


def iam_auth_token(settings: Settings) -> str:
    """A token RDS Proxy accepts as the password of DB_USER (signed locally, no network call)."""
    from botocore.exceptions import BotoCoreError

    client = aws_clients.client("rds", region=settings.aws_region)
    try:
        return client.generate_db_auth_token(
            DBHostname=settings.require("db_host"),
            Port=settings.db_port,
            DBUsername=settings.require("db_user"),
            Region=settings.aws_region,
        )
    except BotoCoreError as error:  # no credentials to sign with
        raise ReadModelUnavailable(f"cannot connect to the read model: {error}") from error


def secret_credentials(settings: Settings) -> tuple[str, str]:
    """(username, password) of the Secrets Manager secret RDS creates for a database."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = aws_clients.client("secretsmanager", region=settings.aws_region)
    try:
        answer = client.get_secret_value(SecretId=settings.require("db_secret_arn"))
    except (BotoCoreError, ClientError) as error:  # throttled, unreachable, or gone
        raise ReadModelUnavailable(f"cannot connect to the read model: {error}") from error
    secret = json.loads(answer["SecretString"])
    return settings.db_user or secret["username"], secret["password"]


class PostgresConnection:
    """A connection per thread (one in a Lambda container), opened on first use and reopened
    when found dead. psycopg's errors leave as the read model's port errors."""

    def __init__(self, connect: Connect, *, read_timeout: float | None = None) -> None:
        self._connect = connect
        self._read_timeout = READ_TIMEOUT_SECONDS if read_timeout is None else read_timeout
        self._local = threading.local()

    def _current(self) -> psycopg.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            try:
                conn = self._connect()
            except psycopg.OperationalError as error:  # the credentials' own failures are already translated
                raise ReadModelUnavailable(f"cannot connect to the read model: {error}") from error
            self._local.conn = conn
        return conn

    def _forget(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        try:
            with contextlib.ExitStack() as stack:
                yield self._begin(stack)
        except psycopg.OperationalError as error:
            self._forget_if_broken()
            raise ReadModelUnavailable(str(error)) from error
        except psycopg.Error as error:
            raise ReadModelError(str(error)) from error

    def _begin(self, stack: contextlib.ExitStack) -> psycopg.Connection:
        """BEGIN, on a fresh connection if the kept one turns out dead: nothing was done on it yet."""
        conn = self._current()
        try:
            stack.enter_context(conn.transaction())
        except psycopg.OperationalError:
            if not conn.broken:
                raise
            self._forget()
            conn = self._current()
            stack.enter_context(conn.transaction())
        return conn

    def read(self, work: Callable[[psycopg.Connection], T]) -> T:
        """Run read-only statements, each on its own (autocommit); if the kept connection turns
        out dead, once more on a fresh one. Reads only: work that writes could run twice."""
        for attempt in (1, 2):
            conn = self._current()
            try:
                with _deadline(conn, self._read_timeout) as expired:
                    return work(conn)
            except psycopg.OperationalError as error:
                if expired.is_set():
                    self._forget()
                    raise ReadModelUnavailable(
                        f"the read model did not answer within {self._read_timeout} s"
                    ) from error
                if attempt == 1 and conn.broken:
                    self._forget()
                    continue
                self._forget_if_broken()
                raise ReadModelUnavailable(str(error)) from error
            except psycopg.Error as error:
                raise ReadModelError(str(error)) from error
        raise AssertionError("unreachable")

    def _forget_if_broken(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and (conn.broken or conn.closed):
            self._forget()

    def close(self) -> None:
        self._forget()


@contextlib.contextmanager
def _deadline(conn: psycopg.Connection, seconds: float) -> Iterator[threading.Event]:
    """Cut the connection if the block takes longer than `seconds` (the event says it did).

    This is the read path's statement timeout, kept on the client: RDS Proxy refuses startup
    options and pins sessions that SET, and a paused or unreachable server would not honour a
    server-side timeout or a cancel request anyway. Cutting the socket ends the wait at once."""
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        with contextlib.suppress(OSError), socket.socket(fileno=os.dup(conn.fileno())) as sock:
            sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(seconds, cut)
    timer.daemon = True
    timer.start()
    try:
        yield expired
    finally:
        timer.cancel()
