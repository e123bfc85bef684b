#include "reference_agent_run.hpp"

#include <regex>
#include <set>

namespace vespid::test {

using nlohmann::json;

namespace {

bool text_between(const json& v, size_t min, size_t max) {
  return v.is_string() && v.get_ref<const std::string&>().size() >= min &&
         v.get_ref<const std::string&>().size() <= max;
}

bool int_between(const json& v, int64_t min, int64_t max) {
  return v.is_number_integer() && v.get<int64_t>() >= min && v.get<int64_t>() <= max;
}

bool is_url(const json& v) {
  static const std::regex url("^[a-z][a-z0-9+.-]*://[^\\s/]+(/\\S*)?$", std::regex::icase);
  return v.is_string() && std::regex_match(v.get<std::string>(), url);
}

// An optional member: absent passes, present must satisfy `ok`.
template <class F>
bool optional(const json& obj, const char* key, F ok) {
  return !obj.contains(key) || ok(obj[key]);
}

std::string node_refusal(const json& node) {
  if (!node.is_object() || !text_between(node.value("id", json()), 1, SIZE_MAX))
    return "node.id must be a non-empty string";
  if (node.value("type", "") != "agent.run") return "node.type must be agent.run";
  const json& c = node.value("config", json());
  if (!c.is_object()) return "node.config must be an object";
  const json& llm = c.value("llm", json());
  if (!llm.is_object()) return "config.llm must be an object";
  static const std::set<std::string> providers = {"openai", "anthropic", "gemini", "vertex"};
  if (!optional(llm, "provider",
                [](const json& p) { return p.is_string() && providers.count(p) != 0; }))
    return "config.llm.provider is not one of the reference's providers";
  if (!optional(llm, "model", [](const json& m) { return text_between(m, 1, 120); }))
    return "config.llm.model must be 1..120 characters";
  static const std::set<std::string> engines = {"vespid.loop.v1", "claude.agent-sdk.v1",
                                                "codex.sdk.v1"};
  std::string engine = "vespid.loop.v1";
  if (c.contains("engine")) {
    const json& e = c["engine"];
    if (!e.is_object()) return "config.engine must be an object";
    if (e.contains("id")) {
      if (!e["id"].is_string() || engines.count(e["id"]) == 0)
        return "config.engine.id is not one of the reference's engines";
      engine = e["id"];
    }
  }
  std::string mode = "cloud";
  if (c.contains("execution")) {
    if (!c["execution"].is_object()) return "config.execution must be an object";
    mode = c["execution"].value("mode", "cloud");
    if (mode != "cloud" && mode != "node") return "config.execution.mode must be cloud|node";
  }
  if (engine != "vespid.loop.v1" && mode != "node")
    return "an engine other than vespid.loop.v1 requires execution.mode=node";
  const json& prompt = c.value("prompt", json());
  if (!prompt.is_object()) return "config.prompt must be an object";
  if (!text_between(prompt.value("instructions", json()), 1, 200000))
    return "config.prompt.instructions must be 1..200000 characters";
  if (!optional(prompt, "system", [](const json& s) { return text_between(s, 0, 200000); }))
    return "config.prompt.system must be a string of at most 200000 characters";
  if (c.contains("tools")) {
    const json& t = c["tools"];
    if (!t.is_object() || !t.value("allow", json()).is_array()) return "config.tools.allow";
    for (const auto& a : t["allow"])
      if (!text_between(a, 1, 120)) return "config.tools.allow entries must be 1..120 characters";
  }
  if (c.contains("limits")) {
    const json& l = c["limits"];
    if (!l.is_object()) return "config.limits must be an object";
    struct Range {
      const char* key;
      int64_t min, max;
    };
    for (const Range& r :
         {Range{"maxTurns", 1, 64}, Range{"maxToolCalls", 0, 200}, Range{"timeoutMs", 1000, 600000},
          Range{"maxOutputChars", 256, 1000000}, Range{"maxRuntimeChars", 1024, 2000000}}) {
      if (!optional(l, r.key, [&](const json& v) { return int_between(v, r.min, r.max); }))
        return std::string("config.limits.") + r.key + " is out of the reference's range";
    }
  }
  return {};
}

}  // namespace

bool is_uuid(const json& v) {
  // zod's z.string().uuid() (the version the reference locks): version digit 1-8, variant digit
  // 8, 9, a or b, or the nil and max uuids.
  static const std::regex uuid(
      "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
      "|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$");
  return v.is_string() && std::regex_match(v.get<std::string>(), uuid);
}

std::string reference_agent_refusal(const json& ex) {
  // The frame: anything else is dropped silently (the turn then times out).
  if (!ex.is_object() || ex.value("type", "") != "execute") return "not an execute frame";
  if (!text_between(ex.value("requestId", json()), 1, SIZE_MAX)) return "requestId";
  if (!is_uuid(ex.value("organizationId", json()))) return "organizationId is not a uuid";
  if (!is_uuid(ex.value("userId", json()))) return "userId is not a uuid";
  const std::string kind = ex.value("kind", "");
  if (kind != "agent.run" && kind != "agent.execute" && kind != "connector.action") return "kind";
  if (!optional(ex, "secret", [](const json& s) { return text_between(s, 1, SIZE_MAX); }))
    return "secret";
  if (kind != "agent.run") return {};
  // The agent.run payload: INVALID_AGENT_RUN_PAYLOAD when this fails.
  const json& p = ex.value("payload", json());
  if (!p.is_object()) return "INVALID_AGENT_RUN_PAYLOAD: payload";
  if (!text_between(p.value("nodeId", json()), 1, SIZE_MAX))
    return "INVALID_AGENT_RUN_PAYLOAD: nodeId";
  if (!p.contains("node")) return "INVALID_AGENT_RUN_PAYLOAD: node";
  if (!is_uuid(p.value("runId", json()))) return "INVALID_AGENT_RUN_PAYLOAD: runId";
  if (!is_uuid(p.value("workflowId", json()))) return "INVALID_AGENT_RUN_PAYLOAD: workflowId";
  if (!int_between(p.value("attemptCount", json()), 1, 1000))
    return "INVALID_AGENT_RUN_PAYLOAD: attemptCount";
  const json& env = p.value("env", json());
  if (!env.is_object() || !is_url(env.value("githubApiBaseUrl", json())))
    return "INVALID_AGENT_RUN_PAYLOAD: env.githubApiBaseUrl";
  for (const char* list : {"policyToolsAllow", "effectiveToolsAllow"}) {
    if (!p.contains(list)) continue;
    if (!p[list].is_array()) return std::string("INVALID_AGENT_RUN_PAYLOAD: ") + list;
    for (const auto& a : p[list])
      if (!text_between(a, 1, 120)) return std::string("INVALID_AGENT_RUN_PAYLOAD: ") + list;
  }
  if (p.contains("toolset")) {
    const json& t = p["toolset"];
    if (!t.is_object() || !is_uuid(t.value("id", json())) ||
        !text_between(t.value("name", json()), 1, 120))
      return "INVALID_AGENT_RUN_PAYLOAD: toolset";
  }
  if (p.contains("secrets") && !p["secrets"].is_object())
    return "INVALID_AGENT_RUN_PAYLOAD: secrets";
  // The node: INVALID_AGENT_RUN_NODE when this fails.
  if (std::string why = node_refusal(p["node"]); !why.empty())
    return "INVALID_AGENT_RUN_NODE: " + why;
  return {};
}

}  // namespace vespid::test
