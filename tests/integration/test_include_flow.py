"""scripts/check-includes: the tree keeps to the data flow, and a backwards include is caught."""

import shutil
import subprocess
import sys

import pytest

from helpers import REPO_ROOT

CHECK = REPO_ROOT / "scripts" / "check-includes"


def run_check(root):
    return subprocess.run([sys.executable, str(CHECK), str(root)], capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def tree_copy(tmp_path):
    for d in ("src", "devices", "connectors"):
        shutil.copytree(REPO_ROOT / d, tmp_path / d)
    return tmp_path


def test_the_tree_keeps_to_the_flow():
    r = run_check(REPO_ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("planted, include, why", [
    # a device model that knows a sink
    ("devices/signal_model.cpp", "connectors/kafka/kafka_connector.hpp", "devices includes"),
    # a connector that knows what an anomaly is
    ("connectors/mqtt/mqtt_connector.cpp", "src/config/kinds.hpp", "connectors/<name> includes"),
    # the lowest layer reaching up
    ("src/core/rng.cpp", "src/engine/engine.hpp", "src/core includes"),
    # the CLI reaching into one connector past the registry
    ("src/cli/cli.cpp", "connectors/mqtt/mqtt_options.hpp", "src/cli includes"),
])
def test_a_planted_backwards_include_fails_naming_file_and_line(tree_copy, planted, include, why):
    path = tree_copy / planted
    lines = path.read_text().splitlines()
    lines.insert(1, f'#include "{include}"')
    path.write_text("\n".join(lines) + "\n")
    r = run_check(tree_copy)
    assert r.returncode == 1
    assert f"{planted}:2: {why} {include}" in r.stdout, r.stdout
