"""segsim.Scenario: a validated scenario, loaded from a file, YAML text or Python dicts, editable
with the same overrides `segsim run --set` takes. Validation is the C++ loader's: a bad scenario
raises ScenarioError whose message lists every problem as `file:line:column: error: field: message`.
"""

import os

import yaml

from ._native_loader import native, native_exception

ScenarioError = native_exception("ScenarioError")


def override_value(value):
    """A Python value as the YAML text of a `--set key=value` override. Strings go in as written
    (so "10Gbps", "0.5" and "[web, app]" mean what they mean on the command line)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False).strip()


class Scenario:
    """A validated scenario. Build one with load(), from_yaml() or from_dict(); edit with set()."""

    def __init__(self, text, display_name, base_directory, overrides=()):
        self._text = text
        self._display_name = display_name
        self._base_directory = str(base_directory)
        self._overrides = list(overrides)
        self._native, self.warnings = native().load_scenario_text(
            text, display_name, self._base_directory, self._overrides)

    @classmethod
    def load(cls, path, overrides=()):
        """Loads a scenario file; `overrides` are "path.to.key=value" strings as for --set."""
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as error:
            raise ScenarioError(f"{path}: cannot read the scenario: {error.strerror}") from None
        return cls(text, path, os.path.dirname(os.path.abspath(path)), overrides)

    @classmethod
    def from_yaml(cls, text, name="<yaml>", base_directory="."):
        """A scenario from YAML text; input files (CDFs, pcaps) resolve against base_directory."""
        return cls(text, name, os.path.abspath(base_directory))

    @classmethod
    def from_dict(cls, document, name="<dict>", base_directory="."):
        """A scenario from a dict shaped like the YAML file (docs/scenario.md); values with
        units are strings ("10Gbps", "500ms"). Diagnostics name lines of the rendered YAML
        (to_yaml() of the same dict shows them)."""
        return cls(yaml.safe_dump(document, sort_keys=False), name, os.path.abspath(base_directory))

    def set(self, key, value):
        """Sets `key` ("traffic.0.load", "duration") as `segsim run --set key=value` would and
        re-validates; on a bad value raises ScenarioError and leaves the scenario unchanged.
        Returns self, so edits chain."""
        overrides = self._overrides + [f"{key}={override_value(value)}"]
        self._native, self.warnings = native().load_scenario_text(
            self._text, self._display_name, self._base_directory, overrides)
        self._overrides = overrides
        return self

    def copy(self):
        return Scenario(self._text, self._display_name, self._base_directory, self._overrides)

    def to_yaml(self):
        """The scenario after every override, as YAML (what the result file records as effective_yaml)."""
        return self._native.effective_yaml

    def to_dict(self):
        """The effective scenario as plain dicts and lists; from_dict() of it gives the same scenario."""
        return yaml.safe_load(self._native.effective_yaml)

    overrides = property(lambda self: list(self._overrides))
    name = property(lambda self: self._native.name)
    description = property(lambda self: self._native.description)
    duration_ns = property(lambda self: self._native.duration_ns)
    seed = property(lambda self: self._native.seed)
    hosts = property(lambda self: list(self._native.hosts), doc="host names, in scenario order")
    vms = property(lambda self: list(self._native.vms), doc="VM names, in scenario order")

    def __repr__(self):
        return f"<segsim.Scenario {self.name!r}: {len(self.hosts)} hosts, {len(self.vms)} VMs, " \
               f"{self.duration_ns / 1e6:g} ms>"
