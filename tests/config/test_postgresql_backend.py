"""core.postgresql: the health check of a reused connection, and prepared statements."""

import time
from collections.abc import Iterator

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections
from psycopg import pq

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _other_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    return psycopg.connect(
        dbname=params["dbname"],
        user=params.get("user"),
        host=params.get("host"),
        port=params.get("port"),
        password=params.get("password"),
        autocommit=True,
    )


@pytest.fixture
def observer() -> Iterator[psycopg.Connection]:
    """A second session, to look at ours in pg_stat_activity and to end it."""
    with _other_connection() as other:
        yield other


def _last_query(observer: psycopg.Connection, pid: int) -> str:
    row = observer.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    assert row is not None, f"backend {pid} is gone"
    return str(row[0])


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def test_the_backend_is_ours_with_prepared_statements() -> None:
    assert settings.DATABASES["default"]["ENGINE"] == "core.postgresql"
    assert type(connections["default"]).__module__ == "core.postgresql.base"
    assert connection.settings_dict["OPTIONS"]["server_side_binding"] is True

    # A statement run more than the threshold's number of times on one connection is prepared on the server.
    for _ in range(6):
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::int + 1", [41])
            assert cursor.fetchone()[0] == 42
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("$1::int + 1" in statement for statement in prepared), prepared


def test_a_quiet_connection_is_usable_without_a_round_trip(observer: psycopg.Connection) -> None:
    pid = _backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'the last statement before the check'")

    assert connection.is_usable()
    # Django's own check would have sent SELECT 1; the server saw nothing since the statement above.
    assert _last_query(observer, pid) == "SELECT 'the last statement before the check'"


def test_a_connection_the_server_ended_is_unusable_and_replaced(observer: psycopg.Connection) -> None:
    pid = _backend_pid()
    observer.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The server sends its reason and closes the socket; wait until that has arrived.
    deadline = time.monotonic() + 10
    while connection.is_usable():
        assert time.monotonic() < deadline, "the ended connection still looks usable"
        time.sleep(0.05)

    # What Django does before a request's first query (CONN_HEALTH_CHECKS): an unusable connection is closed, and
    # the query runs on a new one instead of failing.
    connection.health_check_enabled = True
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    assert connection.connection is None
    assert _backend_pid() != pid


def test_a_closed_connection_is_unusable() -> None:
    _backend_pid()
    connection.connection.close()
    assert not connection.is_usable()
    connection.close()


def test_a_connection_with_a_statement_still_running_is_replaced() -> None:
    # What an exception raised while psycopg waited for a result (a timeout's signal, say) leaves behind.
    _backend_pid()
    connection.connection.pgconn.send_query(b"SELECT pg_sleep(0.5)")
    assert connection.connection.pgconn.transaction_status == pq.TransactionStatus.ACTIVE
    assert not connection.is_usable()

    connection.health_check_enabled = True
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    assert connection.connection is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")
        assert cursor.fetchone()[0] == 2


def test_a_connection_in_a_transaction_is_checked_by_a_round_trip(observer: psycopg.Connection) -> None:
    pid = _backend_pid()
    connection.connection.execute("BEGIN")
    assert connection.is_usable()
    assert _last_query(observer, pid) == "SELECT 1"
    connection.connection.execute("ROLLBACK")
