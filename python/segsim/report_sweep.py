"""The sections of a report on a parameter sweep (segsim report DIR/index.h5): per swept parameter,
the firewall's busiest core and p99 latency against the targets, and the ceiling table: the
largest value of the parameter at which every target still holds."""

import numpy as np
import pandas as pd

from .report_html import escape, figure_svg, format_ns, format_percent, plt, table_html

CPU = "peak_core_utilization"
P99 = "latency_p99_ns"


def check_point(row, options):
    """None if the point meets every target, else why not."""
    if row.get("status", "ok") != "ok":
        return f"run {row.get('status')}"
    reasons = []
    cpu = row.get(CPU, np.nan)
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
            ceiling, first_over, limited_by = None, None, "not reached in the sweep"
            for _, row in group.sort_values(parameter).iterrows():
                why = check_point(row, options)
                if why is None:
                    ceiling = row[parameter]
                else:
                    first_over, limited_by = row[parameter], why
                    break
            rows.append({
                "parameter": parameter,
                "with": ", ".join(f"{k}={v}" for k, v in zip(others, key)) or "–",
                "ceiling": "none (the smallest value fails)" if ceiling is None else ceiling,
                "first_value_over": "–" if first_over is None else first_over,
                "limited_by": limited_by,
            })
    return pd.DataFrame(rows, columns=["parameter", "with", "ceiling", "first_value_over", "limited_by"]).astype(object)


def parameter_plot(points, parameter, others, options):
    fig, (cpu_axes, p99_axes) = plt.subplots(1, 2, figsize=(9.0, 3.2))
    for key, group in groups_by(points, others):
        group = group.sort_values(parameter)
        label = ", ".join(f"{k}={v}" for k, v in zip(others, key)) or None
        ok = group["status"] == "ok"
        cpu_axes.plot(group[parameter][ok], group[CPU][ok] * 100, marker="o", label=label)
        p99_axes.plot(group[parameter][ok], group[P99][ok] / 1e3, marker="o", label=label)
    cpu_axes.axhline(options.cpu_target * 100, color="red", linestyle="--", linewidth=1, label="target")
    p99_axes.axhline(options.p99_target_ns / 1e3, color="red", linestyle="--", linewidth=1, label="target")
    cpu_axes.set_ylabel("busiest core (% busy)")
    p99_axes.set_ylabel("p99 latency (us)")
    for axes in (cpu_axes, p99_axes):
        axes.set_xlabel(parameter)
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize=7)
    return figure_svg(fig, f"Busiest firewall core and p99 latency against {parameter}.")


def sweep_sections(sweep, options):
    points = sweep.points()
    parameters = sweep.parameters()
    for column in (CPU, P99):
        if column not in points.columns:
            points[column] = np.nan
    failed = points[points["status"] != "ok"]
    overview_columns = ["point"] + parameters + ["status", CPU, P99] + [
        c for c in ("flows_failed", "drops_total", "firewall_cycles_per_packet") if c in points.columns]
    if len(failed):
        overview_columns.append("error")
    overview = table_html(points[overview_columns], {CPU: format_percent, P99: format_ns},
                          {"status": lambda v: "bad" if v != "ok" else None})
    note = (f"<p class=\"bad\">{len(failed)} of {len(points)} points failed; they count as over every target.</p>"
            if len(failed) else f"<p class=\"ok\">All {len(points)} points ran.</p>")
    targets = (f"<p>Targets: busiest firewall core at most {format_percent(options.cpu_target)}, "
               f"p99 one-way latency at most {escape(format_ns(options.p99_target_ns))}.</p>")
    table = ceilings(points, parameters, options)
    plots = "".join(parameter_plot(points, p, [o for o in parameters if o != p], options)
                    for p in parameters if pd.api.types.is_numeric_dtype(points[p]))
    return [
        ("ceilings", "Ceilings", targets + table_html(table)),
        ("curves", "Firewall CPU and p99 latency per parameter", plots or "<p class=\"note\">No numeric parameter.</p>"),
        ("points", "Points", note + overview),
    ]
