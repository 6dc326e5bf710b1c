"""The public pages a new user opens first."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_home_admin_login_and_demo_storefront_answer(client):
    call_command("seed_demo", verbosity=0)
    home = client.get("/")
    assert home.status_code == 200
    assert b"/s/demo/" in home.content
    assert client.get("/admin/login/").status_code == 200
    storefront = client.get("/s/demo/")
    assert storefront.status_code == 200
    assert "Demo Spa" in storefront.content.decode()


def test_unknown_storefront_is_404(client):
    assert client.get("/s/no-such-shop/").status_code == 404


def test_pages_speak_german_when_asked(client):
    call_command("seed_demo", verbosity=0)
    response = client.get("/", headers={"accept-language": "de"})
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "de"
    assert '<html lang="de">' in response.content.decode()


def test_health_check_answers_for_any_host(client):
    response = client.get("/healthz", headers={"host": "10.0.0.7:8000"})
    assert response.status_code == 200
    assert response.content == b"ok\n"
