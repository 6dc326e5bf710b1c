"""``/healthz`` for load balancers and container health checks: is the database reachable?

Answered before host validation and HTTPS redirects, because probes call the container by its own address.
"""

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path != "/healthz":
            return self.get_response(request)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:  # any database failure means "not healthy"
            return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
        return HttpResponse("ok\n", content_type="text/plain")
