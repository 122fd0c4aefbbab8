#pragma once
// Probes: named test packets the dfw-agent daemon runs through its datapath after every applied
// change, writing each verdict to its status file, so that a test (or an operator) can see what
// the host enforces without sending traffic. Syntax (IPv4, TCP or UDP, a new flow each time):
//
//   NAME=PORT:DIRECTION:PROTOCOL:SOURCE:DESTINATION:DESTINATION_PORT
//   web-to-api=1:egress:tcp:10.0.0.1:10.0.0.2:8080
//
// Each run uses a fresh source port, so the rule table decides (not an existing connection); the
// connection a SYN creates in the table expires like any other.

#include <cstdint>
#include <string>
#include <vector>

#include "dfw/driver.h"

namespace daemons {

struct Probe {
  std::string name;
  dfw::PortId port = 0;
  dfw::Direction direction = dfw::Direction::kEgress;
  std::vector<uint8_t> frame;  // Ethernet + IPv4 + TCP SYN or UDP, source port patched per run
};

// False with `error` naming the part that is wrong.
bool parse_probe(const std::string& text, Probe& out, std::string& error);

// "allow", "drop" (rule or default), "unknown_port" when the port does not exist (yet).
std::string run_probe(Probe& probe, dfw::DatapathDriver& driver, uint16_t source_port);

}  // namespace daemons
