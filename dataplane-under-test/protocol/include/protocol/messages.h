#pragma once
// The control-plane protocol on the wire: one segsim.control.v1.ControlMessage (protobuf, see
// proto/dfw_control.proto) per platform::Connection message, stamped with the protocol version.
// docs/control-plane.md describes the exchange; convert.h maps dfw's rule sets to messages.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/dfw_control.pb.h"

namespace protocol {

namespace pb = segsim::control::v1;

// The version this build speaks. Peers with another version are refused with an Error message.
inline constexpr uint32_t kProtocolVersion = 1;

// Stamps kProtocolVersion into `message` and serializes it.
std::vector<uint8_t> encode(pb::ControlMessage& message);

enum class DecodeStatus : uint8_t {
  kOk,
  kMalformed,        // not a ControlMessage, or no body
  kVersionMismatch,  // a well-formed message of another protocol version
};

// Parses one message and checks its version and that it carries a body. On failure `error`
// explains it ("protocol version 2 is not supported; this side speaks version 1").
DecodeStatus decode(std::span<const uint8_t> bytes, pb::ControlMessage& out, std::string& error);

// The body's name for logs and per-type counters: "hello", "snapshot", ..., "none".
std::string_view body_name(const pb::ControlMessage& message);

// An Error message answering a peer (with kProtocolVersion as the supported version).
pb::ControlMessage make_error(std::string_view text);

}  // namespace protocol
