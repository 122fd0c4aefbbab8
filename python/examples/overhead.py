"""What listening costs: the quickstart run by `segsim run` (C++) and from Python with nothing
registered, with a "drop" listener, and with a sampled one. Prints the median kernel wall time
(run_wall_seconds: the event loop only, not start-up or writing) of N runs each.

    . build/default/activate
    /usr/bin/python3 python/examples/overhead.py [--runs 5] [--duration 1s]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

import segsim

QUICKSTART = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "quickstart.yaml"


def cxx_run(directory, duration):
    out = os.path.join(directory, "cxx.h5")
    binary = os.environ.get("SEGSIM_BIN") or shutil.which("segsim")
    subprocess.run([binary, "run", str(QUICKSTART), "-o", out, "--quiet", "--set", f"duration={duration}"], check=True)
    return segsim.Results(out).meta()["wall"]["run_wall_seconds"]


def python_run(directory, duration, listen):
    sim = segsim.Simulation(segsim.Scenario.load(QUICKSTART, [f"duration={duration}"]),
                            output=os.path.join(directory, "py.h5"))
    count = [0]

    def on_drop(record):
        count[0] += 1

    if listen is not None:
        sim.on("drop", on_drop, every=listen)
    sim.run()
    return sim.finish().run_summary["wall_seconds"], count[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", default="1s")
    args = parser.parse_args()
    cases = [("segsim run (C++)", None), ("Python, nothing registered", "none"),
             ('Python, on("drop", f)', 1), ('Python, on("drop", f, every=100)', 100)]
    times = {name: [] for name, _ in cases}
    delivered = {}
    with tempfile.TemporaryDirectory() as directory:
        for _ in range(args.runs):  # interleaved, so that machine load affects every case alike
            for name, listen in cases:
                if listen is None:
                    times[name].append(cxx_run(directory, args.duration))
                else:
                    seconds, delivered[name] = python_run(directory, args.duration, None if listen == "none" else listen)
                    times[name].append(seconds)
    base = statistics.median(times[cases[0][0]])
    print(f"{'how':40} {'median s':>9} {'vs C++':>7} {'records':>8}")
    for name, _ in cases:
        median = statistics.median(times[name])
        print(f"{name:40} {median:9.3f} {median / base:7.3f} {delivered.get(name, ''):>8}")


if __name__ == "__main__":
    main()
