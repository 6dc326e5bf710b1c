"""Django's PostgreSQL backend with a cheaper ``is_usable()``.

With ``CONN_HEALTH_CHECKS`` Django checks a reused connection before the first query of every request; its check
is a ``SELECT 1`` round trip, which on the API's shortest requests costs as much as the work itself. A connection
that sits idle between requests receives nothing from the server unless the server is closing it (a restart, an
administrator, an idle timeout: PostgreSQL sends the reason, then closes the socket). So the socket is polled
instead: an idle connection with nothing to read is usable; one with something to read, one that is not idle and
one psycopg already knows is lost get Django's own ``SELECT 1`` (which fails on a closed connection or one busy with
another statement, and reads what was sent on an open one).

Documented extension point: https://docs.djangoproject.com/en/5.2/ref/databases/#subclassing-the-built-in-database-backends
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        pgconn = connection.pgconn
        if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status == pq.TransactionStatus.UNKNOWN:
            return False
        # Only an idle connection is judged by its socket. One with a statement still running (an exception cut a
        # query short) or inside a transaction gets Django's check, which fails on the former as it should.
        if pgconn.transaction_status != pq.TransactionStatus.IDLE or not hasattr(select, "poll"):
            return bool(super().is_usable())
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        if poller.poll(0):
            return bool(super().is_usable())
        return True
