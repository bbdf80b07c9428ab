import time
def test_slow(kafka_broker):
    time.sleep(60)
