#include "loop_engine.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "../http_client.hpp"
#include "../sse_parser.hpp"
#include "dial_url.hpp"  // libs/url

namespace vespid::agent {

namespace {

constexpr const char* kDefaultBaseUrl = "https://api.openai.com/v1";

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : fallback;
}

std::string excerpt(const std::string& s) {
  constexpr std::size_t kMax = 500;
  return s.size() <= kMax ? s : s.substr(0, kMax) + "...";
}

// The provider's own explanation when the body is the usual {error: {message}}.
std::string error_detail(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) {
      return e["message"].get<std::string>();
    }
    if (e.is_string()) return e.get<std::string>();
  }
  return excerpt(body);
}

}  // namespace

nlohmann::json loop_request_body(const AgentTask& task) {
  nlohmann::json messages = nlohmann::json::array();
  std::string system;
  for (const std::string* part : {&task.system, &task.instructions, &task.toolset_context}) {
    if (part->empty()) continue;
    if (!system.empty()) system += "\n\n";
    system += *part;
  }
  if (!system.empty()) messages.push_back({{"role", "system"}, {"content", system}});
  if (task.history.is_array()) {
    for (const auto& h : task.history) {
      if (!h.is_object()) continue;
      const std::string role = h.value("role", std::string());
      if (role != "user" && role != "assistant") continue;
      if (!h.contains("content") || !h["content"].is_string()) continue;
      messages.push_back({{"role", role}, {"content", h["content"]}});
    }
  }
  messages.push_back({{"role", "user"}, {"content", task.message}});
  return {{"model", task.model}, {"stream", true}, {"messages", messages}};
}

EngineResult run_loop_engine(const AgentTask& task, EngineIo& io) {
  const std::string key = env_or("OPENAI_API_KEY", "");
  if (key.empty()) {
    return {false,
            {},
            "OPENAI_API_KEY_MISSING: vespid.loop.v1 needs OPENAI_API_KEY in the node host's "
            "environment (the gateway never sends LLM keys)"};
  }
  if (task.model.empty()) {
    return {false, {}, "INVALID_PAYLOAD: vespid.loop.v1 needs a model"};
  }
  const std::string url = join_url(env_or("OPENAI_BASE_URL", kDefaultBaseUrl), "/chat/completions");

  HttpRequest req;
  req.method = "POST";
  req.url = url;
  req.headers = {{"Authorization", "Bearer " + key},
                 {"Content-Type", "application/json"},
                 {"Accept", "text/event-stream"}};
  req.body = loop_request_body(task).dump();
  req.idle_timeout = std::chrono::seconds(120);
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      task.deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return {false, {}, "TIMEOUT: the engine did not finish in time"};
  req.total_timeout = left;
  req.cancelled = io.cancelled;

  EngineResult r;
  bool done = false, stop = false;
  std::string stream_error;
  SseParser sse([&](const SseEvent& ev) {
    if (done || stop || !stream_error.empty()) return;
    if (ev.data == "[DONE]") {
      done = true;
      return;
    }
    const auto j = nlohmann::json::parse(ev.data, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      stream_error = "LLM_STREAM_INVALID: a stream event is not a JSON object: " + excerpt(ev.data);
      return;
    }
    if (j.contains("error")) {
      stream_error = "LLM_STREAM_ERROR: " + error_detail(ev.data);
      return;
    }
    const auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array() || choices->empty()) return;
    const auto& first = (*choices)[0];
    if (!first.is_object() || !first.contains("delta") || !first["delta"].is_object()) return;
    const auto& delta = first["delta"];
    const auto content = delta.find("content");
    if (content == delta.end() || !content->is_string()) return;
    const std::string piece = content->get<std::string>();
    if (piece.empty()) return;
    r.text += piece;
    if (!io.delta(piece)) stop = true;
  });

  HttpResponse res;
  try {
    res = http_fetch(req, [&](std::string_view chunk) {
      sse.feed(chunk);
      if (io.cancelled()) return false;
      return !(done || stop || !stream_error.empty());
    });
  } catch (const HttpError& e) {
    if (io.cancelled()) return {false, {}, "CANCELLED: the node host is shutting down"};
    return {false, {}, std::string("LLM_REQUEST_FAILED: ") + e.what()};
  }
  if (res.status < 200 || res.status >= 300) {
    return {false,
            {},
            "LLM_HTTP_ERROR: HTTP " + std::to_string(res.status) + " from " + url + ": " +
                error_detail(res.body)};
  }
  if (!done && !stop) sse.finish();
  if (io.cancelled()) return {false, {}, "CANCELLED: the node host is shutting down"};
  if (!stream_error.empty()) return {false, {}, stream_error};
  if (!done && !stop) {
    spdlog::warn("the chat-completions stream from {} ended without [DONE]", url);
  }
  r.ok = true;
  return r;
}

}  // namespace vespid::agent
