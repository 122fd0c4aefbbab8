"""Sweep the quickstart's VMs per host (web VMs) and web->app load with `segsim sweep`; write the report.

    . build/default/activate        # puts segsim on PATH
    /usr/bin/python3 python/examples/sweep_report.py [-o out/sweep]
"""

import argparse
from pathlib import Path

import segsim
import segsim.report

QUICKSTART = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "quickstart.yaml"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="out/sweep")
    args = parser.parse_args()

    # The web group (topology.vms.0) is spread round-robin over the 4 hosts: 16 VMs = 4 per host.
    grid = {"topology.vms.0.count": [16, 64, 160], "traffic.0.load": [0.2, 0.6]}
    sweep = segsim.Sweep.run(QUICKSTART, grid, output_dir=args.output, overrides=["duration=100ms"], jobs=2)
    points = sweep.points()
    print(points[["point", *grid, "status", "peak_core_utilization", "latency_p99_ns"]].to_string(index=False))

    report = f"{args.output}/report.html"
    segsim.report.main([sweep.path, "-o", report, "--p99-target", "500us", "--cpu-target", "0.5"])


if __name__ == "__main__":
    main()
