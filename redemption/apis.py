"""The redemption API (``/api/v1/``): one class per operation, each with its input and output serializers.

Views only validate input, call a service and serialize the answer. Errors become responses in
``redemption.api_errors.exception_handler``; writes go through ``redemption.idempotency``.
"""

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import IO, Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from redemption import throttling
from redemption.api_auth import BearerTokenAuthentication, HasScope
from redemption.api_errors import RequestTooLarge
from redemption.idempotency import HEADER, idempotent
from redemption.models import ApiToken, Hold, Redemption, Scope
from redemption.services import (
    HOLD_DEFAULT_TTL,
    HOLD_MAX_TTL,
    Caller,
    Redeemed,
    hold_capture,
    hold_create,
    hold_release,
    location_resolve,
    redemption_create,
    redemption_reverse,
    voucher_find,
    voucher_state_now,
    voucher_validate,
)
from vouchers.models import VoucherKind
from vouchers.selectors import VoucherState, voucher_history
from vouchers.services import Actor

MAX_VALUE = 2**62
# The largest request body the API reads: its bodies are a few hundred bytes; anything near this is not a till.
MAX_BODY_BYTES = 16 * 1024
HISTORY_LIMIT = 500
CODE_PATTERN = "^[0-9A-Za-z-]{1,64}$"
REASONS = ["spent", "expired", "void", "frozen", "not_yet_valid", "wrong_location"]


BODY_RULES = (
    f"Bodies are JSON objects of at most {MAX_BODY_BYTES // 1024} KB (413 `request_too_large` above); a body that "
    "is not JSON, or is nested too deeply, is 400 `malformed_json`."
)


# ---- input -----------------------------------------------------------------------------------------------------


class ApiJSONParser(JSONParser):
    """JSON bodies of at most MAX_BODY_BYTES; too deep a nesting is a malformed body (400), not a crash."""

    def parse(
        self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        raw = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(raw) > MAX_BODY_BYTES:
            raise RequestTooLarge
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        try:
            # Strict, as DRF's parser is: NaN and Infinity are not JSON.
            return json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as error:
            raise exceptions.ParseError("The body is not valid JSON.") from error


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON")


class WholeNumberField(serializers.IntegerField):
    """A JSON integer and nothing else: not "100", not 10.0, not true."""

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return int(super().to_internal_value(data))


def currency_field() -> serializers.CharField:
    return serializers.CharField(
        min_length=3,
        max_length=3,
        required=False,
        help_text="ISO 4217, the voucher's currency (e.g. EUR). Required with an amount of money.",
    )


# ---- shared serializers -------------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    reason = serializers.CharField(required=False)
    available = serializers.IntegerField(required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        # "errors" would shadow Serializer.errors as a class attribute.
        fields = super().get_fields()
        fields["errors"] = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        )
        return fields


class VoucherOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.ChoiceField(choices=VoucherKind.values)
    currency = serializers.CharField()
    initial_value = serializers.IntegerField(allow_null=True, help_text="Minor units; null for item vouchers.")
    balance = serializers.IntegerField(allow_null=True, help_text="Minor units; null for item vouchers.")
    initial_quantity = serializers.IntegerField(allow_null=True, help_text="Items; null for value vouchers.")
    remaining_quantity = serializers.IntegerField(allow_null=True, help_text="Items; null for value vouchers.")
    status = serializers.CharField()
    is_redeemable = serializers.BooleanField()
    redeemable_amount = serializers.IntegerField(help_text="Balance (or items) minus live holds, if redeemable.")
    not_redeemable_reason = serializers.ChoiceField(choices=REASONS, allow_null=True)
    valid_from = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    display = serializers.CharField()


# The answers are built as plain dicts: a serializer instance per answer (fields deep-copied, then walked) costs
# more than the rest of a validation. The serializers above and below describe the same shape for the schema;
# tests check that both agree.
_DATETIME = serializers.DateTimeField()


def _datetime(value: datetime | None) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


def voucher_data(state: VoucherState) -> dict[str, Any]:
    voucher = state.voucher
    is_item = voucher.kind == VoucherKind.ITEM
    return {
        "code": voucher.display_code,
        "kind": str(voucher.kind),
        "currency": voucher.currency,
        "initial_value": None if is_item else voucher.initial_value,
        "balance": None if is_item else voucher.balance,
        "initial_quantity": voucher.initial_value if is_item else None,
        "remaining_quantity": voucher.balance if is_item else None,
        "status": str(voucher.status),
        "is_redeemable": bool(state.is_redeemable),
        "redeemable_amount": state.redeemable_amount,
        "not_redeemable_reason": state.not_redeemable_reason or None,
        "valid_from": _datetime(voucher.valid_from),
        "expires_at": _datetime(voucher.expires_at),
        "display": str(state.display),
    }


class RedemptionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.IntegerField(allow_null=True, help_text="Minor units; null for item vouchers.")
    quantity = serializers.IntegerField(allow_null=True, help_text="Items; null for value vouchers.")
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()
    location = serializers.CharField(allow_null=True, help_text="The location's slug.")
    reference = serializers.CharField(allow_blank=True)
    reversed_at = serializers.DateTimeField(allow_null=True)


def redemption_data(redemption: Redemption) -> dict[str, Any]:
    is_item = redemption.voucher.kind == VoucherKind.ITEM
    return {
        "id": redemption.pk,
        "amount": None if is_item else redemption.amount,
        "quantity": redemption.amount if is_item else None,
        "currency": redemption.voucher.currency,
        "created_at": _datetime(redemption.created_at),
        "location": redemption.location.slug if redemption.location_id and redemption.location else None,
        "reference": redemption.reference,
        "reversed_at": _datetime(redemption.reversed_at),
    }


class RedemptionWithVoucherSerializer(serializers.Serializer):
    redemption = RedemptionOutputSerializer()
    voucher = VoucherOutputSerializer()


def redemption_answer(result: Redeemed) -> dict[str, Any]:
    return {"redemption": redemption_data(result.redemption), "voucher": voucher_data(result.voucher)}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorSerializer) for code in codes}


