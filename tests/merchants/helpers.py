"""Helpers for tests of merchants and staff."""

from io import StringIO

from django.core.management import call_command


def run(*args: str) -> str:
    """Run a management command and return what it printed."""
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()
