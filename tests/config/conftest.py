import pytest

from tests.accounts.factories import UserFactory


@pytest.fixture
def admin_client(client, db):
    """Signed in as a platform admin: health answers name each check."""
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client
