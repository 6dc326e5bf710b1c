"""core.errors: one root for every app's domain errors, each carrying its code, HTTP status and message."""

import importlib
import inspect
from http import HTTPStatus

import pytest
from django.utils import translation

from core.errors import DomainError

APPS = ("merchants", "shop", "vouchers", "payments", "delivery", "redemption")


def domain_error_classes() -> list[type[Exception]]:
    found = []
    for app in APPS:
        module = importlib.import_module(f"{app}.errors")
        found += [
            cls
            for _name, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, Exception) and cls.__module__ == module.__name__
        ]
    return found


@pytest.mark.parametrize("cls", domain_error_classes(), ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_apps_errors_derive_from_the_root_with_a_code_and_a_client_error_status(cls):
    assert issubclass(cls, DomainError)
    assert cls.code.isidentifier()
    assert cls.code == cls.code.lower()
    assert 400 <= HTTPStatus(cls.status) < 600


def test_one_constructor_shape_message_optional_and_details_kept():
    class Refused(DomainError):
        code = "refused"
        default_message = "Refused by default."

    assert Refused().message == str(Refused()) == "Refused by default."
    given = Refused("Not today.", available=5)
    assert (given.message, given.details, given.code, given.status) == ("Not today.", {"available": 5}, "refused", 409)


def test_the_roots_own_message_is_translated():
    with translation.override("de"):
        assert DomainError().message == "Die Anfrage kann nicht ausgeführt werden."
    with translation.override("en"):
        assert DomainError().message == "The request cannot be completed."
