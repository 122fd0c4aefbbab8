"""segsim.Scenario: loading, building from dicts/YAML, editing through overrides, diagnostics."""

import re

import pytest
import yaml

import segsim
from conftest import QUICKSTART


def test_load_applies_overrides():
    s = segsim.Scenario.load(QUICKSTART, overrides=["duration=200ms", "seed=9"])
    assert s.name == "quickstart"
    assert s.duration_ns == 200_000_000
    assert s.seed == 9
    assert s.hosts == ["h0", "h1", "h2", "h3"]
    assert len(s.vms) == 40 and s.vms[0] == "web-0"


def test_load_reports_every_problem_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(QUICKSTART.read_text().replace("duration: 1s", "duration: 1 parsec")
                   .replace("leaves: 2", "leafs: 2"))
    with pytest.raises(segsim.ScenarioError) as info:
        segsim.Scenario.load(bad)
    message = str(info.value)
    assert info.value.exit_code == 2
    lines = message.splitlines()
    assert len(lines) >= 2
    assert re.search(rf"{re.escape(str(bad))}:\d+:\d+: error: duration:", message)
    assert re.search(r"leafs.*did you mean 'leaves'", message)


def test_missing_file_is_a_scenario_error(tmp_path):
    with pytest.raises(segsim.ScenarioError, match="cannot read"):
        segsim.Scenario.load(tmp_path / "nope.yaml")


def test_set_edits_and_revalidates():
    s = segsim.Scenario.load(QUICKSTART)
    s.set("duration", "50ms").set("seed", 3)
    assert s.duration_ns == 50_000_000 and s.seed == 3
    assert s.to_dict()["traffic"][0]["load"] == 0.2
    s.set("traffic.0.load", 0.5)
    assert s.to_dict()["traffic"][0]["load"] == 0.5
    assert s.overrides == ["duration=50ms", "seed=3", "traffic.0.load=0.5"]


def test_bad_set_raises_and_leaves_the_scenario_unchanged():
    s = segsim.Scenario.load(QUICKSTART).set("duration", "50ms")
    with pytest.raises(segsim.ScenarioError, match=r"traffic\.0\.load=7: .*traffic\.0\.load"):
        s.set("traffic.0.load", 7)
    with pytest.raises(segsim.ScenarioError, match="index 9 is out of range"):
        s.set("traffic.9.load", 0.1)
    assert s.duration_ns == 50_000_000
    assert s.overrides == ["duration=50ms"]


def test_dict_round_trip_gives_the_same_scenario():
    original = segsim.Scenario.load(QUICKSTART, overrides=["duration=20ms"])
    document = original.to_dict()
    copy = segsim.Scenario.from_dict(document, base_directory=QUICKSTART.parent)
    assert copy.to_dict() == document
    assert (copy.duration_ns, copy.vms, copy.hosts) == (original.duration_ns, original.vms, original.hosts)


def test_from_dict_builds_a_scenario_and_reports_rendered_lines():
    document = {
        "name": "tiny", "duration": "10ms",
        "topology": {"fabric": {"kind": "star"}, "hosts": [{"name": "a"}, {"name": "b"}],
                     "vms": [{"name": "x", "host": "a"}, {"name": "y", "host": "b"}]},
    }
    s = segsim.Scenario.from_dict(document)
    assert (s.name, s.hosts, s.vms, s.duration_ns) == ("tiny", ["a", "b"], ["x", "y"], 10_000_000)
    document["topology"]["vms"][1]["host"] = "c"
    with pytest.raises(segsim.ScenarioError) as info:
        segsim.Scenario.from_dict(document)
    # The message points at the line of the rendered YAML that names the unknown host.
    rendered = yaml.safe_dump(document, sort_keys=False).splitlines()
    line = int(re.search(r"<dict>:(\d+):", str(info.value)).group(1))
    assert "host: c" in rendered[line - 1]
