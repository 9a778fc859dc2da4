"""The worker survives kombu's restore of unacknowledged messages on a Redis
connection already closed (a broker loss), and says so in its log."""

import logging

from kombu import Connection

from config.celery import guard_restore_unacked


def test_restoring_on_a_lost_connection_is_logged_not_fatal(redis_broker_url, caplog):
    guard_restore_unacked()
    connection = Connection(redis_broker_url)
    channel = connection.channel()
    channel.qos._delivered["lost-tag"] = None
    # What closing a connection under a channel leaves it with.
    channel._pool = None
    channel.connection.client = None

    with caplog.at_level(logging.ERROR, logger="config.celery"):
        channel.qos.restore_unacked()

    assert "Broker connection lost before 1 unacknowledged message(s)" in caplog.text
    assert "the worker carries on" in caplog.text
    assert not channel.qos._delivered
