"""Shared fixtures of the segsim Python package tests (ctest sets the environment; see
tests/python/CMakeLists.txt). By hand, from the source tree:
    . build/default/activate
    SEGSIM_BIN=build/default/cli/segsim SEGSIM_SOURCE_DIR=$PWD /usr/bin/python3 -m pytest tests/python
"""

import os
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("SEGSIM_SOURCE_DIR", Path(__file__).resolve().parents[2]))
QUICKSTART = SOURCE / "scenarios" / "examples" / "quickstart.yaml"


def segsim_bin():
    binary = os.environ.get("SEGSIM_BIN")
    if not binary:
        pytest.fail("set SEGSIM_BIN to the built segsim command")
    return binary


@pytest.fixture(scope="session")
def quickstart_result(tmp_path_factory):
    """A quickstart run (shortened to 300 ms) written by the C++ `segsim run`."""
    path = tmp_path_factory.mktemp("run") / "quickstart.h5"
    r = subprocess.run([segsim_bin(), "run", str(QUICKSTART), "-o", str(path), "--quiet", "--set", "duration=300ms"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return path


@pytest.fixture(scope="session")
def artifact_dir():
    """Where tests leave files worth looking at (screenshots): $SEGSIM_ARTIFACT_DIR or a temp dir."""
    directory = Path(os.environ.get("SEGSIM_ARTIFACT_DIR", "/tmp/segsim-python-artifacts"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory
