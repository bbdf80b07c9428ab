"""Smoke tests of the kafka_broker fixture: produce, consume, and survive a restart."""

import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaException, Producer

MESSAGES = {f"message-{i}" for i in range(100)}


def consume_all(bootstrap: str, topic: str, expected: int, timeout: float = 60) -> list[str]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"smoke-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    values = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(values) < expected and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().retriable():
                    continue
                raise KafkaException(msg.error())
            values.append(msg.value().decode())
        # Anything beyond `expected` would be a duplicate; give it a moment to show up.
        extra = consumer.poll(1.0)
        if extra is not None and not extra.error():
            values.append(extra.value().decode())
    finally:
        consumer.close()
    return values


@pytest.fixture(scope="module")
def smoke_topic(kafka_broker) -> str:
    """A new topic (auto-created by the broker) holding the 100 MESSAGES."""
    topic = f"smoke-{uuid.uuid4().hex}"
    errors = []

    def on_delivery(err, _msg):
        if err is not None:
            errors.append(err)

    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap, "enable.idempotence": True})
    for value in sorted(MESSAGES):
        producer.produce(topic, value=value.encode(), on_delivery=on_delivery)
    assert producer.flush(60) == 0, "messages still undelivered after 60 s"
    assert errors == []
    return topic


def test_produce_and_consume(kafka_broker, smoke_topic):
    values = consume_all(kafka_broker.bootstrap, smoke_topic, len(MESSAGES))
    assert len(values) == len(MESSAGES)
    assert set(values) == MESSAGES


def test_messages_survive_restart(kafka_broker, smoke_topic):
    bootstrap = kafka_broker.bootstrap
    kafka_broker.restart()
    assert kafka_broker.bootstrap == bootstrap  # same ports after a restart
    assert kafka_broker.is_running()
    values = consume_all(kafka_broker.bootstrap, smoke_topic, len(MESSAGES))
    assert len(values) == len(MESSAGES)
    assert set(values) == MESSAGES
