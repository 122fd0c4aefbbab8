#pragma once
// Hears of every packet the fabric drops: at a link (queue full, link down, loss, corruption) or
// at a switch (no route, a stale route onto a dead next hop). The runner's annotation bridge
// turns these into "drop" annotations for Python's sim.on("drop"). Drops only: the forwarding
// path never calls it, and when no observer is installed a drop costs one pointer test.

#include <string_view>

#include "models/packet.h"

namespace models {

class FabricDropObserver {
 public:
  virtual ~FabricDropObserver() = default;
  // `layer` and `reason` are the /drops table's names ("link": queue_full, link_down, loss,
  // corrupted; "fabric": no_route, stale_route); `where` names the link or the switch (the host
  // for a host with no uplink). Called before the packet goes back to the pool.
  virtual void fabric_dropped(std::string_view layer, std::string_view reason, std::string_view where,
                              const Packet& packet) = 0;
};

}  // namespace models
