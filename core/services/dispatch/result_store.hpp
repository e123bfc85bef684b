// Dispatch results over storage, kept for dispatch.results_ttl_ms and so surviving a restart.
// A result written by a node host is final: the host's resends (results are at-least-once) find
// it and change nothing. A result the gateway wrote itself (NODE_EXECUTION_TIMEOUT) gives way to
// the host's real answer if that arrives later.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "runtime/task.hpp"
#include "services/dispatch/recent_results.hpp"
#include "storage/storage_service.hpp"

namespace vespid::dispatch {

struct StoredResult {
  std::string request_id;
  std::string org_id;
  std::string agent_id;          // the host that ran it (empty if none did)
  std::string source = "agent";  // "agent" or "gateway"
  nlohmann::json result;         // {status, output?, error?}: what GET results answers
  int64_t stored_at_ms = 0;
  int64_t expires_at_ms = 0;
  // The same object as JSON text, when it came as text (a host's answer, HostResult): stored
  // in place of `result`, which is then left empty. Read back, it is `result` again.
  std::string result_text;
};

class ResultStore {
 public:
  // `recent_bytes`: the budget of the host results kept in memory for the reads that follow
  // them (RecentResults; dispatch.result_cache_bytes), 0 for none.
  ResultStore(core::StorageService& storage, int64_t ttl_ms, std::size_t recent_bytes = 0)
      : storage_(storage), ttl_ms_(ttl_ms), recent_(recent_bytes) {}

  // The unexpired result, if any: from memory when this instance stored it lately, else from
  // storage.
  core::Task<std::optional<StoredResult>> get(std::string request_id);

  enum class Stored { Written, Duplicate };
  // Writes `r` (stamping its times) and removes the request's outstanding-dispatch record in the
  // same transaction. Duplicate when a host's result is already there.
  core::Task<Stored> put(StoredResult r);

  // Deletes up to `limit` expired results; returns how many.
  core::Task<size_t> sweep(int64_t now_ms, uint32_t limit);

  int64_t ttl_ms() const noexcept { return ttl_ms_; }

 private:
  core::StorageService& storage_;
  int64_t ttl_ms_;
  RecentResults recent_;
};

nlohmann::json to_stored_json(const StoredResult& r);
// The same object as text, byte for byte what dumping to_stored_json(r) gives; with a
// `result_text`, that text in the place of "result".
std::string to_stored_text(const StoredResult& r);
StoredResult stored_result_from(const nlohmann::json& j);

}  // namespace vespid::dispatch
