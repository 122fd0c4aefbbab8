"""segsim report: one self-contained HTML capacity-planning report (plots as inline SVG) from a
run's result file or a sweep's index file.

    /usr/bin/python3 -m segsim.report RUN.h5 -o report.html [--p99-target 1ms] [--cpu-target 0.8]
    segsim report DIR/index.h5 -o report.html          # the same, through the segsim command

Exit status: 0 written, 2 bad input (missing or foreign file, bad option); nothing is written
then (the page goes to a temporary file renamed into place when complete).
"""

import argparse
import os
import re
import sys
import tempfile

from .results import Results, ResultsError
from .sweep import Sweep, is_sweep_index

# NSX 3.2.x / 4.x configuration maximums (Broadcom KB 371437): 4,000 rules per vNIC, 120,000 per host.
RULES_PER_VNIC_LIMIT = 4000
RULES_PER_HOST_LIMIT = 120000

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ns|us|ms|s)$")
_SCALE = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


def parse_duration_ns(text):
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration (expected e.g. 500us, 1ms, 0.5s)")
    return int(round(float(match.group(1)) * _SCALE[match.group(2)]))


def fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a fraction in (0, 1] (expected e.g. 0.8)")
    return value


def positive_int(text):
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def build_parser():
    parser = argparse.ArgumentParser(prog="segsim report", description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="a run's result file or a sweep's index.h5")
    parser.add_argument("-o", "--output", required=True, help="the HTML file to write")
    parser.add_argument("--p99-target", type=parse_duration_ns, default=parse_duration_ns("1ms"), dest="p99_target_ns",
                        metavar="DURATION", help="p99 one-way latency target (default 1ms)")
    parser.add_argument("--cpu-target", type=fraction, default=0.8, metavar="FRACTION",
                        help="busiest-core utilization target, 0-1 (default 0.8)")
    parser.add_argument("--rules-per-vnic-limit", type=positive_int, default=RULES_PER_VNIC_LIMIT, metavar="N",
                        help=f"rules per vNIC limit (default {RULES_PER_VNIC_LIMIT}, NSX 3.2/4.x)")
    parser.add_argument("--rules-per-host-limit", type=positive_int, default=RULES_PER_HOST_LIMIT, metavar="N",
                        help=f"rules per host limit (default {RULES_PER_HOST_LIMIT}, NSX 3.2/4.x)")
    parser.add_argument("--title", help="page title (default: from the input)")
    return parser


def render(path, options):
    """The report's HTML for a result file or a sweep index; raises ResultsError on bad input."""
    from .report_html import page
    if is_sweep_index(path):
        from .report_sweep import sweep_sections
        sweep = Sweep(path)
        title = options.title or f"segsim sweep report: {', '.join(sweep.parameters())}"
        subtitle = f"{path}: {len(sweep.points())} points of {sweep.meta().get('scenario_path', '')}"
        return page(title, subtitle, sweep_sections(sweep, options))
    from .report_run import run_sections
    results = Results(path)
    meta = results.meta()
    title = options.title or f"segsim report: {meta.get('scenario_name', os.path.basename(path))}"
    return page(title, f"{path}", run_sections(results, options))


def write_atomically(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def main(argv=None):
    parser = build_parser()
    options = parser.parse_args(argv)  # exits 2 on bad usage
    try:
        html = render(options.input, options)
    except (ResultsError, KeyError) as error:
        print(f"segsim report: {error}", file=sys.stderr)
        return 2
    try:
        write_atomically(options.output, html)
    except OSError as error:
        print(f"segsim report: cannot write {options.output}: {error.strerror}", file=sys.stderr)
        return 1
    print(f"report: {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
