"""The capacity-planning sections of a report on one run (segsim report RUN.h5)."""

import numpy as np
import pandas as pd
import yaml

from .report_html import figure_svg, format_ns, format_percent, new_figure, plt, table_html

DEFAULT_CONNECTION_LIMIT = 2_000_000  # docs/scenario.md, hosts.connection_limit


def connection_limit(meta):
    """The smallest connection_limit of the scenario's hosts (the default where none is written)."""
    try:
        hosts = yaml.safe_load(meta.get("effective_yaml", "")).get("topology", {}).get("hosts", [])
    except (yaml.YAMLError, AttributeError):
        return DEFAULT_CONNECTION_LIMIT
    entries = hosts if isinstance(hosts, list) else [hosts]
    limits = [int(e["connection_limit"]) for e in entries if isinstance(e, dict) and "connection_limit" in e]
    if len(limits) < len(entries):
        limits.append(DEFAULT_CONNECTION_LIMIT)
    return min(limits) if limits else DEFAULT_CONNECTION_LIMIT


def overview(results, options):
    meta = results.meta()
    summary = results.summary()
    rows = [
        ("scenario", meta.get("scenario_name", "")),
        ("description", meta.get("scenario_description", "")),
        ("seed", meta.get("seed", "")),
        ("simulated", format_ns(summary.get("simulated_ns", 0))),
        ("flows started / completed / failed", f"{summary.get('flows_started')} / {summary.get('flows_completed')} / "
                                                f"{summary.get('flows_failed')}"),
        ("packets from VMs / dropped", f"{summary.get('packets_from_vms')} / {summary.get('drops_total')}"),
        ("firewall cycles per packet", f"{summary.get('firewall_cycles_per_packet', 0):.0f}"),
        ("busiest core over the run / at its peak",
         f"{format_percent(summary.get('busiest_core_mean_utilization', float('nan')))} / "
         f"{format_percent(summary.get('peak_core_utilization', 0))}"),
        ("latency p50 / p99 / p99.9", " / ".join(format_ns(summary.get(k, 0))
                                                 for k in ("latency_p50_ns", "latency_p99_ns", "latency_p999_ns"))),
        ("segsim", f"{meta.get('segsim_version', '?')} ({meta.get('git_revision', '?')})"),
        ("calibration", f"{meta.get('calibration_cpu_model', '')} ({meta.get('calibration_method', '')})"),
    ]
    df = pd.DataFrame(rows, columns=["what", "value"]).astype(object)
    return table_html(df)


def cpu(results, options):
    cores = results.core_series()
    if cores.empty:
        return "<p class=\"note\">No core samples in this run.</p>"
    per_host_time = cores.groupby(["host", "time_ns"], sort=False)["utilization"].max().reset_index()
    fig, axes = new_figure()
    for host, df in per_host_time.groupby("host", sort=False):
        axes.plot(df["time_ns"] / 1e6, df["utilization"] * 100, label=host, linewidth=1)
    axes.axhline(options.cpu_target * 100, color="red", linestyle="--", linewidth=1,
                 label=f"target {options.cpu_target:.0%}")
    axes.set_xlabel("simulated time (ms)")
    axes.set_ylabel("busiest core of host (% busy)")
    axes.set_ylim(0, 105)
    _legend(axes, per_host_time["host"].nunique())
    plot = figure_svg(fig, "Firewall CPU: the busiest core of each host over each sample interval.")

    # Sustained load from the cumulative busy time at the last sample (what the target applies
    # to); the peak over one sample interval follows bursts and is shown beside it.
    last = cores.sort_values("time_ns").groupby(["host", "core"], sort=False).tail(1)
    last = last.assign(run_share=last["busy_ns"].astype("float64") / last["time_ns"].astype("float64"))
    sustained = last.groupby("host", sort=False).agg(firewall_cpu_share=("run_share", "mean"),
                                                     busiest_core_mean=("run_share", "max"))
    table = cores.groupby("host", sort=False).agg(
        cores=("core", "nunique"), peak_core_utilization=("utilization", "max")).join(sustained).reset_index()
    table = table[["host", "cores", "firewall_cpu_share", "busiest_core_mean", "peak_core_utilization"]]
    table["headroom"] = 1.0 - table["busiest_core_mean"]
    table["within_target"] = np.where(table["busiest_core_mean"] <= options.cpu_target, "yes", "NO")
    fmt = {c: format_percent for c in ("firewall_cpu_share", "busiest_core_mean", "peak_core_utilization", "headroom")}
    note = ("<p class=\"note\">firewall_cpu_share: the host's cores together over the run; busiest_core_mean: its "
            "busiest core over the run (the target and headroom apply to it); peak_core_utilization: the busiest core "
            "over one sample interval (bursts).</p>")
    return plot + table_html(table, fmt, {"within_target": lambda v: "bad" if v == "NO" else "ok"}) + note


