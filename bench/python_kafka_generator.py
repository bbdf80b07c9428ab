#!/usr/bin/env python3
"""A typical hand-written Python data generator: the baseline synthfeed replaces.

Same shape of messages as profiles/cold_chain.toml (device_id, seq, ts, three numeric fields),
random values from the standard library, json.dumps, confluent-kafka Producer with the same
producer properties synthfeed uses by default. Prints one JSON line of figures.

Usage: python_kafka_generator.py BOOTSTRAP TOPIC COUNT
"""
import json
import random
import sys
import time
from datetime import datetime, timedelta, timezone

from confluent_kafka import Producer


def main() -> int:
    bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "client.id": "python-generator",
        "enable.idempotence": True,
        "linger.ms": 20,
        "batch.size": 1000000,
        "compression.type": "lz4",
        "queue.buffering.max.messages": 1000000,
    })
    delivered = failed = 0

    def on_delivery(err, _msg):
        nonlocal delivered, failed
        if err:
            failed += 1
        else:
            delivered += 1

    devices = [f"reefer-{i:05d}" for i in range(2000)]
    seqs = [0] * len(devices)
    start_ts = datetime(2026, 1, 1, tzinfo=timezone.utc)
    rng = random.Random(42)
    started = time.perf_counter()
    for n in range(count):
        d = n % len(devices)
        ts = start_ts + timedelta(milliseconds=n // len(devices) * 1000 + d)
        message = {
            "device_id": devices[d],
            "seq": seqs[d],
            "ts": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "temp_c": round(4.0 + rng.gauss(0, 0.15), 1),
            "humidity_pct": round(85.0 + rng.gauss(0, 0.4), 1),
            "compressor_kw": round(2.2 + rng.gauss(0, 0.05), 2),
        }
        seqs[d] += 1
        payload = json.dumps(message, separators=(",", ":"))
        while True:
            try:
                producer.produce(topic, payload, key=devices[d], on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.005)
        if n % 1000 == 0:
            producer.poll(0)
    producer.flush()
    seconds = time.perf_counter() - started
    print(json.dumps({"messages": count, "delivered": delivered, "failed": failed,
                      "seconds": round(seconds, 3), "messages_per_second": round(count / seconds)}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
