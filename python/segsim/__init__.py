"""segsim from Python: build, run, steer and analyse simulations of distributed firewalls.

    import segsim
    scenario = segsim.Scenario.load("scenarios/examples/quickstart.yaml", overrides=["duration=200ms"])
    sim = segsim.Simulation(scenario, output="run.h5")
    sim.on("drop", lambda record: print(record), every=100)
    sim.run(until="100ms", progress=True)
    results = sim.finish()                  # a segsim.Results
    print(results.flows().groupby("outcome").fct_ns.describe())

Scenario and Simulation need the native extension (segsim._native, built with the C++ tree);
Results, Sweep and the report are pure Python (h5py, pandas, matplotlib) and work without it.
docs/python.md has the whole API.
"""

from .results import Results, ResultsError
from .scenario import Scenario, ScenarioError
from .simulation import Simulation, SimulationError, annotation_kinds
from .sweep import Sweep

__all__ = [
    "Results",
    "ResultsError",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "SimulationError",
    "Sweep",
    "annotation_kinds",
]
