"""Settings for `make run` on a developer's machine: debug on, a fixed development key."""

from config.settings.base import *

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-local-development-key-not-for-production")
