#include "run_events.hpp"

namespace vespid::worker {

using nlohmann::json;

namespace {

json node_event(const char* type, const PlanNode& node, const char* level, json payload) {
  json e = {{"eventType", type},
            {"nodeId", node.id},
            {"nodeType", node.type},
            {"level", level},
            {"payload", std::move(payload)}};
  return e;
}

}  // namespace

std::string clip_utf8(const std::string& text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t cut = max;
  // Back up over continuation bytes (10xxxxxx) so a character is never split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

std::string valid_utf8(const std::string& text) {
  // nlohmann's replace handler writes U+FFFD for each invalid byte; reading its output back
  // gives the repaired string.
  return json::parse(json(text).dump(-1, ' ', false, json::error_handler_t::replace))
      .get<std::string>();
}

json summarize(const json& value, std::size_t max) {
  if (value.is_null()) return value;
  const std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() <= max) return value;
  return {{"truncated", true},
          {"preview", valid_utf8(clip_utf8(text, max))},
          {"originalLength", text.size()}};
}

namespace events {

json run_started(const std::string& worker_id, int attempt, bool resumed) {
  return {{"eventType", "run_started"},
          {"level", "info"},
          {"payload", {{"workerId", worker_id}, {"attemptCount", attempt}, {"resumed", resumed}}}};
}

json node_started(const PlanNode& node) {
  return node_event("node_started", node, "info", nullptr);
}

json node_dispatched(const PlanNode& node, const std::string& request_id, const std::string& how) {
  json p = {{"requestId", request_id}, {"kind", node.type}};
  if (how != "dispatched") p[how] = true;
  return node_event("node_dispatched", node, "info", std::move(p));
}

json remote_result_received(const PlanNode& node, const std::string& request_id, bool succeeded) {
  return node_event("remote_result_received", node, "info",
                    {{"requestId", request_id}, {"status", succeeded ? "succeeded" : "failed"}});
}

json node_succeeded(const PlanNode& node, const json& output, const json& explain) {
  json p = {{"output", summarize(output)}};
  if (!explain.is_null()) p["explain"] = explain;
  return node_event("node_succeeded", node, "info", std::move(p));
}

json node_failed(const PlanNode& node, const std::string& error) {
  json e =
      node_event("node_failed", node, "error", {{"error", clip_utf8(error, kMaxMessageBytes)}});
  e["message"] = clip_utf8(error, kMaxMessageBytes);
  return e;
}

json node_skipped(const PlanNode& node, const std::string& reason, const json& blockers) {
  json p = {{"reason", reason}};
  if (!blockers.is_null()) p["blockers"] = blockers;
  return node_event("node_skipped", node, "info", std::move(p));
}

json run_retried(int attempt, int max_attempts, int64_t retry_delay_ms, const std::string& error) {
  return {{"eventType", "run_retried"},
          {"level", "warn"},
          {"message", clip_utf8(error, kMaxMessageBytes)},
          {"payload",
           {{"attemptCount", attempt},
            {"nextAttemptCount", attempt + 1},
            {"maxAttempts", max_attempts},
            {"retryDelayMs", retry_delay_ms},
            {"error", clip_utf8(error, kMaxMessageBytes)}}}};
}

json run_succeeded(const json& output) {
  return {{"eventType", "run_succeeded"},
          {"level", "info"},
          {"payload", {{"output", summarize(output)}}}};
}

json run_failed(const std::string& error, int attempt, int max_attempts) {
  return {{"eventType", "run_failed"},
          {"level", "error"},
          {"message", clip_utf8(error, kMaxMessageBytes)},
          {"payload",
           {{"error", clip_utf8(error, kMaxMessageBytes)},
            {"attemptCount", attempt},
            {"maxAttempts", max_attempts}}}};
}

}  // namespace events
}  // namespace vespid::worker
