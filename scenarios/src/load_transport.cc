// transport: the TCP stacks of the VMs (timers, retries, segment size).

#include "sections.h"

namespace scenarios::detail {

void read_transport(LoadContext& ctx, const YAML::Node& node, Scenario& s) {
  MapReader r(ctx, node, "transport", "a map {tcp: {...}}");
  if (!r.is_map()) return;
  r.check_keys({"tcp"});
  const YAML::Node* tcp_node = r.find("tcp");
  if (!tcp_node) return;
  MapReader tcp(ctx, *tcp_node, "transport.tcp",
                "a map {mss, initial_rto, min_rto, max_rto, syn_retries, data_retries, time_wait, delayed_ack, "
                "small_queue_limit}");
  if (!tcp.is_map()) return;
  tcp.check_keys({"mss", "initial_rto", "min_rto", "max_rto", "syn_retries", "data_retries", "time_wait",
                  "delayed_ack", "small_queue_limit"});
  TransportSpec& t = s.transport;
  tcp.read_unsigned_as("mss", t.mss, Need::optional, 536, 9000);
  tcp.read_duration("initial_rto", t.initial_rto, Need::optional, ZeroIs::rejected);
  tcp.read_duration("min_rto", t.min_rto, Need::optional, ZeroIs::rejected);
  tcp.read_duration("max_rto", t.max_rto, Need::optional, ZeroIs::rejected);
  tcp.read_unsigned_as("syn_retries", t.syn_retries, Need::optional, 0, 255);
  tcp.read_unsigned_as("data_retries", t.data_retries, Need::optional, 0, 255);
  tcp.read_duration("time_wait", t.time_wait, Need::optional, ZeroIs::allowed);
  tcp.read_bool("delayed_ack", t.delayed_ack);
  tcp.read_size("small_queue_limit", t.small_queue_limit, Need::optional, ZeroIs::allowed);
  if (t.min_rto > t.max_rto) {
    ctx.error(*tcp_node, "transport.tcp.min_rto",
              "min_rto " + sim::to_string(t.min_rto) + " is above max_rto " + sim::to_string(t.max_rto) +
                  " (expected min_rto <= max_rto)");
  }
}

}  // namespace scenarios::detail
