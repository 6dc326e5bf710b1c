"""What every app may use and that knows no domain: the row writer (besides each app's ``sql.py`` the only raw
SQL), the Redis cache client, the PostgreSQL backend, email settings and the ``.eml`` file backend, the client's
address behind trusted proxies, the domain-error root and admin mixins. It imports no app of the project."""
