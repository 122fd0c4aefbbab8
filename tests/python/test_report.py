"""segsim report: the HTML capacity-planning report of a run, through the Python module and the
`segsim report` command, rendered by headless Chromium (DOM, console, screenshot)."""

import os
import re
import shutil
import subprocess
import sys

import matplotlib.image
import pytest

from conftest import segsim_bin

RUN_SECTIONS = ["overview", "cpu", "connections", "rules", "latency", "drops"]
CHROMIUM = shutil.which("chromium")


def report(*args, via_cli=False):
    if via_cli:
        command = [segsim_bin(), "report", *map(str, args)]
    else:
        command = [sys.executable, "-m", "segsim.report", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def run_report(quickstart_result, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "quickstart.html"
    r = report(quickstart_result, "-o", out, "--p99-target", "1ms", "--cpu-target", "0.8")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"report: {out}"
    return out


def test_report_has_every_section_and_plot_inline(run_report):
    html = run_report.read_text()
    assert html.startswith("<!DOCTYPE html>")
    for section in RUN_SECTIONS:
        assert f'<section id="{section}">' in html
    assert html.count("<svg") == 5  # cpu, connections, rules (two panels, one figure), latency, drops
    # Self-contained: nothing is fetched from elsewhere.
    assert not re.search(r"<script|<link|<img|src=|url\((?!#)", html)  # url(#id): clip paths inside the page
    assert set(re.findall(r"https?://[^\"' ]+", html)) <= {"http://www.w3.org/2000/svg",
                                                            "http://www.w3.org/1999/xlink"}


def test_report_marks_targets_that_are_missed(quickstart_result, tmp_path):
    strict = tmp_path / "strict.html"
    assert report(quickstart_result, "-o", strict, "--p99-target", "1us", "--cpu-target", "0.001").returncode == 0
    html = strict.read_text()
    cpu = html[html.index('<section id="cpu">'):html.index('<section id="connections">')]
    assert "NO" in cpu  # the busiest cores are busier than 0.1% over the run
    latency = html[html.index('<section id="latency">'):html.index('<section id="drops">')]
    assert 'class="bad"' in latency  # every p99 is above 1 us


def test_segsim_report_command_writes_the_same_page(run_report, quickstart_result, tmp_path):
    out = tmp_path / "cli.html"
    r = report(quickstart_result, "-o", out, "--p99-target", "1ms", "--cpu-target", "0.8", via_cli=True)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == run_report.read_bytes()  # deterministic, whoever runs it


@pytest.mark.parametrize("via_cli", [False, True])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, via_cli):
    out = tmp_path / "r.html"
    not_hdf5 = tmp_path / "x.h5"
    not_hdf5.write_text("not a result")
    for args, message in (
            ([tmp_path / "missing.h5", "-o", out], "no such file"),
            ([not_hdf5, "-o", out], "not an HDF5 file"),
            ([not_hdf5, "-o", out, "--cpu-target", "2"], "not a fraction"),
            ([not_hdf5], "required: -o")):
        r = report(*args, via_cli=via_cli)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr
    assert sorted(os.listdir(tmp_path)) == ["x.h5"]


def chromium(*args):
    if CHROMIUM is None:
        pytest.fail("chromium is not installed (scripts/install-deps installs it)")
    return subprocess.run([CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--enable-logging=stderr",
                           "--v=0", *args], capture_output=True, text=True, timeout=120)


def console_messages(stderr):
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_console_capture_sees_a_deliberate_error(tmp_path):
    """The console check below can fail: a page that logs an error is caught."""
    page = tmp_path / "error.html"
    page.write_text('<!DOCTYPE html><p>x</p><script>console.error("deliberate")</script>')
    r = chromium("--dump-dom", page.as_uri())
    assert any("deliberate" in line for line in console_messages(r.stderr))


def test_chromium_renders_the_report(run_report, artifact_dir):
    r = chromium("--dump-dom", run_report.as_uri())
    assert r.returncode == 0, r.stderr
    dom = r.stdout
    for section in RUN_SECTIONS:
        assert re.search(rf'<section id="{section}"><h2>', dom)
    assert dom.count("<svg") == 5
    assert len(re.findall(r"<path", dom)) > 50  # the plots' lines and bars made it into the DOM
    assert console_messages(r.stderr) == []

    screenshot = artifact_dir / "report-quickstart.png"
    if screenshot.exists():
        screenshot.unlink()
    r = chromium(f"--screenshot={screenshot}", "--window-size=1200,4000", "--hide-scrollbars", run_report.as_uri())
    assert r.returncode == 0, r.stderr
    assert console_messages(r.stderr) == []
    image = matplotlib.image.imread(screenshot)
    assert image.shape[:2] == (4000, 1200)
    # Not a blank page: a good share of the pixels are not white (text, axes, lines, bars).
    not_white = (image[:, :, :3] < 0.9).any(axis=2).mean()
    assert not_white > 0.02
