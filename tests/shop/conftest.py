"""Fixtures for shop tests: the German catalogues of the shop and payments apps, compiled for the test run."""

from pathlib import Path

import pytest
from django.utils.translation import trans_real

from config.compilemessages import compile_all

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def german_catalogues() -> None:
    # The project's compile step covers locale/ only; these apps keep their catalogues beside the app.
    compile_all(ROOT / "shop" / "locale")
    compile_all(ROOT / "payments" / "locale")
    # Catalogues loaded before the compile would hide the new .mo files: start over, as Django's reloader does.
    trans_real._translations = {}
    trans_real._default = None
