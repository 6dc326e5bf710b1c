"""Fixtures for payment tests: the fake Stripe server, demo payments, and posting signed events to the webhook."""

from tests.payments.helpers import demo_mode, fake_stripe, send  # noqa: F401  (fixtures of this directory)
