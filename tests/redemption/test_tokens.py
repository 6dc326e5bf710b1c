"""API tokens: the command, the admin (secret shown once, revoke, merchant walls), and hashed storage."""

from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.test import Client

from merchants.models import Role
from redemption.models import ApiToken, hash_token
from tests.factories import TEST_PASSWORD, StaffMembershipFactory, UserFactory
from tests.redemption.conftest import Api, issue

pytestmark = pytest.mark.django_db


def run_command(*args: str) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_command_prints_the_token_alone_on_its_last_line_and_stores_only_its_hash(shop):
    output = run_command("--merchant", shop.merchant.slug, "--location", "front", "--scope", "vouchers:read")
    secret = output.strip().splitlines()[-1]
    token = ApiToken.objects.get()
    assert token.secret_hash == hash_token(secret)
    assert secret not in {token.secret_hash, token.prefix, token.name}
    assert (token.location, token.scopes) == (shop.front, ["vouchers:read"])
    voucher = issue(shop)
    assert Api(Client(), secret).get(f"vouchers/{voucher.code}").status == 200
    assert Api(Client(), secret).post(f"vouchers/{voucher.code}/redeem", {"amount": 1, "currency": "EUR"}).status == 403


def test_command_defaults_to_every_scope_and_refuses_unknown_names(shop):
    run_command("--merchant", shop.merchant.slug)
    assert sorted(ApiToken.objects.get().scopes) == ["redemptions:write", "vouchers:read"]
    with pytest.raises(CommandError):
        run_command("--merchant", "nope")
    with pytest.raises(CommandError):
        run_command("--merchant", shop.merchant.slug, "--location", "nowhere")


def manager_client(shop) -> tuple[Client, object]:
    membership = StaffMembershipFactory(merchant=shop.merchant, role=Role.MANAGER)
    client = Client()
    client.login(username=membership.user.username, password=TEST_PASSWORD)
    return client, membership.user


def test_admin_creates_a_token_and_shows_it_once(shop):
    client, _user = manager_client(shop)
    response = client.post(
        "/admin/redemption/apitoken/add/",
        {"merchant": shop.merchant.pk, "location": shop.front.pk, "name": "Till 1", "scopes": ["vouchers:read"]},
    )
    assert response.status_code == 302
    token = ApiToken.objects.get()
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    secret = next(word for message in shown for word in message.split() if word.startswith("vsk_"))
    assert token.secret_hash == hash_token(secret)
    first_view = client.get(response.url).content.decode()
    second_view = client.get(response.url).content.decode()
    assert secret in first_view
    assert secret not in second_view


def test_admin_revokes_and_walls_other_merchants(shop, foreign_shop):
    client, _user = manager_client(shop)
    run_command("--merchant", shop.merchant.slug)
    run_command("--merchant", foreign_shop.merchant.slug)
    mine = ApiToken.objects.get(merchant=shop.merchant)
    foreign = ApiToken.objects.get(merchant=foreign_shop.merchant)
    listing = client.get("/admin/redemption/apitoken/").content.decode()
    assert mine.prefix in listing
    assert foreign.prefix not in listing
    assert client.get(f"/admin/redemption/apitoken/{foreign.pk}/change/").status_code == 404
    client.post(
        "/admin/redemption/apitoken/",
        {"action": "revoke", "_selected_action": [mine.pk, foreign.pk]},
    )
    mine.refresh_from_db()
    foreign.refresh_from_db()
    assert mine.revoked_at is not None
    assert foreign.revoked_at is None


def test_cashier_cannot_manage_tokens(shop):
    membership = StaffMembershipFactory(merchant=shop.merchant, role=Role.CASHIER, user=UserFactory(is_staff=True))
    client = Client()
    client.login(username=membership.user.username, password=TEST_PASSWORD)
    # A cashier's login has no staff flag (whatever it had before): the admin asks for another login
    response = client.get("/admin/redemption/apitoken/add/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
