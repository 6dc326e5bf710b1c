"""The one place where errors become API responses: ``{"code", "message"}`` with a stable code.

A domain error answers with its own ``status`` and ``code`` (``core.errors.DomainError``); ``not_redeemable`` adds
``reason``; invalid fields (422) add ``errors`` per field; 429 adds Retry-After. A body that is not JSON (or nested
too deeply) is 400 ``malformed_json``, one over the API's size limit 413 ``request_too_large``.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from core.errors import DomainError
from redemption.errors import CodeGuessingThrottled
from vouchers.errors import NotRedeemable


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": str(message), **extra}


def domain_error_response(error: DomainError) -> Response:
    """The error's own status and code; a 422 adds the field it is about, when it names one."""
    body = error_body(error.code, error.message)
    headers = {}
    if isinstance(error, NotRedeemable):
        body["reason"] = error.reason
    if error.field is not None:
        body["errors"] = {error.field: [str(error.message)]}
    if "available" in error.details:
        body["available"] = error.details["available"]
    if isinstance(error, CodeGuessingThrottled):
        headers["Retry-After"] = str(error.retry_after)
    return Response(body, status=int(error.status), headers=headers)


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain errors and DRF's own errors to our error body; anything else is a bug (500)."""
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, Http404):
        return Response(error_body("not_found", "Not found."), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(error_body("forbidden", "Not allowed."), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        if not isinstance(errors, dict):
            errors = {"non_field_errors": errors}
        return Response(
            error_body("invalid", "Some fields are invalid.", errors=errors),
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, exceptions.ParseError):
        return Response(error_body("malformed_json", "The body is not valid JSON."), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.APIException):
        codes = {
            exceptions.NotAuthenticated: "unauthenticated",
            exceptions.AuthenticationFailed: "unauthenticated",
            exceptions.PermissionDenied: "forbidden",
            exceptions.NotFound: "not_found",
            exceptions.MethodNotAllowed: "method_not_allowed",
            exceptions.NotAcceptable: "not_acceptable",
            exceptions.UnsupportedMediaType: "unsupported_media_type",
            exceptions.Throttled: "throttled",
            RequestTooLarge: "request_too_large",
        }
        code = next((value for cls, value in codes.items() if isinstance(exc, cls)), "error")
        headers = {}
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            authenticate_header = context["view"].get_authenticate_header(context["request"])
            if authenticate_header:
                headers["WWW-Authenticate"] = authenticate_header
        wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            headers["Retry-After"] = str(int(wait))
        http_status = exc.status_code
        if code == "unauthenticated":
            http_status = status.HTTP_401_UNAUTHORIZED
        return Response(error_body(code, str(exc.detail)), status=http_status, headers=headers)
    return None
