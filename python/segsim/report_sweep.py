"""The sections of a report on a parameter sweep (segsim report DIR/index.h5): per swept parameter,
the firewall's busiest core and p99 latency against the targets, and the ceiling table: the
largest value of the parameter at which every target still holds.

The CPU target applies to the busiest core's utilization over the whole run (sustained load,
`busiest_core_mean_utilization`): the peak over one sample interval follows 10 ms bursts and is
shown beside it. An index written before the sustained column existed falls back to the peak."""

import numpy as np
import pandas as pd

from .report_html import escape, figure_svg, format_ns, format_percent, plt, table_html

CPU = "busiest_core_mean_utilization"
PEAK = "peak_core_utilization"
P99 = "latency_p99_ns"


def cpu_column(points):
    """The column the CPU target applies to: sustained when the index has it, else the peak."""
    return CPU if CPU in points.columns and points[CPU].notna().any() else PEAK


def check_point(row, options):
    """None if the point meets every target, else why not."""
    if row.get("status", "ok") != "ok":
        return f"run {row.get('status')}"
    reasons = []
    cpu = row.get(CPU, np.nan)
    if np.isnan(cpu):
        cpu = row.get(PEAK, np.nan)
    p99 = row.get(P99, np.nan)
    if not np.isnan(cpu) and cpu > options.cpu_target:
        reasons.append(f"busiest core {format_percent(cpu)} > {format_percent(options.cpu_target)}")
    if not np.isnan(p99) and p99 > options.p99_target_ns:
        reasons.append(f"p99 {format_ns(p99)} > {format_ns(options.p99_target_ns)}")
    return "; ".join(reasons) or None


def groups_by(points, columns):
    """(values as a tuple, rows) for each combination of `columns`' values; one group if none."""
    if not columns:
        return [((), points)]
    if len(columns) == 1:
        return [((value,), rows) for value, rows in points.groupby(columns[0], sort=True)]
    return list(points.groupby(columns, sort=True))


def ceilings(points, parameters, options):
    """One row per parameter and combination of the other parameters' values: the largest value
    that meets every target below the first that does not."""
    rows = []
    for parameter in parameters:
        others = [p for p in parameters if p != parameter]
        for key, group in groups_by(points, others):
            ceiling, at_ceiling, first_over, limited_by = None, None, None, "not reached in the sweep"
            for _, row in group.sort_values(parameter).iterrows():
                why = check_point(row, options)
                if why is None:
                    ceiling, at_ceiling = row[parameter], row
                else:
                    first_over, limited_by = row[parameter], why
                    break
            rows.append({
                "parameter": parameter,
                "with": ", ".join(f"{k}={v}" for k, v in zip(others, key)) or "–",
                "ceiling": "none (the smallest value fails)" if ceiling is None else ceiling,
                "first_value_over": "–" if first_over is None else first_over,
                "limited_by": limited_by,
                # What the planner gets at the ceiling: sustained and peak busiest core, p99.
                "busiest_core_at_ceiling": value_at(at_ceiling, CPU, format_percent),
                "peak_at_ceiling": value_at(at_ceiling, PEAK, format_percent),
                "p99_at_ceiling": value_at(at_ceiling, P99, format_ns),
            })
    return pd.DataFrame(rows, columns=CEILING_COLUMNS).astype(object)


CEILING_COLUMNS = ["parameter", "with", "ceiling", "first_value_over", "limited_by", "busiest_core_at_ceiling",
                   "peak_at_ceiling", "p99_at_ceiling"]


def value_at(row, column, formatter):
    if row is None or column not in row or pd.isna(row[column]):
        return "–"
    return formatter(row[column])


def parameter_plot(points, parameter, others, options):
    fig, (cpu_axes, p99_axes) = plt.subplots(1, 2, figsize=(9.0, 3.2))
    for key, group in groups_by(points, others):
        group = group.sort_values(parameter)
        label = ", ".join(f"{k}={v}" for k, v in zip(others, key)) or None
        ok = group["status"] == "ok"
        line, = cpu_axes.plot(group[parameter][ok], group[CPU][ok] * 100, marker="o",
                              label=f"{label} (run mean)" if label else "run mean")
        cpu_axes.plot(group[parameter][ok], group[PEAK][ok] * 100, marker="x", linestyle=":", color=line.get_color(),
                      label=f"{label} (10 ms peak)" if label else "peak over a sample interval")
        p99_axes.plot(group[parameter][ok], group[P99][ok] / 1e3, marker="o", label=label)
    cpu_axes.axhline(options.cpu_target * 100, color="red", linestyle="--", linewidth=1, label="target")
    p99_axes.axhline(options.p99_target_ns / 1e3, color="red", linestyle="--", linewidth=1, label="target")
    cpu_axes.set_ylabel("busiest firewall core (% busy)")
    p99_axes.set_ylabel("p99 latency (us)")
    for axes in (cpu_axes, p99_axes):
        axes.set_xlabel(parameter)
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize=7)
    return figure_svg(fig, f"Busiest firewall core (over the run: solid; peak sample: dotted) and p99 latency "
                           f"against {parameter}.")


def sweep_sections(sweep, options):
    points = sweep.points()
    parameters = sweep.parameters()
    for column in (CPU, PEAK, P99):
        if column not in points.columns:
            points[column] = np.nan
    if cpu_column(points) == PEAK:
        points[CPU] = points[PEAK]  # an index from before the sustained column: the peak stands in
    failed = points[points["status"] != "ok"]
    overview_columns = ["point"] + parameters + ["status", CPU, PEAK, P99] + [
        c for c in ("flows_failed", "drops_total", "firewall_cycles_per_packet") if c in points.columns]
    if len(failed):
        overview_columns.append("error")
    overview = table_html(points[overview_columns], {CPU: format_percent, PEAK: format_percent, P99: format_ns},
                          {"status": lambda v: "bad" if v != "ok" else None})
    note = (f"<p class=\"bad\">{len(failed)} of {len(points)} points failed; they count as over every target.</p>"
            if len(failed) else f"<p class=\"ok\">All {len(points)} points ran.</p>")
    targets = (f"<p>Targets: busiest firewall core at most {format_percent(options.cpu_target)} busy over the run "
               f"(sustained load; the peak over one {escape('sample interval')} is shown beside it), "
               f"p99 one-way latency at most {escape(format_ns(options.p99_target_ns))}. The ceiling is the largest "
               f"swept value meeting both, with every smaller value meeting them too.</p>")
    table = ceilings(points, parameters, options)
    plots = "".join(parameter_plot(points, p, [o for o in parameters if o != p], options)
                    for p in parameters if pd.api.types.is_numeric_dtype(points[p]))
    return [
        ("ceilings", "Ceilings", targets + table_html(table)),
        ("curves", "Firewall CPU and p99 latency per parameter", plots or "<p class=\"note\">No numeric parameter.</p>"),
        ("points", "Points", note + overview),
    ]
