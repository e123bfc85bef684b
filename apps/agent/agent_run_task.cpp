#include "agent_run_task.hpp"

#include "engines/loop_engine.hpp"

namespace vespid::agent {

using nlohmann::json;

namespace {

// The model the reference's node schema fills in when a node names none.
constexpr const char* kReferenceDefaultModel = "gpt-4.1-mini";

const json* member(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string text(const json& j, const char* key) {
  const json* m = member(j, key);
  return m != nullptr && m->is_string() ? m->get<std::string>() : std::string();
}

void read_limits(const json* limits, AgentRun& out) {
  if (limits == nullptr || !limits->is_object()) return;
  if (const json* m = member(*limits, "maxOutputChars"); m && m->is_number_unsigned())
    out.max_output_chars = m->get<std::size_t>();
  if (const json* t = member(*limits, "timeoutMs"); t && t->is_number_unsigned())
    out.timeout = std::chrono::milliseconds(t->get<std::int64_t>());
}

// {role: user|assistant, content: string} entries only: the reference's steps also carry other
// events ({type, level, payload}), which are context for its engines, not conversation.
json conversation_of(const json& steps) {
  json out = json::array();
  if (!steps.is_array()) return out;
  for (const json& s : steps) {
    const std::string role = text(s, "role");
    const json* content = member(s, "content");
    if ((role == "user" || role == "assistant") && content != nullptr && content->is_string())
      out.push_back({{"role", role}, {"content", *content}});
  }
  return out;
}

// The user's message of a run: runInput.message (a session turn), runInput itself when it is a
// string, else runInput as JSON text (a workflow node's input).
std::string message_of(const json* run_input) {
  if (run_input == nullptr || run_input->is_null()) return {};
  if (run_input->is_string()) return run_input->get<std::string>();
  if (const json* m = member(*run_input, "message"); m != nullptr && m->is_string())
    return m->get<std::string>();
  return run_input->dump();
}

std::string read_reference_shape(const json& payload, AgentRun& out) {
  const json& node = payload["node"];
  if (!node.is_object()) return "INVALID_AGENT_RUN_PAYLOAD: \"node\" must be an object";
  if (text(node, "type") != "agent.run")
    return "INVALID_AGENT_RUN_NODE: node.type must be \"agent.run\"";
  const json* config = member(node, "config");
  if (config == nullptr || !config->is_object())
    return "INVALID_AGENT_RUN_NODE: node.config must be an object";
  const json* prompt = member(*config, "prompt");
  const std::string instructions = prompt != nullptr ? text(*prompt, "instructions") : "";
  if (instructions.empty())
    return "INVALID_AGENT_RUN_NODE: node.config.prompt.instructions must be a non-empty string";

  AgentTask& t = out.task;
  const json* engine = member(*config, "engine");
  t.engine = engine != nullptr ? text(*engine, "id") : "";
  if (t.engine.empty()) t.engine = kLoopEngineId;  // the reference's default engine
  const json* llm = member(*config, "llm");
  t.model = llm != nullptr ? text(*llm, "model") : "";
  if (t.model.empty()) t.model = kReferenceDefaultModel;
  t.system = text(*prompt, "system");
  t.instructions = instructions;
  t.message = message_of(member(payload, "runInput"));
  t.history = conversation_of(payload.value("steps", json()));
  // The reference's steps end with the turn's own message, which is also runInput's.
  if (!t.history.empty() && t.history.back()["role"] == "user" &&
      t.history.back()["content"] == t.message) {
    t.history.erase(t.history.size() - 1);
  }
  read_limits(member(*config, "limits"), out);
  if (const json* ts = member(payload, "toolset"); ts != nullptr) out.toolset = *ts;
  return {};
}

std::string read_flat_shape(const std::string& kind, const json& payload, AgentRun& out) {
  AgentTask& t = out.task;
  t.engine = text(payload, "engine");
  t.model = text(payload, "model");
  t.instructions = text(payload, "instructions");
  t.system = text(payload, "system");
  if (const json* m = member(payload, "message"); m != nullptr && m->is_string()) {
    t.message = m->get<std::string>();
  } else if (const json* p = member(payload, "prompt"); p != nullptr && p->is_string()) {
    t.message = p->get<std::string>();
  } else {
    return "INVALID_PAYLOAD: " + kind + " needs a string \"message\"";
  }
  if (const json* h = member(payload, "history"); h != nullptr) {
    if (!h->is_array()) return "INVALID_PAYLOAD: \"history\" must be an array";
    t.history = *h;
  }
  if (t.engine.empty()) return "INVALID_PAYLOAD: " + kind + " needs an \"engine\"";
  read_limits(member(payload, "limits"), out);
  if (const json* ts = member(payload, "toolset"); ts != nullptr) out.toolset = *ts;
  return {};
}

}  // namespace

std::string read_agent_run(const std::string& kind, const json& payload, AgentRun& out) {
  if (!payload.is_object()) {
    return kind == "agent.run" ? "INVALID_AGENT_RUN_PAYLOAD: the payload must be an object"
                               : "INVALID_PAYLOAD: " + kind + " payload must be an object";
  }
  if (kind == "agent.run" && payload.contains("node")) return read_reference_shape(payload, out);
  return read_flat_shape(kind, payload, out);
}

}  // namespace vespid::agent
