"""Fixtures of the report tests: an admin client, and the real 2023 report loaded once per module."""

import pytest
from django.contrib.auth import get_user_model

from indicators.models import Edition
from tests.conftest import REPORT_FILE, data_files_load


@pytest.fixture
def staff(client):
    """The test client, logged in as a superuser editing the report in the admin."""
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "a-long-passphrase")
    client.force_login(user)
    return client


@pytest.fixture(scope="module")
def report_2023_loaded_once(module_transaction) -> None:
    data_files_load(REPORT_FILE)


@pytest.fixture
def report_2023(report_2023_loaded_once, db) -> Edition:
    """The real 2023 report, loaded once per module for the tests that only read it
    (see ``module_transaction`` in tests/conftest.py)."""
    return Edition.objects.get(year=2023)
