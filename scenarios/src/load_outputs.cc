// outputs: result file, sampling interval, pcap taps.

#include "sections.h"

namespace scenarios::detail {

void read_outputs(LoadContext& ctx, const YAML::Node& node, Scenario& s, const NameIndex& index) {
  MapReader r(ctx, node, "outputs", "a map {path, interval, pcap, pcap_directory, pcap_snap_length}");
  if (!r.is_map()) return;
  r.check_keys({"path", "interval", "pcap", "pcap_directory", "pcap_snap_length"});
  OutputSpec& out = s.outputs;
  r.read_string("path", out.path);
  if (r.read_duration("interval", out.interval, Need::optional, ZeroIs::rejected) && index.duration_valid &&
      out.interval > s.duration) {
    ctx.warning(*r.find("interval"), r.field("interval"),
                "interval " + sim::to_string(out.interval) + " is longer than the run (" + sim::to_string(s.duration) +
                    "); time series will hold at most one sample");
  }
  r.read_string("pcap_directory", out.pcap_directory);
  // At least the Ethernet header; at most tcpdump's and Wireshark's limit (MAXIMUM_SNAPLEN).
  r.read_unsigned_as("pcap_snap_length", out.pcap_snap_length, Need::optional, 14, 262144);
  std::vector<std::string> ports;
  if (!r.read_string_list("pcap", ports)) return;
  std::vector<std::string> candidates = index.vm_names;
  candidates.insert(candidates.end(), index.link_names.begin(), index.link_names.end());
  for (size_t i = 0; i < ports.size(); ++i) {
    if (index.vm_by_name.count(ports[i])) {
      out.pcap_ports.push_back(ports[i]);
    } else if (const FabricLink* link = index.layout.find_link(ports[i])) {
      out.pcap_ports.push_back(link->name);
    } else {
      check_reference(ctx, (*r.find("pcap"))[i], join_path(r.field("pcap"), i), ports[i], candidates, "VM or link");
    }
  }
}

}  // namespace scenarios::detail
