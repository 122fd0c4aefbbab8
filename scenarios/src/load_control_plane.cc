// control_plane: a modelled policy controller and host agents over a simulated management
// network (docs/scenario.md). Its presence switches the run from instant rule installation to
// the real controller service and agents.

#include "sections.h"

namespace scenarios::detail {

void read_control_plane(LoadContext& ctx, const YAML::Node& node, Scenario& s) {
  ControlPlaneSpec& c = s.control_plane;
  c.enabled = true;
  if (node.IsNull()) return;  // `control_plane:` alone: every default
  MapReader r(ctx, node, "control_plane",
              "a map {latency, bandwidth, loss, rto, controller_latency, controller_bandwidth, heartbeat_interval, "
              "missed_heartbeats, connect_timeout, transport_timeout, reconnect_interval}");
  if (!r.is_map()) return;
  r.check_keys({"latency", "bandwidth", "loss", "rto", "controller_latency", "controller_bandwidth",
                "heartbeat_interval", "missed_heartbeats", "connect_timeout", "transport_timeout",
                "reconnect_interval"});
  r.read_duration("latency", c.latency, Need::optional, ZeroIs::allowed);
  r.read_data_rate("bandwidth", c.bandwidth);
  // Beyond 0.5 a TCP connection is no longer a useful model of anything.
  r.read_number("loss", c.loss, Need::optional, 0, 0.5);
  r.read_duration("rto", c.rto, Need::optional, ZeroIs::rejected);
  r.read_duration("controller_latency", c.controller_latency, Need::optional, ZeroIs::allowed);
  r.read_data_rate("controller_bandwidth", c.controller_bandwidth);
  r.read_duration("heartbeat_interval", c.heartbeat_interval, Need::optional, ZeroIs::rejected);
  r.read_unsigned_as("missed_heartbeats", c.missed_heartbeats, Need::optional, 1, 1000);
  r.read_duration("connect_timeout", c.connect_timeout, Need::optional, ZeroIs::rejected);
  r.read_duration("transport_timeout", c.transport_timeout, Need::optional, ZeroIs::rejected);
  r.read_duration("reconnect_interval", c.reconnect_interval, Need::optional, ZeroIs::rejected);
  for (const char* key : {"bandwidth", "controller_bandwidth"}) {
    const sim::DataRate rate = std::string_view(key) == "bandwidth" ? c.bandwidth : c.controller_bandwidth;
    if (rate.bits_per_second() == 0 && r.has(key)) {
      ctx.error(*r.find(key), r.field(key), "a management link needs a bandwidth above 0");
    }
  }
}

}  // namespace scenarios::detail
