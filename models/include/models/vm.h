#pragma once
// A VM as the models see it: identity, addresses, labels, vNIC, and where it runs.
// The VmTable is the world's directory of VMs, indexed by VmIndex (dense, in scenario order).

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/packet.h"
#include "sim/units.h"

namespace models {

class CaptureStream;

struct Vm {
  std::string name;
  std::array<uint8_t, 6> mac{};
  uint32_t ipv4 = 0;                       // host byte order
  std::array<uint8_t, 16> ipv6{};          // all zero: none
  bool has_ipv6 = false;
  std::map<std::string, std::string> labels;
  sim::DataRate vnic_rate = sim::DataRate::gbps(10);
  uint32_t host = 0;                       // index of the host it runs on now
  bool running = true;                     // false while stopped (switchover) or dead
  PacketReceiver* receiver = nullptr;      // its transport stack, set by the traffic model
  PacketTransmitter* transmitter = nullptr;  // its vNIC on the current host, set by the host
  TransmitListener* transmit_listener = nullptr;  // told when its packets leave the vNIC queue
  CaptureStream* capture = nullptr;        // pcap tap on its port (capture_tap.h), or none
};

class VmTable {
 public:
  VmIndex add(Vm vm) {
    vms_.push_back(std::move(vm));
    return static_cast<VmIndex>(vms_.size() - 1);
  }
  Vm& operator[](VmIndex i) { return vms_[i]; }
  const Vm& operator[](VmIndex i) const { return vms_[i]; }
  std::size_t size() const { return vms_.size(); }
  VmIndex find(const std::string& name) const {
    for (std::size_t i = 0; i < vms_.size(); ++i)
      if (vms_[i].name == name) return static_cast<VmIndex>(i);
    return kNoVm;
  }

 private:
  std::vector<Vm> vms_;
};

}  // namespace models
