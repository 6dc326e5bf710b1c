"""The world of the mixed-roles suite: two merchants with a row of every kind each, and rows of the platform."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import models
from django_otp.plugins.otp_static.models import StaticDevice

from merchants.services import two_factor_enrolment_start
from payments.models import StripeEvent
from tests.factories import UserFactory
from tests.tenancy.helpers import WEBHOOK_SECRET, World, make_side


@pytest.fixture
def world(db, settings, django_capture_on_commit_callbacks) -> World:
    # Demo payments: no Stripe key, events signed with this secret and fed to the webhook's own code.
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    cache.clear()
    alpha = make_side("alpha", "Alpha", django_capture_on_commit_callbacks)
    beta = make_side("beta", "Beta", django_capture_on_commit_callbacks)
    platform_user = UserFactory(username="platform@example.com", is_staff=True, is_superuser=True)
    attempt = {"user_agent": "test", "ip_address": "10.9.9.9", "username": "x@example.com", "http_accept": "*/*"}
    platform: dict[str, models.Model] = {
        "auth.user": platform_user,
        "auth.group": Group.objects.create(name="Support"),
        "payments.stripeevent": StripeEvent.objects.order_by("pk").first(),
        "otp_totp.totpdevice": two_factor_enrolment_start(user_id=platform_user.pk),
        "otp_static.staticdevice": StaticDevice.objects.create(user=platform_user, name="Backup codes"),
        "axes.accessattempt": AccessAttempt.objects.create(
            **attempt, path_info="/admin/login/", get_data="", post_data="", failures_since_start=1
        ),
        "axes.accesslog": AccessLog.objects.create(**attempt, path_info="/admin/login/"),
        "axes.accessfailurelog": AccessFailureLog.objects.create(**attempt, path_info="/admin/login/"),
    }
    yield World(alpha=alpha, beta=beta, platform=platform)
    cache.clear()
