import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def staff(client):
    """The test client, logged in as a superuser editing the report in the admin."""
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "a-long-passphrase")
    client.force_login(user)
    return client
