"""Settings for the test suite: fast password hashing, no outgoing email, quiet logs."""

from config.settings.base import *

SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-test-key")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = VAR_DIR / "test-media"
# Each test process keeps its own cache; tests that need a shared Redis say so.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tasks run inline unless a test starts a real worker (tests/workers.py).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]
# The fake Stripe server's Checkout Sessions (tests/fakes/stripe_server.py) live at this address.
CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append("https://checkout.stripe.test")
