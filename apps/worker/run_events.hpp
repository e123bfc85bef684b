// The events a worker appends to a run's log (the reference worker's names) and the bounds they
// are kept within: the gateway refuses a message or error over 4000 characters, and an event
// payload carries a summary of a large output, not the whole of it (the cursor has that).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "run_walk.hpp"

namespace vespid::worker {

// The gateway's limit on an event's message and a run's error.
inline constexpr std::size_t kMaxMessageBytes = 4000;
// How much of a value an event payload carries before it is summarised.
inline constexpr std::size_t kEventValueMaxBytes = 4000;

// `text` cut to at most `max` bytes at a UTF-8 character boundary.
std::string clip_utf8(const std::string& text, std::size_t max);
// `text` with invalid UTF-8 sequences replaced by U+FFFD (JSON text must be valid UTF-8).
std::string valid_utf8(const std::string& text);
// The value itself when its JSON text is at most `max` bytes, else {truncated: true, preview,
// originalLength}, as the reference summarises event payloads.
nlohmann::json summarize(const nlohmann::json& value, std::size_t max = kEventValueMaxBytes);

namespace events {

nlohmann::json run_started(const std::string& worker_id, int attempt, bool resumed);
nlohmann::json node_started(const PlanNode& node);
nlohmann::json node_dispatched(const PlanNode& node, const std::string& request_id,
                               const std::string& how);  // dispatched | alreadyInFlight | cached
nlohmann::json remote_result_received(const PlanNode& node, const std::string& request_id,
                                      bool succeeded);
nlohmann::json node_succeeded(const PlanNode& node, const nlohmann::json& output,
                              const nlohmann::json& explain = nullptr);
nlohmann::json node_failed(const PlanNode& node, const std::string& error);
nlohmann::json node_skipped(const PlanNode& node, const std::string& reason,
                            const nlohmann::json& blockers);
nlohmann::json run_retried(int attempt, int max_attempts, int64_t retry_delay_ms,
                           const std::string& error);
nlohmann::json run_succeeded(const nlohmann::json& output);
nlohmann::json run_failed(const std::string& error, int attempt, int max_attempts);

}  // namespace events
}  // namespace vespid::worker
