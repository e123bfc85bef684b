// The local bus's instance configuration: the JSON object the host passes to create(). Every
// limit is a key with a default (README.md).
#pragma once

#include <cstdint>
#include <string_view>

namespace vespid::localbus {

struct Config {
  // The largest payload one message may carry; a larger one is refused with VSP_E_OVERFLOW.
  // 1 MiB, as nats-server's default max_payload, so that code tried on one runs on the other.
  uint64_t max_payload_bytes = 1024 * 1024;
  // The most bytes (subjects and payloads) waiting for the delivery thread; beyond it publish
  // and request are refused with VSP_E_OVERFLOW instead of growing memory.
  uint64_t max_queued_bytes = 64ull * 1024 * 1024;
  // A request's timeout when the caller gives none (0).
  uint32_t request_timeout_ms = 5000;
};

// Parses and validates. Throws vsp::Error(VSP_E_INVALID) naming the offending key.
Config parse_config(std::string_view json_text);

}  // namespace vespid::localbus
