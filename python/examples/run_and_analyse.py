"""Run the quickstart scenario from Python and analyse its result file with pandas.

    . build/default/activate
    /usr/bin/python3 python/examples/run_and_analyse.py [--duration 300ms] [-o out/quickstart-py.h5]
"""

import argparse
import os
from pathlib import Path

import segsim

QUICKSTART = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "quickstart.yaml"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="300ms")
    parser.add_argument("-o", "--output", default="out/quickstart-py.h5")
    args = parser.parse_args()
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)

    scenario = segsim.Scenario.load(QUICKSTART).set("duration", args.duration)
    sim = segsim.Simulation(scenario, output=args.output)
    sim.run(progress=True)
    results = sim.finish()

    summary = results.summary()
    print(f"{results.path}: {summary['flows_started']} flows, {summary['drops_total']} drops, "
          f"busiest core {summary['peak_core_utilization']:.1%}")

    flows = results.flows()
    print("\nflow completion time (ms) by outcome:")
    print((flows.groupby("outcome")["fct_ns"].describe(percentiles=[0.5, 0.99]) / 1e6).round(3))

    print("\nfailed flows by source tier -> destination tier:")
    failed = flows[flows["outcome"] != "completed"]
    tiers = failed["source_vm"].str.split("-").str[0] + " -> " + failed["destination_vm"].str.split("-").str[0]
    print(tiers.value_counts().to_string())

    cores = results.core_series()
    print("\nfirewall CPU per host (busiest core over any interval):")
    print(cores.groupby("host")["utilization"].agg(["mean", "max"]).round(4).to_string())

    drops = results.drops()
    print("\ndrops by reason:")
    print(drops[drops["packets"] > 0].sort_values("packets", ascending=False).to_string(index=False))

    rules = results.rules()
    print("\nhits per policy rule:")
    print(rules.groupby("policy_rule")[["hits", "bytes"]].sum().to_string())


if __name__ == "__main__":
    main()
