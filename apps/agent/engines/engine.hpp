// What an agent engine gets and gives. The executor (executor.hpp) owns the events around a run
// (agent.start, toolset_skills_applied, assistant_message, final); an engine only produces text,
// handing each piece to `delta` as it comes.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace vespid::agent {

struct AgentTask {
  std::string engine;
  std::string model;
  std::string system;  // the reference's prompt.system, may be empty
  std::string instructions;
  std::string message;
  nlohmann::json history = nlohmann::json::array();  // [{role: user|assistant, content}]
  std::string toolset_context;                       // toolset_skills.hpp's text, may be empty
  std::chrono::steady_clock::time_point deadline;
};

struct EngineIo {
  // Streams one piece of the answer (an `agent.assistant_delta`). Returns false when the engine
  // should stop producing (the output cap was reached or the run was cancelled).
  std::function<bool(const std::string&)> delta;
  // True once the node host is shutting down.
  std::function<bool()> cancelled;
};

struct EngineResult {
  bool ok = false;
  std::string text;   // the whole answer, when ok
  std::string error;  // `CODE: message`, when not ok
};

using EngineFn = std::function<EngineResult(const AgentTask&, EngineIo&)>;

}  // namespace vespid::agent
