"""Mixed roles: every admin page and action, every POS page and every API endpoint, walked by users and tokens of
another merchant and by users who hold different roles at two merchants.

The walk is built from the admin registry (each model's pages and actions) and the URL resolver (admin, POS and
API routes); `test_every_admin_action_and_route_has_an_expectation` fails when one of them has no expectation
below. Beta is the merchant whose rows are tried; Alpha is where the users have their other role. A refusal is
checked by what is seen (no foreign row in a list, no foreign page) and by a fingerprint of the database (nothing
changed), not by a status code alone.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from merchants.models import Merchant, Role
from tests.tenancy.helpers import Side, World, changed_tables, fingerprint, user_with

pytestmark = pytest.mark.django_db

OWNER, MANAGER, CASHIER = Role.OWNER, Role.MANAGER, Role.CASHIER
OM: tuple[str, ...] = (OWNER, MANAGER)
NOBODY: tuple[str, ...] = ()  # platform superusers only


# -- admin pages: which role at a row's merchant may view, change, delete it; add needs the role at some merchant --


@dataclass(frozen=True)
class Pages:
    view: tuple[str, ...] = NOBODY
    change: tuple[str, ...] = NOBODY
    add: tuple[str, ...] = NOBODY
    delete: tuple[str, ...] = NOBODY
    platform: bool = False  # a row of no merchant: superusers only, whatever the roles


PLATFORM = Pages(platform=True)
READ_ONLY = Pages(view=OM)

ADMIN_PAGES: dict[str, Pages] = {
    "merchants.merchant": Pages(view=OM, change=(OWNER,)),
    "merchants.location": Pages(view=OM, change=OM, add=OM, delete=(OWNER,)),
    "merchants.staffmembership": Pages(view=OM, change=(OWNER,), add=(OWNER,), delete=(OWNER,)),
    "shop.voucherproduct": Pages(view=OM, change=OM, add=OM, delete=(OWNER,)),
    "shop.order": READ_ONLY,
    "vouchers.voucher": READ_ONLY,  # changed only through its actions
    "vouchers.vouchertransaction": READ_ONLY,
    "payments.payment": READ_ONLY,  # refunds through the refund page and action
    "delivery.delivery": Pages(view=OM, change=OM),  # all fields read-only; "change" runs the resend actions
    "redemption.apitoken": Pages(view=OM, change=OM, add=OM, delete=(OWNER,)),
    "redemption.redemption": READ_ONLY,
    "redemption.hold": READ_ONLY,
    "redemption.throttleevent": READ_ONLY,
    "payments.stripeevent": PLATFORM,
    "auth.user": PLATFORM,
    "auth.group": PLATFORM,
    "otp_totp.totpdevice": PLATFORM,
    "otp_static.staticdevice": PLATFORM,
    "axes.accessattempt": PLATFORM,
    "axes.accesslog": PLATFORM,
    "axes.accessfailurelog": PLATFORM,
}


# -- admin actions: the roles that may run each at the selected row's merchant, what its form is given, and the proof
# that it really acts when allowed ("changes": the database changes; "confirms": a confirmation page is shown) ------


@dataclass(frozen=True)
class Action:
    roles: tuple[str, ...]
    fields: dict[str, str] = field(default_factory=dict)
    target: Callable[[Side], Any] | None = None  # the row to select; the model's row of the merchant by default
    proof: str = "changes"


def _in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


DELETE = {"post": "yes"}
REASON = {"apply": "1", "reason": "tenancy check"}

ADMIN_ACTIONS: dict[tuple[str, str], Action] = {
    ("shop.order", "cancel_orders"): Action(OM, target=lambda side: side.pending_order),
    ("vouchers.voucher", "void_vouchers"): Action(OM, REASON),
    ("vouchers.voucher", "adjust_vouchers"): Action(OM, {**REASON, "amount": "-1.00"}),
    ("vouchers.voucher", "extend_vouchers"): Action(OM, {**REASON, "expires_on": _in_days(4000)}),
    ("payments.payment", "refund_in_full"): Action((OWNER,)),
    ("delivery.delivery", "resend"): Action(OM),
    ("delivery.delivery", "change_recipient_and_resend"): Action(
        OM, {"apply": "1", "to_email": "thief@example.com", "to_name": "Thief", "buyer_name": "Thief"}
    ),
    ("delivery.delivery", "correct_buyer_name_and_resend"): Action(OM, {"apply": "1", "buyer_name": "Thief"}),
    ("redemption.apitoken", "revoke"): Action(OM),
    ("axes.accessattempt", "cleanup_expired_attempts"): Action(NOBODY),
    **{
        (label, "delete_selected"): Action(pages.delete, DELETE, proof="confirms")
        for label, pages in ADMIN_PAGES.items()
    },
}

# Admin routes that are not a model's standard pages, and what a merchant's staff get there.
ADMIN_SITE_ROUTES: dict[str, str] = {
    "admin:index": "own models only",
    "admin:login": "redirects a logged-in user",
    "admin:logout": "ends the caller's own session",
    "admin:password_change": "the caller's own password",
    "admin:password_change_done": "the caller's own password",
    "admin:jsi18n": "no data",
    "admin:autocomplete": "only rows the user may view in the target model's admin",
    "admin:view_on_site": "404: no model has a public page to send to",
    "admin:app_list": "only apps with a model the user may view",
    "admin:<catch-all>": "404",
    "admin:payments_payment_refund": "owners of the payment's merchant only",
    "admin:otp_totp_totpdevice_config": "platform only",
    "admin:auth_user_password_change": "platform only",
    "admin:otp_totp_totpdevice_qrcode": "platform only",
}
MODEL_PAGES = ("changelist", "add", "history", "delete", "change")

# POS pages and API endpoints, each with what it means for someone of another merchant.
POS_ROUTES: dict[str, str] = {
    "redemption:pos": "the own counter only; a foreign receipt id shows nothing",
    "redemption:pos-login": "redirects a logged-in user",
    "redemption:pos-logout": "ends the caller's own session",
    "redemption:pos-location": "only places where the user holds a membership",
    "redemption:pos-lookup": "a foreign code is not found",
    "redemption:pos-redeem": "a foreign code is not found; nothing is redeemed",
    "redemption:pos-reverse": "a foreign redemption is not found; nothing is reversed",
}
API_ROUTES: dict[str, str] = {
    "redemption:api-voucher": "a foreign code is not found",
    "redemption:api-voucher-redeem": "a foreign code is not found; nothing is redeemed",
    "redemption:api-voucher-holds": "a foreign code is not found; nothing is held",
    "redemption:api-voucher-transactions": "a foreign code is not found",
    "redemption:api-redemption-reverse": "a foreign redemption is not found; nothing is reversed",
    "redemption:api-hold-capture": "a foreign hold is not found; nothing is captured",
    "redemption:api-hold": "a foreign hold is not found; nothing is released",
    "redemption:api-schema": "no merchant data",
    "redemption:api-docs": "no merchant data",
    "redemption:<catch-all>": "404 in JSON",
}

# Users of Alpha, by their role at Beta (None: a user of another merchant only).
PERSONAS: dict[str, tuple[str, str | None]] = {
    "owner_of_alpha_only": (OWNER, None),
    "manager_of_alpha_cashier_of_beta": (MANAGER, CASHIER),
    "owner_of_alpha_cashier_of_beta": (OWNER, CASHIER),
    "owner_of_alpha_manager_of_beta": (OWNER, MANAGER),
}


def persona(world: World, name: str):
    at_alpha, at_beta = PERSONAS[name]
    roles = [(world.alpha.merchant, at_alpha)]
    if at_beta is not None:
        roles.append((world.beta.merchant, at_beta))
    return user_with(*roles), at_beta


CATCH_ALL_VIEWS = {
    "admin:django.contrib.admin.sites.catch_all_view": "admin:<catch-all>",
    "redemption:redemption.api_docs.api_not_found": "redemption:<catch-all>",
}


class RecordingClient(Client):
    """A test client that notes each route it reached, so a walk can prove it covered every expectation."""

    def __init__(self, **defaults: Any) -> None:
        super().__init__(**defaults)
        self.walked: set[str] = set()

    def request(self, **request: Any) -> Any:
        response = super().request(**request)
        match = getattr(response, "resolver_match", None)
        if match is not None:
            self.walked.add(CATCH_ALL_VIEWS.get(match.view_name, match.view_name))
        return response


def admin_client(user) -> RecordingClient:
    # As the existing admin tests log staff in; none of these users has a second factor or must have one.
    client = RecordingClient()
    client.force_login(user)
    return client


def model_admins() -> dict[str, Any]:
    return {model._meta.label_lower: model_admin for model, model_admin in admin.site._registry.items()}


def row_of(world: World, label: str, side: Side) -> Any:
    return world.platform[label] if ADMIN_PAGES[label].platform else side.row(label)


def url(label: str, page: str, *args: Any) -> str:
    app, model = label.split(".")
    return reverse(f"admin:{app}_{model}_{page}", args=args)


def allowed(roles: tuple[str, ...], role: str | None) -> bool:
    return role is not None and role in roles


def error_messages(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request) if message.level_tag == "error"]


# -- the registry has an expectation for everything ---------------------------------------------------------------


def _routes(patterns: list[Any], namespace: str = "", prefix: str = "") -> list[str]:
    """Every route as "namespace:name"; an unnamed one as "namespace:<its full pattern>"."""
    found: list[str] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace or "") if part)
            found += _routes(pattern.url_patterns, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append(f"{namespace}:{pattern.name or '<' + prefix + str(pattern.pattern) + '>'}")
    return found


CATCH_ALLS = {"admin:<admin/(?P<url>.*)$>": "admin:<catch-all>", "redemption:<api/v1/^.*$>": "redemption:<catch-all>"}


def test_every_admin_action_and_route_has_an_expectation():
    admins = model_admins()
    assert set(admins) == set(ADMIN_PAGES), "every registered model needs an entry in ADMIN_PAGES"

    declared = {
        (label, name) for label, model_admin in admins.items() for _func, name, _d in model_admin._get_base_actions()
    }
    assert declared == set(ADMIN_ACTIONS), "every admin action needs an entry in ADMIN_ACTIONS"

    standard = {f"admin:{label.replace('.', '_')}_{page}" for label in admins for page in MODEL_PAGES}
    routes = [CATCH_ALLS.get(route, route) for route in _routes(get_resolver().url_patterns)]
    # Each model's change page is also reached by an unnamed redirect from its bare id.
    bare_ids = {f"admin:<admin/{label.replace('.', '/')}/<path:object_id>/>" for label in admins}
    admin_routes = {route for route in routes if route.startswith("admin:")}
    assert bare_ids <= admin_routes
    assert admin_routes - standard - bare_ids == set(ADMIN_SITE_ROUTES)

    counter_routes = {route for route in routes if route.startswith("redemption:")}
    assert counter_routes == set(POS_ROUTES) | set(API_ROUTES)


# -- (a) and (b): admin pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PERSONAS)
def test_admin_pages_of_beta_rows_answer_to_the_role_at_beta(world, name):
    user, at_beta = persona(world, name)
    at_alpha = PERSONAS[name][0]
    client = admin_client(user)
    problems: list[str] = []

    def expect(condition: bool, text: str) -> None:
        if not condition:
            problems.append(text)

    for label, pages in ADMIN_PAGES.items():
        row = row_of(world, label, world.beta)
        may_view = not pages.platform and allowed(pages.view, at_beta)
        may_enter = not pages.platform and (allowed(pages.view, at_alpha) or may_view)
        before = fingerprint()

        listing = client.get(url(label, "changelist"))
        if may_enter:
            shown = {item.pk for item in listing.context["cl"].result_list} if listing.status_code == 200 else set()
            expect(listing.status_code == 200, f"{label} changelist: {listing.status_code}")
            expect((row.pk in shown) == may_view, f"{label} changelist shows Beta's row: {row.pk in shown}")
        else:
            expect(listing.status_code == 403, f"{label} changelist: {listing.status_code}, expected 403")

        hidden = 403 if pages.platform else 404
        for page in ("change", "history"):
            response = client.get(url(label, page, row.pk))
            expect(response.status_code == (200 if may_view else hidden), f"{label} {page}: {response.status_code}")
        change_page = client.get(url(label, "change", row.pk))
        if may_view:
            may_change = allowed(pages.change, at_beta)
            expect(
                change_page.context["has_change_permission"] == may_change,
                f"{label} change page editable: {change_page.context['has_change_permission']}",
            )
        if not (may_view and allowed(pages.change, at_beta)):
            posted = client.post(url(label, "change", row.pk), {})
            expect(posted.status_code in (403, 404), f"{label} change POST: {posted.status_code}")

        may_delete = not pages.platform and allowed(pages.delete, at_beta)
        refused_delete = 403 if (may_view or pages.platform) else 404
        response = client.get(url(label, "delete", row.pk))
        expect(
            response.status_code == (200 if may_delete else refused_delete), f"{label} delete: {response.status_code}"
        )
        if not may_delete:
            posted = client.post(url(label, "delete", row.pk), {"post": "yes"})
            expect(posted.status_code == refused_delete, f"{label} delete POST: {posted.status_code}")

        may_add = not pages.platform and (allowed(pages.add, at_alpha) or allowed(pages.add, at_beta))
        add_page = client.get(url(label, "add"))
        expect(add_page.status_code == (200 if may_add else 403), f"{label} add: {add_page.status_code}")
        if may_add and "merchant" in add_page.context["adminform"].form.fields:
            choices = set(add_page.context["adminform"].form.fields["merchant"].queryset)
            expect(
                (world.beta.merchant in choices) == allowed(pages.add, at_beta),
                f"{label} add offers Beta: {world.beta.merchant in choices}",
            )

        content_type = ContentType.objects.get_for_model(type(row))
        on_site = client.get(reverse("admin:view_on_site", args=[content_type.pk, row.pk]))
        expect(on_site.status_code == 404, f"{label} view on site: {on_site.status_code}")

        changed = changed_tables(before)
        expect(changed == [], f"{label}: pages changed {changed}")
    assert problems == []


@pytest.mark.parametrize("name", PERSONAS)
def test_admin_site_routes_show_nothing_of_beta_beyond_the_role_there(world, name):
    user, at_beta = persona(world, name)
    client = admin_client(user)
    beta = world.beta
    before = fingerprint()

    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    apps_shown = {app["app_label"] for app in index.context["app_list"]}
    assert apps_shown == {"merchants", "shop", "vouchers", "payments", "delivery", "redemption"}
    for app_label in ("auth", "otp_totp", "otp_static", "axes"):
        assert client.get(reverse("admin:app_list", args=[app_label])).status_code == 404
    assert client.get(reverse("admin:app_list", args=["shop"])).status_code == 200
    assert client.get(reverse("admin:login")).status_code == 302
    assert client.get(reverse("admin:password_change")).status_code == 200
    assert client.get(reverse("admin:password_change_done")).status_code == 200
    assert client.get(reverse("admin:jsi18n")).status_code == 200

    # Autocomplete answers from the target model's admin: only rows the user may view there, and no users at all
    def autocomplete(app_label: str, model_name: str, field_name: str) -> Any:
        query = {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": ""}
        return client.get(reverse("admin:autocomplete"), query)

    visible = {str(world.alpha.merchant.pk)} | ({str(beta.merchant.pk)} if at_beta in OM else set())
    for source in (("merchants", "location", "merchant"), ("merchants", "staffmembership", "merchant")):
        answer = autocomplete(*source)
        assert answer.status_code == 200
        assert {item["id"] for item in answer.json()["results"]} == visible
    locations = autocomplete("redemption", "apitoken", "location")
    assert {item["id"] for item in locations.json()["results"]} == {
        str(side.location.pk) for side in (world.alpha, beta) if str(side.merchant.pk) in visible
    }
    assert autocomplete("merchants", "staffmembership", "user").status_code == 403
    assert client.get("/admin/no/such/page/").status_code == 404
    voucher_type = ContentType.objects.get_for_model(beta.voucher)
    assert client.get(reverse("admin:view_on_site", args=[voucher_type.pk, beta.voucher.pk])).status_code == 404
    device = world.platform["otp_totp.totpdevice"]
    for route in ("admin:otp_totp_totpdevice_config", "admin:otp_totp_totpdevice_qrcode"):
        assert client.get(reverse(route, args=[device.pk])).status_code == 403
    # Nobody but platform staff sets another login's password, not even of their own merchant's staff
    for login in (world.platform["auth.user"], beta.staff.user, world.alpha.staff.user):
        password_page = reverse("admin:auth_user_password_change", args=[login.pk])
        assert client.get(password_page).status_code == 403
        assert (
            client.post(password_page, {"password1": "N3w-pass-phrase", "password2": "N3w-pass-phrase"}).status_code
            == 403
        )

    # The refund page: owners of Beta only; a row not visible at all is not found
    refund = reverse("admin:payments_payment_refund", args=[beta.payment.pk])
    expected = 200 if at_beta == OWNER else (403 if at_beta == MANAGER else 404)
    assert client.get(refund).status_code == expected
    if at_beta != OWNER:
        assert client.post(refund, {"amount": "100", "reason": "mine"}).status_code == expected
    assert changed_tables(before) == []

    # Logging out ends only this session
    other_session = admin_client(user)
    assert client.post(reverse("admin:logout")).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302
    assert other_session.get(reverse("admin:index")).status_code == 200
    assert client.walked >= set(ADMIN_SITE_ROUTES)


# -- (a) and (b): admin actions -------------------------------------------------------------------------------------


def run_action(client: Client, label: str, name: str, row: Any, fields: dict[str, str]) -> Any:
    data = {"action": name, ACTION_CHECKBOX_NAME: [row.pk], "select_across": "0", "index": "0", **fields}
    return client.post(url(label, "changelist"), data)


def action_target(world: World, label: str, action: Action, side: Side) -> Any:
    if ADMIN_PAGES[label].platform:
        return world.platform[label]
    return action.target(side) if action.target else side.row(label)


@pytest.mark.parametrize("name", PERSONAS)
def test_no_admin_action_changes_a_beta_row_without_the_role_at_beta(world, name):
    user, at_beta = persona(world, name)
    client = admin_client(user)
    problems = []
    for (label, action_name), action in ADMIN_ACTIONS.items():
        if allowed(action.roles, at_beta) and not ADMIN_PAGES[label].platform:
            continue  # allowed: proven in test_each_admin_action_acts_for_the_role_at_the_rows_merchant
        row = action_target(world, label, action, world.beta)
        before = fingerprint()
        first = run_action(client, label, action_name, row, {})
        applied = run_action(client, label, action_name, row, action.fields)
        changed = changed_tables(before)
        if changed:
            problems.append(f"{label} {action_name} changed {changed}")
        for response in (first, applied):
            if response.status_code not in (200, 302, 403):
                problems.append(f"{label} {action_name}: {response.status_code}")
            if response.status_code == 200 and b"thief@example.com" in response.content:
                problems.append(f"{label} {action_name}: form for a foreign row")
    assert problems == []


# Each allowed action, run by a user who holds its role at Beta and is only a cashier at Alpha: it acts on Beta's row.
POSITIVE = [key for key, action in ADMIN_ACTIONS.items() if action.roles and not ADMIN_PAGES[key[0]].platform]


@pytest.mark.parametrize(("label", "action_name"), POSITIVE, ids=[f"{label}-{name}" for label, name in POSITIVE])
def test_each_admin_action_acts_for_the_role_at_the_rows_merchant(world, label, action_name):
    action = ADMIN_ACTIONS[(label, action_name)]
    role = MANAGER if MANAGER in action.roles else OWNER
    user = user_with((world.alpha.merchant, CASHIER), (world.beta.merchant, role))
    client = admin_client(user)
    row = action_target(world, label, action, world.beta)
    before = fingerprint()
    first = run_action(client, label, action_name, row, {})
    assert error_messages(first) == []
    if action.proof == "confirms":
        assert first.status_code == 200
        assert first.context["queryset"].get().pk == row.pk
    else:
        run_action(client, label, action_name, row, action.fields)
        assert changed_tables(before) != []
    # And the same action on Alpha's row, where the user is a cashier, changes nothing
    alpha_row = action_target(world, label, action, world.alpha)
    before = fingerprint()
    run_action(client, label, action_name, alpha_row, {})
    run_action(client, label, action_name, alpha_row, action.fields)
    assert changed_tables(before) == []


def test_a_mixed_selection_is_refused_whole_with_the_merchant_named(world):
    user = user_with((world.alpha.merchant, OWNER), (world.beta.merchant, MANAGER))
    client = admin_client(user)
    before = fingerprint()
    payments = [world.alpha.payment.pk, world.beta.payment.pk]
    response = client.post(
        url("payments.payment", "changelist"),
        {"action": "refund_in_full", ACTION_CHECKBOX_NAME: payments, "select_across": "0", "index": "0"},
    )
    assert changed_tables(before) == []
    [message] = error_messages(response)
    assert "Beta" in message
    assert "Alpha" not in message


# -- POS pages ------------------------------------------------------------------------------------------------------


def pos_client(user, merchant: Merchant, side: Side) -> RecordingClient:
    client = RecordingClient()
    client.force_login(user)
    response = client.post(reverse("redemption:pos-location"), {"place": f"{merchant.pk}:{side.location.pk}"})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("name", ["cashier_of_alpha_only", "manager_of_alpha_cashier_of_beta"])
def test_pos_pages_at_alpha_show_and_change_nothing_of_beta(world, name):
    alpha, beta = world.alpha, world.beta
    roles = (
        [(alpha.merchant, CASHIER)]
        if name == "cashier_of_alpha_only"
        else [(alpha.merchant, MANAGER), (beta.merchant, CASHIER)]
    )
    user = user_with(*roles)
    client = pos_client(user, alpha.merchant, alpha)
    before = fingerprint()

    page = client.get(reverse("redemption:pos"))
    assert page.status_code == 200
    assert alpha.location.name in page.content.decode()
    assert b"beta-sale" not in page.content
    receipt = client.get(reverse("redemption:pos"), {"receipt": beta.redemption.pk})
    assert beta.voucher.display_code not in receipt.content.decode()

    lookup = client.post(reverse("redemption:pos-lookup"), {"code": beta.voucher.code})
    assert lookup.status_code == 404
    assert beta.voucher.display_code not in lookup.content.decode()
    redeem = client.post(reverse("redemption:pos-redeem"), {"code": beta.voucher.code, "amount": "1.00"})
    assert redeem.status_code == 404
    reverse_url = reverse("redemption:pos-reverse", args=[beta.redemption.pk])
    assert client.get(reverse_url).status_code == 404
    assert client.post(reverse_url).status_code == 404
    assert client.get(reverse("redemption:pos-login")).status_code == 302

    # The place list offers Beta's counter only to Beta's cashier; choosing it otherwise keeps the session away
    places = client.get(reverse("redemption:pos-location")).content.decode()
    assert (beta.location.name in places) == (name != "cashier_of_alpha_only")
    client.post(reverse("redemption:pos-location"), {"place": f"{beta.merchant.pk}:{beta.location.pk}"})
    if name == "cashier_of_alpha_only":
        assert client.post(reverse("redemption:pos-lookup"), {"code": beta.voucher.code}).status_code == 404
    assert changed_tables(before) == []

    other_session = pos_client(user, alpha.merchant, alpha)
    assert client.post(reverse("redemption:pos-logout")).status_code == 302
    assert client.walked >= set(POS_ROUTES)
    assert client.get(reverse("redemption:pos"))["Location"].startswith(reverse("redemption:pos-login"))
    assert other_session.get(reverse("redemption:pos")).status_code == 200


# -- API endpoints --------------------------------------------------------------------------------------------------


def test_api_with_alphas_token_finds_and_changes_nothing_of_beta(world):
    alpha, beta = world.alpha, world.beta
    client = RecordingClient(enforce_csrf_checks=True)
    headers = {"authorization": f"Bearer {alpha.secret}"}
    counter = iter(range(1000))

    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        send = getattr(client, method)
        extra = {**headers, "idempotency-key": f"tenancy-{next(counter)}"} if method != "get" else headers
        if body is None:
            response = send(f"/api/v1/{path}", headers=extra)
        else:
            response = send(f"/api/v1/{path}", data=json.dumps(body), content_type="application/json", headers=extra)
        return response.status_code, (json.loads(response.content) if response.content else None)

    before = fingerprint()
    code = beta.voucher.code
    money = {"amount": 100, "currency": beta.voucher.currency}
    answers = {
        "api-voucher": call("get", f"vouchers/{code}"),
        "api-voucher-redeem": call("post", f"vouchers/{code}/redeem", money),
        "api-voucher-holds": call("post", f"vouchers/{code}/holds", money),
        "api-voucher-transactions": call("get", f"vouchers/{code}/transactions"),
        "api-redemption-reverse": call("post", f"redemptions/{beta.redemption.pk}/reverse", {}),
        "api-hold-capture": call("post", f"holds/{beta.hold.pk}/capture", money),
        "api-hold": call("delete", f"holds/{beta.hold.pk}"),
        "<catch-all>": call("get", "merchants/beta"),
    }
    for route, (status, body) in answers.items():
        assert status == 404, route
        assert body["code"] == "not_found", route
        assert beta.voucher.display_code not in json.dumps(body), route
    assert changed_tables(before) == []

    for path in ("schema/", "docs/"):
        response = client.get(f"/api/v1/{path}", headers=headers)
        assert response.status_code == 200
        assert b"beta" not in response.content.lower()
    # The same requests do reach Alpha's own rows: the walls, not broken routes, answered above
    assert call("get", f"vouchers/{alpha.voucher.code}")[0] == 200
    assert call("get", f"vouchers/{alpha.voucher.code}/transactions")[0] == 200
    assert client.walked >= set(API_ROUTES)
