"""The migration that made secrets mandatory mends webhooks stored without one."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.accounts.factories import MerchantFactory

BEFORE = [("webhooks", "0001_initial")]
AFTER = [("webhooks", "0002_secrets_and_retries")]


@pytest.mark.django_db(transaction=True)
def test_webhooks_without_a_secret_get_one_and_pending_deliveries_become_due():
    merchant = MerchantFactory()
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    webhook = old.get_model("webhooks", "Webhook").objects.create(
        merchant_id=merchant.pk, url="https://hooks.example/", secret="", events=[]
    )
    Delivery = old.get_model("webhooks", "Delivery")
    pending = Delivery.objects.create(
        webhook=webhook, event="image.classified", payload={}
    )
    done = Delivery.objects.create(
        webhook=webhook, event="image.classified", payload={}, status="succeeded"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    assert len(new.get_model("webhooks", "Webhook").objects.get().secret) == 64
    Delivery = new.get_model("webhooks", "Delivery")
    assert Delivery.objects.get(pk=pending.pk).next_attempt_at is not None
    assert Delivery.objects.get(pk=done.pk).next_attempt_at is None


@pytest.fixture(autouse=True)
def latest_schema_afterwards():
    """Leave the database with every migration applied, for the tests after."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