CODE_PARAMETER = OpenApiParameter(
    "code", OpenApiTypes.STR, OpenApiParameter.PATH, description="The voucher code, with or without dashes."
)
CODE_PARAMETER.pattern = CODE_PATTERN
ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
LOCATION_QUERY = OpenApiParameter(
    "location", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False, description="A location's slug."
)
IDEMPOTENCY_HEADER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string per attempt (at most 255 characters); a retry with the same key and body "
    "replays the first answer. Kept for at least 24 hours, per token. Answers given before the operation ran "
    "(400, 413, 415, 422, 429) are not kept: fix the request, or wait for Retry-After, and send it with the same "
    "key.",
)


# ---- base ---------------------------------------------------------------------------------------------------


class TokenApi(APIView):
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [HasScope]
    parser_classes = [ApiJSONParser]
    required_scope: str = Scope.VOUCHERS_READ

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before anything reads the body (the idempotency fingerprint reads it whole): a body that says it is too
        # large is refused unread.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            raise RequestTooLarge
        super().initial(request, *args, **kwargs)

    def caller(self) -> Caller:
        token = self.request.auth
        assert isinstance(token, ApiToken)  # HasScope guarantees it
        return Caller(
            merchant_id=token.merchant_id,
            actor=Actor.api_token(f"{token.name} ({token.prefix})"),
            bound_location_id=token.location_id,
            api_token_id=token.pk,
            ip=throttling.client_ip(self.request.META),
        )

    def write(self, request: Request, perform: Callable[[], Response]) -> Response:
        """Run a write once per Idempotency-Key; errors become responses first, so that the operation's conflicts
        are replayed too (``redemption.idempotency`` decides which answers are kept)."""
        token = request.auth
        assert isinstance(token, ApiToken)

        def run() -> Response:
            try:
                return perform()
            except Exception as exc:  # handle_exception re-raises what it cannot map: those stay 500s
                return self.handle_exception(exc)

        return idempotent(request, token, run)

    def input(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


# ---- operations ---------------------------------------------------------------------------------------------


class VoucherDetailApi(TokenApi):
    required_scope = Scope.VOUCHERS_READ

    @extend_schema(
        operation_id="voucher_validate",
        summary="Validate a voucher",
        parameters=[CODE_PARAMETER, LOCATION_QUERY],
        responses={200: VoucherOutputSerializer, **errors(401, 403, 404, 422, 429)},
    )
    def get(self, request: Request, code: str) -> Response:
        caller = self.caller()
        location_id = location_resolve(caller=caller, slug=request.query_params.get("location"))
        state = voucher_validate(caller=caller, code=code, location_id=location_id)
        return Response(voucher_data(state))


class VoucherRedeemApi(TokenApi):
    required_scope = Scope.REDEMPTIONS_WRITE

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RedeemInput"

        amount = WholeNumberField(
            min_value=1, max_value=MAX_VALUE, required=False, help_text="Minor units (for value vouchers)."
        )
        quantity = WholeNumberField(
            min_value=1, max_value=MAX_VALUE, required=False, help_text="Items (for item vouchers)."
        )
        currency = currency_field()
        reference = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
        location = serializers.SlugField(max_length=50, required=False, help_text="A location's slug.")

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if ("amount" in attrs) == ("quantity" in attrs):
                raise serializers.ValidationError({"amount": ["Send either amount or quantity."]})
            return attrs

    @extend_schema(
        operation_id="voucher_redeem",
        summary="Redeem an amount (or a quantity of items)",
        description="A value voucher takes `amount` (an integer of minor units) with its `currency`; an item voucher "
        "takes `quantity`. Without `currency` an amount is refused (422 `currency_required`), and a currency other "
        'than the voucher\'s is 422 `currency_mismatch`. Numbers are JSON integers: "100", 100.0 and true are '
        "refused (422 `invalid`). " + BODY_RULES,
        parameters=[CODE_PARAMETER, IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={201: RedemptionWithVoucherSerializer, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    )
    def post(self, request: Request, code: str) -> Response:
        def perform() -> Response:
            data = self.input(self.InputSerializer)
            caller = self.caller()
            unit = "amount" if "amount" in data else "quantity"
            result = redemption_create(
                caller=caller,
                code=code,
                amount=data[unit],
                unit=unit,
                location_id=location_resolve(caller=caller, slug=data.get("location")),
                reference=data["reference"],
                currency=data.get("currency"),
                currency_required=True,
                idempotency_key=request.headers.get(HEADER) or None,
            )
            return Response(redemption_answer(result), status=status.HTTP_201_CREATED)

        return self.write(request, perform)


class RedemptionReverseApi(TokenApi):
    required_scope = Scope.REDEMPTIONS_WRITE

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReverseInput"

        reason = serializers.CharField(
            max_length=255,
            required=False,
            allow_blank=True,
            default="",
            help_text="Why the redemption is reversed; kept with the reversal.",
        )

    @extend_schema(
        operation_id="redemption_reverse",
        summary="Reverse a redemption (exactly once)",
        description="Within the reversal window (the day of the redemption in the merchant's time zone, unless "
        "the shop set a number of minutes) a token may reverse its merchant's redemptions; the body is optional. "
        "After it, tokens get 403 `reversal_window_closed`: only a manager or owner may reverse, on the POS page, "
        "with a reason. " + BODY_RULES,
        parameters=[ID_PARAMETER, IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={200: RedemptionWithVoucherSerializer, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    )
    def post(self, request: Request, id: str) -> Response:
        def perform() -> Response:
            data = self.input(self.InputSerializer)
            result = redemption_reverse(
                caller=self.caller(),
                redemption_id=id,
                idempotency_key=request.headers.get(HEADER) or None,
                reason=data["reason"],
            )
            return Response(redemption_answer(result))

        return self.write(request, perform)


class HoldOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.IntegerField(help_text="Minor units, or items.")
    status = serializers.CharField()
    expires_at = serializers.DateTimeField()


def hold_data(hold: Hold) -> dict[str, Any]:
    return HoldOutputSerializer(hold).data


class HoldCreateApi(TokenApi):
    required_scope = Scope.REDEMPTIONS_WRITE

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "HoldCreateInput"

        amount = WholeNumberField(min_value=1, max_value=MAX_VALUE, help_text="Minor units, or items.")
        currency = currency_field()
        ttl_seconds = WholeNumberField(min_value=1, max_value=HOLD_MAX_TTL, default=HOLD_DEFAULT_TTL)
        reference = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
        location = serializers.SlugField(max_length=50, required=False)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "HoldWithVoucher"

        hold = HoldOutputSerializer()
        voucher = VoucherOutputSerializer()

    @extend_schema(
        operation_id="hold_create",
        summary="Hold an amount for a few minutes",
        description="`amount` is minor units for a value voucher, with its `currency` (422 `currency_required` "
        "without, 422 `currency_mismatch` for another), or items for an item voucher. " + BODY_RULES,
        parameters=[CODE_PARAMETER, IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={201: OutputSerializer, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    )
    def post(self, request: Request, code: str) -> Response:
        def perform() -> Response:
            data = self.input(self.InputSerializer)
            caller = self.caller()
            hold = hold_create(
                caller=caller,
                code=code,
                amount=data["amount"],
                ttl_seconds=data["ttl_seconds"],
                location_id=location_resolve(caller=caller, slug=data.get("location")),
                reference=data["reference"],
                currency=data.get("currency"),
                currency_required=True,
            )
            state = voucher_state_now(voucher_id=hold.voucher_id, location_id=hold.location_id)
            return Response({"hold": hold_data(hold), "voucher": voucher_data(state)}, status=status.HTTP_201_CREATED)

        return self.write(request, perform)


class HoldCaptureApi(TokenApi):
    required_scope = Scope.REDEMPTIONS_WRITE

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "HoldCaptureInput"

        amount = WholeNumberField(
            min_value=1,
            max_value=MAX_VALUE,
            required=False,
            help_text="Minor units, or items; all of the hold if left out.",
        )
        currency = currency_field()
        reference = serializers.CharField(max_length=255, required=False, allow_blank=True)

    @extend_schema(
        operation_id="hold_capture",
        summary="Capture a hold: redeem all of it or less",
        description="Without `amount` all of the hold is redeemed; an `amount` of money names its `currency`, as "
        "when redeeming. " + BODY_RULES,
        parameters=[ID_PARAMETER, IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={201: RedemptionWithVoucherSerializer, **errors(400, 401, 403, 404, 409, 413, 422, 429)},
    )
    def post(self, request: Request, id: str) -> Response:
        def perform() -> Response:
            data = self.input(self.InputSerializer)
            result = hold_capture(
                caller=self.caller(),
                hold_id=id,
                amount=data.get("amount"),
                reference=data.get("reference"),
                idempotency_key=request.headers.get(HEADER) or None,
                currency=data.get("currency"),
                currency_required=True,
            )
            return Response(redemption_answer(result), status=status.HTTP_201_CREATED)

        return self.write(request, perform)


class HoldReleaseApi(TokenApi):
    required_scope = Scope.REDEMPTIONS_WRITE

    @extend_schema(
        operation_id="hold_release",
        summary="Release a hold",
        parameters=[ID_PARAMETER, IDEMPOTENCY_HEADER],
        request=None,
        responses={204: None, **errors(401, 403, 404, 409, 422, 429)},
    )
    def delete(self, request: Request, id: str) -> Response:
        def perform() -> Response:
            hold_release(caller=self.caller(), hold_id=id)
            return Response(status=status.HTTP_204_NO_CONTENT)

        return self.write(request, perform)


class VoucherTransactionsApi(TokenApi):
    required_scope = Scope.VOUCHERS_READ

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LedgerEntry"

        id = serializers.IntegerField()
        kind = serializers.CharField()
        amount = serializers.IntegerField(help_text="Signed, in minor units or items.")
        balance_after = serializers.IntegerField()
        currency = serializers.CharField()
        created_at = serializers.DateTimeField()
        location = serializers.CharField(allow_null=True, source="location_slug")
        reference = serializers.CharField(allow_blank=True)

    @extend_schema(
        operation_id="voucher_transactions",
        summary="The voucher's ledger, newest first",
        parameters=[CODE_PARAMETER],
        responses={
            200: inline_serializer("VoucherTransactions", {"transactions": OutputSerializer(many=True)}),
            **errors(401, 403, 404, 429),
        },
    )
    def get(self, request: Request, code: str) -> Response:
        voucher = voucher_find(caller=self.caller(), code=code)
        rows = []
        for entry in voucher_history(voucher_id=voucher.pk)[:HISTORY_LIMIT]:
            entry.location_slug = entry.location.slug if entry.location else None  # type: ignore[attr-defined]
            entry.currency = voucher.currency  # type: ignore[attr-defined]
            rows.append(entry)
        return Response({"transactions": self.OutputSerializer(rows, many=True).data})
