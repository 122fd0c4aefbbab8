#include "models/switch.h"

#include "sim/rng.h"

namespace models {

uint32_t ecmp_select(uint64_t flow_hash, uint64_t salt, uint32_t count) {
  uint64_t state = flow_hash ^ salt;
  const uint64_t mixed = sim::splitmix64(state);
  return static_cast<uint32_t>((static_cast<unsigned __int128>(mixed) * count) >> 64);
}

Switch::Switch(std::string name, PacketPool& pool, const std::vector<uint32_t>& vm_hosts)
    : name_(std::move(name)),
      pool_(pool),
      vm_hosts_(vm_hosts),
      ecmp_salt_(sim::stable_hash(name_)),
      route_offsets_(1, 0) {}

uint32_t Switch::add_port(Link& link) {
  ports_.push_back(&link);
  return static_cast<uint32_t>(ports_.size() - 1);
}

void Switch::set_routes(const std::vector<std::vector<uint32_t>>& ports_by_host) {
  route_offsets_.assign(1, 0);
  route_ports_.clear();
  for (const auto& ports : ports_by_host) {
    route_ports_.insert(route_ports_.end(), ports.begin(), ports.end());
    route_offsets_.push_back(static_cast<uint32_t>(route_ports_.size()));
  }
}

std::vector<uint32_t> Switch::routes_to(uint32_t host) const {
  if (host + 1 >= route_offsets_.size()) return {};
  return std::vector<uint32_t>(route_ports_.begin() + route_offsets_[host],
                               route_ports_.begin() + route_offsets_[host + 1]);
}

uint32_t Switch::select_port(const Packet& packet) const {
  if (packet.destination_vm >= vm_hosts_.size()) return kNoPort;
  const uint32_t host = vm_hosts_[packet.destination_vm];
  if (host == kNoHost || host + 1 >= route_offsets_.size()) return kNoPort;
  const uint32_t first = route_offsets_[host];
  const uint32_t count = route_offsets_[host + 1] - first;
  if (count == 0) return kNoPort;
  if (count == 1) return route_ports_[first];
  return route_ports_[first + ecmp_select(packet.flow_hash, ecmp_salt_, count)];
}

void Switch::receive_from_link(Packet* packet, uint32_t /*in_port*/) {
  const uint32_t port = select_port(*packet);
  if (port == kNoPort) {
    ++no_route_drops_;
    if (drop_observer_ != nullptr) drop_observer_->fabric_dropped("fabric", "no_route", name_, *packet);
    pool_.release(packet);
    return;
  }
  Link& out = *ports_[port];
  if (!out.up()) [[unlikely]] {
    // The table still names a dead next hop: routing has not reconverged yet.
    ++stale_route_drops_;
    if (drop_observer_ != nullptr) drop_observer_->fabric_dropped("fabric", "stale_route", name_, *packet);
    pool_.release(packet);
    return;
  }
  ++forwarded_packets_;
  out.send(packet);
}

}  // namespace models
