#include "executor.hpp"

#include <chrono>
#include <exception>

#include "agent_run_task.hpp"
#include "engines/echo_engine.hpp"
#include "engines/loop_engine.hpp"

namespace vespid::agent {

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Events {
 public:
  explicit Events(const EventCallback& cb) : cb_(cb) {}

  void emit(const std::string& kind, const std::string& level, const nlohmann::json& payload,
            const std::string& message = {}) {
    nlohmann::json ev = {{"seq", ++seq_}, {"ts", now_ms()}, {"kind", kind}, {"level", level}};
    if (!message.empty()) ev["message"] = message;
    if (!payload.is_null()) ev["payload"] = payload;
    if (cb_) cb_(ev);
  }

 private:
  const EventCallback& cb_;
  std::int64_t seq_ = 0;
};

ExecResult failed(std::string error) {
  ExecResult r;
  r.ok = false;
  r.error = std::move(error);
  return r;
}

std::string string_field(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

ExecResult run_agent(const std::string& kind, const nlohmann::json& payload, Events& events,
                     const ExecutorConfig& config) {
  AgentRun run;
  if (std::string error = read_agent_run(kind, payload, run); !error.empty()) {
    return failed(std::move(error));
  }
  AgentTask& task = run.task;
  const std::size_t max_output = run.max_output_chars;
  task.deadline = std::chrono::steady_clock::now() + run.timeout.value_or(config.default_timeout);

  EngineFn engine;
  if (task.engine == kEchoEngineId) {
    const auto delay = config.echo_delay;
    engine = [delay](const AgentTask& t, EngineIo& io) { return run_echo_engine(t, io, delay); };
  } else if (task.engine == kLoopEngineId) {
    engine = run_loop_engine;
  } else {
    const std::string error =
        "ENGINE_NOT_AVAILABLE: engine " + task.engine + " is not available on this node host";
    events.emit("agent.error", "error", {{"engine", task.engine}}, error);
    return failed(error);
  }

  events.emit("agent.start", "info", {{"engine", task.engine}, {"model", task.model}});

  if (!run.toolset.is_null()) {
    AppliedSkills skills;
    try {
      skills = apply_toolset_skills(run.toolset, config.skill_caps);
    } catch (const std::exception& e) {
      const std::string error = std::string("INVALID_PAYLOAD: ") + e.what();
      events.emit("agent.error", "error", nullptr, error);
      return failed(error);
    }
    events.emit("toolset_skills_applied", skills.truncated.empty() ? "info" : "warn",
                skills.event_payload());
    task.toolset_context = std::move(skills.text);
  }

  std::size_t produced = 0;
  bool capped = false;
  EngineIo io;
  const auto cancelled_by_gateway = [&config] {
    return config.cancelled != nullptr && config.cancelled->load();
  };
  io.cancelled = [&config, cancelled_by_gateway] {
    return (config.stopping != nullptr && config.stopping->load()) || cancelled_by_gateway();
  };
  io.delta = [&](const std::string& piece) {
    if (io.cancelled()) return false;
    std::string text = piece;
    if (max_output > 0) {
      const std::size_t len = utf8_length(text);
      if (produced + len > max_output) {
        text = text.substr(0, utf8_prefix_bytes(text, max_output - produced));
        capped = true;
      }
      produced += utf8_length(text);
    }
    if (!text.empty()) events.emit("agent.assistant_delta", "info", {{"text", text}});
    return !capped;
  };

  EngineResult r;
  try {
    r = engine(task, io);
  } catch (const std::exception& e) {
    r = {false, {}, std::string("ENGINE_FAILED: ") + e.what()};
  }
  if (cancelled_by_gateway()) {
    // The reference agent's code and event kind for a turn stopped by session_cancel.
    events.emit("turn_canceled", "info", nullptr, "turn_canceled");
    return failed("TURN_CANCELED: Turn canceled");
  }
  if (!r.ok) {
    events.emit("agent.error", "error", nullptr, r.error);
    return failed(r.error);
  }
  if (max_output > 0 && utf8_length(r.text) > max_output) {
    r.text = r.text.substr(0, utf8_prefix_bytes(r.text, max_output));
  }
  if (capped) {
    events.emit("agent.output_truncated", "warn", {{"maxOutputChars", max_output}},
                "the answer was cut at limits.maxOutputChars");
  }
  events.emit("agent.assistant_message", "info", {{"text", r.text}});
  events.emit("agent.final", "info", {{"text", r.text}});
  ExecResult out;
  out.ok = true;
  out.output = {{"text", r.text}};
  return out;
}

ExecResult run_connector(const nlohmann::json& payload) {
  if (!payload.is_object())
    return failed("INVALID_PAYLOAD: connector.action payload must be an object");
  const std::string connector = string_field(payload, "connectorId");
  const std::string action = string_field(payload, "actionId");
  if (connector.empty() || action.empty()) {
    return failed("INVALID_PAYLOAD: connector.action needs \"connectorId\" and \"actionId\"");
  }
  if (connector != "echo") {
    return failed("CONNECTOR_NOT_AVAILABLE: connector " + connector +
                  " is not available on this node host");
  }
  ExecResult r;
  r.ok = true;
  r.output = {{"connectorId", connector},
              {"actionId", action},
              {"input", payload.contains("input") ? payload["input"] : nlohmann::json(nullptr)}};
  return r;
}

}  // namespace

nlohmann::json ExecResult::frame(const std::string& request_id) const {
  nlohmann::json f = {{"type", "execute_result"},
                      {"requestId", request_id},
                      {"status", ok ? "succeeded" : "failed"}};
  if (ok) {
    f["output"] = output;
  } else {
    f["error"] = error;
  }
  return f;
}

const std::vector<std::string>& available_engines() {
  static const std::vector<std::string> v = {kEchoEngineId, kLoopEngineId};
  return v;
}

const std::vector<std::string>& available_connectors() {
  static const std::vector<std::string> v = {"echo"};
  return v;
}

const std::vector<std::string>& supported_kinds() {
  static const std::vector<std::string> v = {"agent.run", "agent.execute", "connector.action"};
  return v;
}

ExecResult run_execute(const std::string& kind, const nlohmann::json& payload,
                       const EventCallback& on_event, const ExecutorConfig& config) {
  Events events(on_event);
  try {
    if (kind == "agent.run" || kind == "agent.execute") {
      return run_agent(kind, payload, events, config);
    }
    if (kind == "connector.action") return run_connector(payload);
    return failed("KIND_NOT_SUPPORTED: kind " + kind + " is not supported by this node host");
  } catch (const std::exception& e) {
    return failed(std::string("NODE_EXECUTION_FAILED: ") + e.what());
  }
}

}  // namespace vespid::agent
