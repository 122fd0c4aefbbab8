"""TCP small queues in a whole run: the quickstart's TCP senders no longer overrun their vNICs
(docs/traffic.md). Turning the limit off (transport.tcp.small_queue_limit: 0B) brings the vNIC
drops and the retransmissions back, which shows the limit is what prevents them.

Run by ctest (label `scenario`) with SEGSIM_BIN; needs /usr/bin/python3 with h5py.
"""

import os
import subprocess
from pathlib import Path

import h5py
import pytest

SEGSIM = os.environ["SEGSIM_BIN"]
SOURCE = Path(os.environ["SEGSIM_SOURCE_DIR"])
QUICKSTART = SOURCE / "scenarios" / "examples" / "quickstart.yaml"


def run(tmp_path, limit):
    out = tmp_path / f"q-{limit}.h5"
    r = subprocess.run([SEGSIM, "run", str(QUICKSTART), "-o", str(out), "--quiet", "--set", "duration=300ms",
                        "--set", f"transport.tcp.small_queue_limit={limit}"], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    with h5py.File(out, "r") as f:
        d = f["drops"]
        reasons = [x.decode() if isinstance(x, bytes) else str(x) for x in d["reason"][()]]
        vnic_drops = int(sum(n for r_, n in zip(reasons, d["packets"][()]) if r_ == "vnic_queue_full"))
        flows = f["flows"]
        tcp = flows["protocol"][()] == 6
        sent = int(flows["packets_sent"][()][tcp].sum())
        retransmitted = int(flows["retransmissions"][()][tcp].sum())
    return vnic_drops, retransmitted / sent


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("tsq")
    return {"default": run(d, "128KiB"), "off": run(d, "0B")}


def test_tcp_does_not_overrun_the_vnics(runs):
    vnic_drops, retransmitted = runs["default"]
    assert vnic_drops == 0  # quickstart's traffic is all TCP
    assert retransmitted < 0.03  # what is left: fabric queue drops


def test_without_the_limit_the_vnics_overflow(runs):
    vnic_drops, retransmitted = runs["off"]
    assert vnic_drops > 100
    assert retransmitted > 3 * runs["default"][1]
