"""The Postgres connection: reopened when found dead, errors as port errors, TLS and IAM tokens."""

from __future__ import annotations

import json
import ssl
import urllib.parse

import boto3
import certifi
import psycopg
import pytest
from moto import mock_aws

from ordering.adapters.postgres_connection import PostgresConnection, connector, iam_auth_token
from ordering.config import Settings
from ordering.ports.read_model import ReadModelError, ReadModelUnavailable
from tests.support.postgres import connect, database_url

pytestmark = pytest.mark.postgres


def backend_pid(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT pg_backend_pid()").fetchone()[0]


def kill(pid: int) -> None:
    with connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def socket_settings(**changes) -> Settings:
    """Settings naming the embedded server by host/port/name/user, as on AWS."""
    query = urllib.parse.parse_qs(urllib.parse.urlparse(database_url()).query)
    return Settings(db_host=query["host"][0], db_port=5432, db_name="postgres", db_user="postgres", **changes)


def test_a_connection_found_dead_is_replaced_before_the_next_transaction():
    db = PostgresConnection(connect)
    with db.transaction() as conn:
        first = backend_pid(conn)
    kill(first)  # as RDS Proxy does to a client idle for too long
    with db.transaction() as conn:
        assert backend_pid(conn) != first
    db.close()


def test_a_read_on_a_dead_connection_is_made_again_on_a_fresh_one():
    db = PostgresConnection(connect)
    first = db.read(backend_pid)
    kill(first)
    assert db.read(backend_pid) != first
    db.close()


def test_a_connection_lost_inside_a_transaction_is_unavailable_and_then_replaced():
    db = PostgresConnection(connect)
    with pytest.raises(ReadModelUnavailable), db.transaction() as conn:  # noqa: PT012
        pid = backend_pid(conn)
        kill(pid)
        conn.execute("SELECT 1")
    with db.transaction() as conn:
        assert backend_pid(conn) != pid
    db.close()


def test_sql_errors_are_read_model_errors_and_the_connection_stays():
    db = PostgresConnection(connect)
    pid = db.read(backend_pid)
    with pytest.raises(ReadModelError) as raised:
        db.read(lambda conn: conn.execute("SELECT 1/0"))
    assert not isinstance(raised.value, ReadModelUnavailable)
    assert db.read(backend_pid) == pid
    db.close()


def test_a_server_that_cannot_be_reached_is_unavailable():
    db = PostgresConnection(
        connector(Settings(database_url="postgresql://x@127.0.0.1:1/x?connect_timeout=2"))
    )
    with pytest.raises(ReadModelUnavailable, match="cannot connect"):
        db.read(backend_pid)


def test_credentials_that_cannot_be_fetched_are_unavailable():
    """Secrets Manager throttled or out of reach: retried like a database that is down."""
    with mock_aws():
        gone = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gone"
        db = PostgresConnection(connector(socket_settings(db_secret_arn=gone, aws_region="eu-west-1")))
        with pytest.raises(ReadModelUnavailable, match="cannot connect"):
            db.read(backend_pid)


def test_with_iam_auth_a_fresh_token_is_the_password_of_every_connection():
    tokens = iter(["token-1", "token-2"])
    connect_iam = connector(socket_settings(db_iam_auth=True), auth_token=lambda s: next(tokens))
    with connect_iam() as first, connect_iam() as second:
        assert (first.info.password, second.info.password) == ("token-1", "token-2")
        assert first.info.user == "postgres"
        assert "sslmode=require" in first.info.dsn  # the default; libpq uses no TLS on a Unix socket
        assert first.autocommit
        assert first.prepare_threshold is None


def test_tls_is_required_unless_configured_otherwise():
    settings = Settings.from_env({"DB_HOST": "proxy.example", "DB_NAME": "orders", "DB_USER": "orders"})
    assert settings.db_sslmode == "require"
    with connector(socket_settings(db_sslmode="verify-full"))() as conn:
        assert "sslmode=verify-full" in conn.info.dsn


def test_verify_full_checks_the_server_against_the_amazon_root_cas_by_default():
    """What the deployed functions use (DB_SSLMODE=verify-full): RDS Proxy's ACM certificate
    chains to an Amazon Root CA, and certifi's bundle (in their asset) holds all four."""
    with connector(socket_settings(db_sslmode="verify-full"))() as conn:
        assert "sslmode=verify-full" in conn.info.dsn
        assert f"sslrootcert={certifi.where()}" in conn.info.dsn
    roots = ssl.create_default_context(cafile=certifi.where()).get_ca_certs()
    names = {value for root in roots for ((name, value),) in root["subject"] if name == "commonName"}
    assert {f"Amazon Root CA {n}" for n in (1, 2, 3, 4)} <= names


def test_a_ca_file_of_ones_own_can_be_named(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    with connector(socket_settings(db_sslmode="verify-ca", db_sslrootcert=str(ca)))() as conn:
        assert f"sslrootcert={ca}" in conn.info.dsn


def test_require_names_no_ca_file():
    """sslmode=require encrypts but accepts any certificate: no CA file is given for it."""
    with connector(socket_settings(db_sslmode="require"))() as conn:
        assert "sslrootcert" not in conn.info.dsn


def test_the_iam_token_is_a_presigned_connect_request():
    settings = Settings(
        db_host="orders.proxy-abc.eu-west-1.rds.amazonaws.com", db_user="orders", aws_region="eu-west-1"
    )
    token = iam_auth_token(settings)
    assert token.startswith("orders.proxy-abc.eu-west-1.rds.amazonaws.com:5432/?Action=connect&DBUser=orders")
    assert "X-Amz-Signature=" in token


def test_with_a_secret_its_password_is_used():
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(
            Name="db", SecretString=json.dumps({"username": "postgres", "password": "from-the-secret"})
        )["ARN"]
        settings = socket_settings(db_secret_arn=arn, aws_region="eu-west-1")
        with connector(settings)() as conn:
            assert conn.info.password == "from-the-secret"


def test_a_read_that_outlasts_the_read_timeout_is_unavailable_and_the_next_read_works():
    """The read path's statement timeout: a stalled read ends as ReadModelUnavailable (a 503)."""
    db = PostgresConnection(connect, read_timeout=0.5)
    with pytest.raises(ReadModelUnavailable, match=r"did not answer within 0\.5 s"):
        db.read(lambda conn: conn.execute("SELECT pg_sleep(30)"))
    assert db.read(lambda conn: conn.execute("SELECT 1").fetchone()) == (1,)
    db.close()


def test_a_read_waiting_on_a_lock_is_cut_at_the_read_timeout():
    """A database that holds the read back (here a lock; a paused server alike) is cut, not waited on."""
    with connect() as holder:
        holder.execute("CREATE TABLE IF NOT EXISTS public.stall_probe (id int)")
    db = PostgresConnection(connect, read_timeout=0.5)
    with connect() as holder, holder.transaction():
        holder.execute("LOCK TABLE public.stall_probe IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(ReadModelUnavailable):
            db.read(lambda conn: conn.execute("SELECT count(*) FROM public.stall_probe").fetchone())
    assert db.read(lambda conn: conn.execute("SELECT count(*) FROM public.stall_probe").fetchone()) == (0,)
    db.close()
