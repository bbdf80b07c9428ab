"""Shared fixtures for the integration tests: a real Kafka broker and the synthfeed binary."""

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
KAFKA_BROKER_SCRIPT = REPO_ROOT / "scripts" / "kafka-broker"


class KafkaBroker:
    """A single-node KRaft broker run by scripts/kafka-broker, with its state in `dir`."""

    def __init__(self, dir: Path):
        self.dir = dir
        self.bootstrap = self._run("start", timeout=600)  # may include a cold jar fetch

    def _run(self, command: str, timeout: float) -> str:
        result = subprocess.run(
            [str(KAFKA_BROKER_SCRIPT), command, str(self.dir)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            # The script's watchdog stops the broker if this process dies without teardown.
            env={**os.environ, "SYNTHFEED_KAFKA_OWNER_PID": str(os.getpid())},
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"kafka-broker {command} {self.dir} failed ({result.returncode}):\n{result.stderr}"
            )
        return result.stdout.strip()

    def stop(self) -> None:
        """Stops the broker (SIGTERM, SIGKILL after 30 s); a no-op when it is not running."""
        self._run("stop", timeout=60)

    def restart(self) -> None:
        """Stops the broker if running and starts it again on the same ports and data."""
        self.bootstrap = self._run("restart", timeout=180)

    def is_running(self) -> bool:
        status = [str(KAFKA_BROKER_SCRIPT), "status", str(self.dir)]
        return subprocess.run(status, capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory):
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"))
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def synthfeed_bin() -> Path:
    path = REPO_ROOT / "build" / "release" / "synthfeed"
    if not path.is_file():
        pytest.fail(f"{path} is missing: build it with scripts/build release")
    return path
