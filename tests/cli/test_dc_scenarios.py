"""The bundled datacenter scenario dc-1k, shortened, runs end to end through `segsim run`.

dc-10k is deliberately not run here (minutes and over a GiB; see docs/performance.md,
"Datacenter scenarios"); it is only validated. Run by ctest (label `scenario`) with SEGSIM_BIN
pointing at the built command; needs Debian's /usr/bin/python3 with h5py.
"""

import os
import subprocess
from pathlib import Path

import h5py
import numpy as np

SEGSIM = os.environ["SEGSIM_BIN"]
EXAMPLES = Path(os.environ["SEGSIM_SOURCE_DIR"]) / "scenarios" / "examples"


def segsim(*args):
    return subprocess.run([SEGSIM, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_dc_1k_shortened_run_writes_a_result_file(tmp_path):
    out = tmp_path / "dc-1k.h5"
    r = segsim("run", EXAMPLES / "dc-1k.yaml", "--set", "duration=20ms", "-o", out, "--quiet")
    assert r.returncode == 0, r.stderr
    assert out.exists()
    with h5py.File(out, "r") as f:
        assert f["meta"].attrs["scenario_name"] in ("dc-1k", b"dc-1k")
        assert int(f["meta"].attrs["duration_ns"]) == 20_000_000
        vms_per_host = f["hosts/vms"][()]
        assert len(vms_per_host) == 50 and (vms_per_host == 20).all()
        outcomes = f["flows/outcome"][()]
        assert np.count_nonzero(outcomes == b"completed") > 0
        drops = dict(zip(f["drops/reason"][()], f["drops/packets"][()]))
        # The background all-to-all traffic on port 9000 matches no allow rule.
        assert drops[b"default_drop"] > 0
        assert f["meta/wall"].attrs["peak_rss_bytes"] > 0


def test_dc_10k_validates():
    r = segsim("validate", EXAMPLES / "dc-10k.yaml")
    assert r.returncode == 0, r.stderr
    assert "500 hosts, 10000 VMs" in r.stdout
