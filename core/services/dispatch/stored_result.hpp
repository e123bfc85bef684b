// A dispatch's result as it is stored (ResultStore) and answered (GET /internal/v1/results).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace vespid::dispatch {

struct StoredResult {
  std::string request_id;
  std::string org_id;
  std::string agent_id;          // the host that ran it (empty if none did)
  std::string source = "agent";  // "agent" or "gateway"
  nlohmann::json result;         // {status, output?, error?}: what GET results answers
  int64_t stored_at_ms = 0;
  int64_t expires_at_ms = 0;
};

}  // namespace vespid::dispatch
