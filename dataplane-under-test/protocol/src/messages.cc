#include "protocol/messages.h"

namespace protocol {

std::vector<uint8_t> encode(pb::ControlMessage& message) {
  message.set_protocol_version(kProtocolVersion);
  std::vector<uint8_t> bytes(message.ByteSizeLong());
  message.SerializeWithCachedSizesToArray(bytes.data());
  return bytes;
}

DecodeStatus decode(std::span<const uint8_t> bytes, pb::ControlMessage& out, std::string& error) {
  out.Clear();
  if (!out.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    error = "undecodable control message (" + std::to_string(bytes.size()) + " bytes)";
    return DecodeStatus::kMalformed;
  }
  // The version is checked before the body: a newer peer's body may be one this side does not
  // know, and the useful answer is the version, not "no body".
  if (out.protocol_version() != kProtocolVersion) {
    error = "protocol version " + std::to_string(out.protocol_version()) +
            " is not supported; this side speaks version " + std::to_string(kProtocolVersion);
    return DecodeStatus::kVersionMismatch;
  }
  if (out.body_case() == pb::ControlMessage::BODY_NOT_SET) {
    error = "control message without a body";
    return DecodeStatus::kMalformed;
  }
  return DecodeStatus::kOk;
}

std::string_view body_name(const pb::ControlMessage& message) {
  switch (message.body_case()) {
    case pb::ControlMessage::kHello: return "hello";
    case pb::ControlMessage::kSnapshot: return "snapshot";
    case pb::ControlMessage::kDelta: return "delta";
    case pb::ControlMessage::kAck: return "ack";
    case pb::ControlMessage::kHeartbeat: return "heartbeat";
    case pb::ControlMessage::kPortStats: return "port_stats";
    case pb::ControlMessage::kError: return "error";
    case pb::ControlMessage::BODY_NOT_SET: break;
  }
  return "none";
}

pb::ControlMessage make_error(std::string_view text) {
  pb::ControlMessage message;
  message.mutable_error()->set_message(std::string(text));
  message.mutable_error()->set_supported_version(kProtocolVersion);
  return message;
}

}  // namespace protocol
