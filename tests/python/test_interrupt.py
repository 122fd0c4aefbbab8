"""Ctrl-C during sim.run(): a child /usr/bin/python3 runs a long quickstart; the test sends it SIGINT
while the kernel runs and checks that KeyboardInterrupt comes out of run() promptly and that no
result file and no temporary file is left in the output directory."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import QUICKSTART

CHILD = textwrap.dedent("""
    import sys, time
    import segsim
    sim = segsim.Simulation(segsim.Scenario.load(sys.argv[1], overrides=["duration=60s"]), output=sys.argv[2])
    announced = []
    def progress(now, end, events, wall, rate):
        if not announced:  # the kernel is running: ready for the signal
            announced.append(1)
            print("running", flush=True)
    try:
        sim.run(progress=progress)
    except KeyboardInterrupt:
        print(f"interrupted {time.monotonic():.6f} at {sim.now}", flush=True)
        if sys.argv[3] == "reraise":
            raise
        sim.close()
        sys.exit(0)
    print("finished without interruption", flush=True)
    sys.exit(3)
""")


def run_and_interrupt(tmp_path, mode):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(QUICKSTART), str(out_dir / "run.h5"), mode],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert child.stdout.readline().strip() == "running"
        time.sleep(0.3)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return child.returncode, sent, stdout, stderr, sorted(p.name for p in out_dir.iterdir())


@pytest.mark.parametrize("mode", ["close", "reraise"])
def test_sigint_raises_keyboard_interrupt_promptly_and_leaves_no_file(tmp_path, mode):
    returncode, sent, stdout, stderr, left = run_and_interrupt(tmp_path, mode)
    words = stdout.split()
    assert words[0] == "interrupted", (stdout, stderr)
    # run() polls for signals every 200 ms of wall time; allow for a loaded machine.
    assert float(words[1]) - sent < 2.0
    assert 0 < int(words[3]) < 60 * 10**9  # stopped mid-run, in simulated time
    if mode == "close":
        assert returncode == 0, stderr
    else:
        # Uncaught KeyboardInterrupt: Python dies by SIGINT, the simulation is destroyed on the way.
        assert returncode == -signal.SIGINT, stderr
        assert "KeyboardInterrupt" in stderr
    assert left == []  # neither run.h5 nor a temporary next to it
