#include "services/sessions/agent_run_payload.hpp"

#include <algorithm>
#include <cmath>

#include "runtime/json_fields.hpp"

namespace vespid::sessions {

using nlohmann::json;

namespace {

// A session created without instructions still needs some: the reference's node schema
// requires a non-empty prompt.instructions.
constexpr const char* kDefaultInstructions = "Answer the user's message.";

struct LimitRange {
  const char* name;
  int64_t fallback, min, max;
};

// The reference gateway's normalizeLimits: its defaults and bounds.
constexpr LimitRange kLimits[] = {
    {"maxTurns", 8, 1, 64},
    {"maxToolCalls", 20, 0, 200},
    {"timeoutMs", 60000, 1000, 600000},
    {"maxOutputChars", 50000, 256, 1000000},
    {"maxRuntimeChars", 200000, 1024, 2000000},
};

}  // namespace

json normalized_limits(const json& stored) {
  json out = json::object();
  for (const LimitRange& l : kLimits) {
    int64_t v = l.fallback;
    if (stored.is_object()) {
      auto it = stored.find(l.name);
      if (it != stored.end() && it->is_number() && std::isfinite(it->get<double>())) {
        v = static_cast<int64_t>(std::clamp(
            std::floor(it->get<double>()), static_cast<double>(l.min), static_cast<double>(l.max)));
      }
    }
    out[l.name] = v;
  }
  return out;
}

json agent_run_payload(const TurnInput& in) {
  const json& s = in.session;
  const std::string session_id = core::fields::string_if(s, "id");
  const json tools_allow =
      s.contains("toolsAllow") && s["toolsAllow"].is_array() ? s["toolsAllow"] : json::array();

  json llm = {{"provider", core::fields::string_if(s, "llmProvider")},
              {"auth", {{"fallbackToEnv", true}}}};
  if (llm["provider"].get_ref<const std::string&>().empty()) llm["provider"] = "openai";
  // Absent rather than empty: the node schema's default model applies then.
  if (const std::string model = core::fields::string_if(s, "model"); !model.empty())
    llm["model"] = model;

  json prompt = json::object();
  if (s.contains("promptSystem") && s["promptSystem"].is_string())
    prompt["system"] = s["promptSystem"];
  std::string instructions = core::fields::string_if(s, "instructions");
  prompt["instructions"] = instructions.empty() ? kDefaultInstructions : instructions;

  json config = {{"llm", std::move(llm)},
                 {"execution", {{"mode", "node"}}},
                 {"engine", {{"id", core::fields::string_if(s, "engine")}}},
                 {"prompt", std::move(prompt)},
                 {"tools", {{"allow", tools_allow}, {"execution", "node"}}},
                 {"limits", normalized_limits(s.contains("limits") ? s["limits"] : json())},
                 {"output", {{"mode", "text"}}}};

  json steps = json::array();
  for (const json& h : in.history) steps.push_back(h);
  // The reference's steps end with the turn's own user message (its transcript is read after
  // storing it); vespid-agent drops that copy, having the message in runInput.
  steps.push_back({{"role", "user"}, {"content", in.message}});

  json payload = {{"nodeId", kTurnNodeId},
                  {"node", {{"id", kTurnNodeId}, {"type", "agent.run"}, {"config", config}}},
                  {"policyToolsAllow", tools_allow},
                  {"effectiveToolsAllow", tools_allow},
                  {"runId", session_id},
                  {"workflowId", session_id},
                  {"attemptCount", in.attempt_count},
                  {"runInput", {{"message", in.message}}},
                  {"steps", std::move(steps)},
                  {"organizationSettings", nullptr},
                  {"env", {{"githubApiBaseUrl", in.github_api_base_url}}},
                  {"secrets", json::object()}};
  if (s.contains("toolset") && s["toolset"].is_object()) payload["toolset"] = s["toolset"];
  return payload;
}

}  // namespace vespid::sessions