def connections(results, options):
    series = results.host_series()
    if series.empty:
        return "<p class=\"note\">No host samples in this run.</p>"
    limit = connection_limit(results.meta())
    fig, axes = new_figure()
    for host, df in series.groupby("host", sort=False):
        axes.plot(df["time_ns"] / 1e6, df["live_connections"], label=host, linewidth=1)
    axes.axhline(limit, color="red", linestyle="--", linewidth=1, label=f"limit {limit:,}")
    axes.set_yscale("symlog", linthresh=10)
    axes.set_xlabel("simulated time (ms)")
    axes.set_ylabel("live connections (log)")
    _legend(axes, series["host"].nunique())
    plot = figure_svg(fig, "dfw connection-table occupancy per host against the connection limit.")
    table = series.groupby("host", sort=False)["live_connections"].max().reset_index(name="peak_live_connections")
    table["limit"] = limit
    table["occupancy"] = table["peak_live_connections"] / limit
    return plot + table_html(table, {"occupancy": format_percent})


def rules(results, options):
    rules = results.rules()
    if rules.empty:
        return "<p class=\"note\">No rules installed in this run.</p>"
    per_vnic = rules.groupby(["host", "vm"], sort=False).size().reset_index(name="rules")
    per_host = per_vnic.groupby("host", sort=False).agg(vnics=("vm", "nunique"), rules=("rules", "sum"),
                                                         max_rules_per_vnic=("rules", "max")).reset_index()
    fig, (left, right) = _two_axes()
    left.bar(per_host["host"], per_host["rules"], color="tab:blue")
    left.axhline(options.rules_per_host_limit, color="red", linestyle="--", linewidth=1,
                 label=f"limit {options.rules_per_host_limit:,} per host")
    left.set_yscale("log")
    left.set_ylabel("rules on the host (log)")
    left.legend(fontsize=8)
    right.bar(per_host["host"], per_host["max_rules_per_vnic"], color="tab:green")
    right.axhline(options.rules_per_vnic_limit, color="red", linestyle="--", linewidth=1,
                  label=f"limit {options.rules_per_vnic_limit:,} per vNIC")
    right.set_yscale("log")
    right.set_ylabel("rules on the fullest vNIC (log)")
    right.legend(fontsize=8)
    for axes in (left, right):
        axes.tick_params(axis="x", rotation=90 if len(per_host) > 12 else 0)
    plot = figure_svg(fig, "Rules per host (sum over its vNICs) and per vNIC against the configured limits "
                           "(defaults: NSX 3.2/4.x configuration maximums).")
    per_host["host_limit_used"] = per_host["rules"] / options.rules_per_host_limit
    per_host["vnic_limit_used"] = per_host["max_rules_per_vnic"] / options.rules_per_vnic_limit
    return plot + table_html(per_host, {"host_limit_used": format_percent, "vnic_limit_used": format_percent},
                             {"host_limit_used": _over_one, "vnic_limit_used": _over_one})


def latency(results, options):
    df = results.latency()
    if df.empty:
        return "<p class=\"note\">No latency samples.</p>"
    df = df[df["count"] > 0]
    fig, axes = new_figure()
    x = np.arange(len(df))
    for offset, column, label in ((-0.27, "p50_ns", "p50"), (0.0, "p99_ns", "p99"), (0.27, "p999_ns", "p99.9")):
        axes.bar(x + offset, df[column] / 1e3, width=0.27, label=label)
    axes.axhline(options.p99_target_ns / 1e3, color="red", linestyle="--", linewidth=1,
                 label=f"p99 target {format_ns(options.p99_target_ns)}")
    axes.set_xticks(x, df["scope"])
    axes.set_yscale("log")
    axes.set_ylabel("one-way latency (us, log)")
    axes.legend(fontsize=8)
    plot = figure_svg(fig, "One-way VM-to-VM latency percentiles, all packets and per receiving host.")
    formats = {c: format_ns for c in ("mean_ns", "p50_ns", "p99_ns", "p999_ns", "max_ns")}
    return plot + table_html(df.reset_index(drop=True), formats,
                             {"p99_ns": lambda v: "bad" if v > options.p99_target_ns else None})


def drops(results, options):
    df = results.drops()
    df = df[df["packets"] > 0].copy()
    if df.empty:
        return "<p class=\"ok\">No packet was dropped.</p>"
    df["where"] = df["layer"] + "." + df["reason"]
    df = df.sort_values("packets")
    fig, axes = new_figure(height=max(1.6, 0.35 * len(df) + 0.8))
    axes.barh(df["where"], df["packets"], color="tab:red")
    axes.set_xscale("log")
    axes.set_xlabel("packets dropped (log)")
    plot = figure_svg(fig, "Drops by layer and reason over the whole run.")
    return plot + table_html(df[["layer", "reason", "packets"]].iloc[::-1].reset_index(drop=True))


def migrations(results, options):
    df = results.migrations()
    if df.empty:
        return None
    fig, axes = new_figure()
    labels = [f"{vm}\n{a}→{b}" for vm, a, b in zip(df["vm"], df["from_host"], df["to_host"])]
    axes.bar(range(len(df)), df["downtime_ns"].astype(float) / 1e6, color="tab:purple")
    axes.set_xticks(range(len(df)), labels, fontsize=7)
    axes.set_ylabel("downtime (ms)")
    plot = figure_svg(fig, "Live-migration downtime (switchover) per migration.")
    columns = [c for c in ("vm", "from_host", "to_host", "start_ns", "precopy_ns", "rounds", "downtime_ns",
                           "connections_moved", "connections_broken", "switchover_drops", "policy_gap_ns", "state",
                           "policy") if c in df.columns]
    return plot + table_html(df[columns], {c: format_ns for c in ("start_ns", "precopy_ns", "downtime_ns",
                                                                  "policy_gap_ns")})


def convergence(results, options):
    df = results.convergence()
    if df.empty:
        return None
    converged = df[df["converged_ns"].astype("int64") >= 0]
    fig, axes = new_figure()
    axes.scatter(converged["at_ns"].astype(float) / 1e6, converged["convergence_ns"].astype(float) / 1e6, s=12)
    axes.set_xlabel("change at (ms)")
    axes.set_ylabel("convergence (ms)")
    plot = figure_svg(fig, f"Policy convergence: {len(converged)} of {len(df)} changes converged.")
    return plot + table_html(df, {c: format_ns for c in ("at_ns", "converged_ns", "convergence_ns", "compute_ns")},
                             {"converged_ns": lambda v: "bad" if int(v) < 0 else None})


def failures(results, options):
    df = results.failures()
    if df.empty:
        return None
    return table_html(df, {c: format_ns for c in ("start_ns", "end_ns")})


def invariants(results, options):
    df = results.invariants()
    if df.empty:
        return None
    return table_html(df, classes={"violations": lambda v: "bad" if int(v) > 0 else "ok"})


SECTIONS = [
    ("overview", "Overview", overview),
    ("cpu", "Firewall CPU utilization and headroom", cpu),
    ("connections", "Connection-table occupancy", connections),
    ("rules", "Rules per host and per vNIC", rules),
    ("latency", "Latency percentiles", latency),
    ("drops", "Drops by reason", drops),
    ("migrations", "Migration downtime", migrations),
    ("convergence", "Policy convergence", convergence),
    ("failures", "Failures", failures),
    ("invariants", "Invariants", invariants),
]


def run_sections(results, options):
    out = []
    for section_id, title, build in SECTIONS:
        body = build(results, options)
        if body is not None:
            out.append((section_id, title, body))
    return out


def _legend(axes, entries):
    if entries <= 12:
        axes.legend(fontsize=7, ncol=min(entries + 1, 6))


def _two_axes():
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.2))
    for a in axes:
        a.grid(True, alpha=0.3)
    return fig, axes


def _over_one(value):
    return "bad" if value > 1 else None

