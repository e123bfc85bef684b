#include "host_payload.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace vespid::worker {

using nlohmann::json;

namespace {

constexpr int64_t kDefaultTimeoutMs = 60'000;
constexpr int64_t kMinTimeoutMs = 1'000;

struct LimitRange {
  const char* name;
  int64_t fallback, min, max;
};

// The reference's agent.run node schema: its defaults and bounds (the gateway's session turns
// fill the same, core/services/sessions/agent_run_payload.cpp).
constexpr LimitRange kAgentLimits[] = {
    {"maxTurns", 8, 1, 64},
    {"maxToolCalls", 20, 0, 200},
    {"timeoutMs", 60000, 1000, 600000},
    {"maxOutputChars", 50000, 256, 1000000},
    {"maxRuntimeChars", 200000, 1024, 2000000},
};

const json& member_or_null(const json& j, const char* key) {
  static const json null_json;
  if (!j.is_object()) return null_json;
  auto it = j.find(key);
  return it == j.end() ? null_json : *it;
}

std::string text(const json& j, const char* key) {
  const json& v = member_or_null(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

HostCall refuse(std::string error) {
  HostCall c;
  c.error = std::move(error);
  return c;
}

json agent_run_payload(const PlanNode& node, const RunFacts& run, int attempt, const json& steps) {
  json config = node.spec.value("config", json::object());
  if (!config.is_object()) config = json::object();
  // What the reference worker's schema fills in before it dispatches: tools.allow, limits and
  // output with their defaults.
  json tools = config.value("tools", json::object());
  if (!tools.is_object()) tools = json::object();
  json allow = tools.value("allow", json::array());
  if (!allow.is_array()) allow = json::array();
  json unique = json::array();
  std::set<std::string> seen;
  for (const json& a : allow)
    if (a.is_string() && seen.insert(a.get<std::string>()).second) unique.push_back(a);
  tools["allow"] = unique;
  config["tools"] = tools;
  config["limits"] = normalized_agent_limits(config.value("limits", json()));
  if (!config.contains("output") || !config["output"].is_object())
    config["output"] = {{"mode", "text"}};
  return {{"nodeId", node.id},
          {"node", {{"id", node.id}, {"type", node.type}, {"config", std::move(config)}}},
          {"policyToolsAllow", allow},
          {"effectiveToolsAllow", unique},
          {"runId", run.run_id},
          {"workflowId", run.workflow_id},
          {"attemptCount", attempt},
          {"runInput", run.input},
          {"steps", steps},
          {"organizationSettings", nullptr},
          {"env", {{"githubApiBaseUrl", kGithubApiBaseUrl}}},
          {"secrets", json::object()}};
}

json agent_execute_payload(const PlanNode& node, const RunFacts& run, int attempt) {
  json n = {{"id", node.id}, {"type", node.type}};
  if (node.spec.contains("config")) n["config"] = node.spec["config"];
  return {{"nodeId", node.id},
          {"node", std::move(n)},
          {"runId", run.run_id},
          {"workflowId", run.workflow_id},
          {"attemptCount", attempt}};
}

}  // namespace

bool is_host_node_type(const std::string& type) {
  return type == "agent.run" || type == "agent.execute" || type == "connector.action";
}

int64_t node_timeout_ms(const json& node_spec, int64_t max_ms) {
  const json& config = member_or_null(node_spec, "config");
  int64_t t = kDefaultTimeoutMs;
  const json* candidates[] = {&member_or_null(member_or_null(config, "limits"), "timeoutMs"),
                              &member_or_null(config, "timeoutMs"),
                              &member_or_null(member_or_null(config, "sandbox"), "timeoutMs")};
  for (const json* c : candidates) {
    if (c->is_number() && std::isfinite(c->get<double>())) {
      t = static_cast<int64_t>(c->get<double>());
      break;
    }
  }
  return std::clamp<int64_t>(t, kMinTimeoutMs, std::max(kMinTimeoutMs, max_ms));
}

std::string request_id_for(const std::string& run_id, const std::string& node_id, int attempt) {
  return run_id + ":" + node_id + ":" + std::to_string(attempt);
}

json normalized_agent_limits(const json& limits) {
  json out = json::object();
  for (const LimitRange& l : kAgentLimits) {
    int64_t v = l.fallback;
    const json& given = member_or_null(limits, l.name);
    if (given.is_number() && std::isfinite(given.get<double>())) {
      v = static_cast<int64_t>(std::clamp(std::floor(given.get<double>()),
                                          static_cast<double>(l.min), static_cast<double>(l.max)));
    }
    out[l.name] = v;
  }
  return out;
}

HostCall host_call_for(const PlanNode& node, const RunFacts& run, int attempt, const json& steps,
                       int64_t max_timeout_ms) {
  const json& config = member_or_null(node.spec, "config");
  const json& execution = member_or_null(config, "execution");
  const std::string mode = text(execution, "mode");
  if (mode != "node") {
    return refuse("CLOUD_EXECUTION_UNAVAILABLE: node " + node.id + " (" + node.type + ") runs " +
                  (mode.empty() ? "in the cloud by default" : "in mode \"" + mode + "\"") +
                  ", and this gateway has no cloud executor; set config.execution.mode to "
                  "\"node\" to run it on a node host");
  }
  // ':' separates the parts of a request id; the gateway refuses such a node id.
  if (node.id.find(':') != std::string::npos) {
    return refuse("INVALID_NODE_CONFIG: node id \"" + node.id +
                  "\" contains ':', which a node host request id cannot carry");
  }

  HostCall c;
  c.timeout_ms = node_timeout_ms(node.spec, max_timeout_ms);
  c.request_id = request_id_for(run.run_id, node.id, attempt);
  json payload;
  if (node.type == "agent.run") {
    const json& prompt = member_or_null(config, "prompt");
    if (text(prompt, "instructions").empty()) {
      return refuse("INVALID_NODE_CONFIG: agent.run node " + node.id +
                    " needs config.prompt.instructions");
    }
    payload = agent_run_payload(node, run, attempt, steps);
  } else if (node.type == "agent.execute") {
    payload = agent_execute_payload(node, run, attempt);
  } else if (node.type == "connector.action") {
    const std::string connector = text(config, "connectorId");
    const std::string action = text(config, "actionId");
    if (connector.empty() || action.empty()) {
      return refuse("INVALID_NODE_CONFIG: connector.action node " + node.id +
                    " needs config.connectorId and config.actionId");
    }
    payload = {{"connectorId", connector},
               {"actionId", action},
               {"env", {{"githubApiBaseUrl", kGithubApiBaseUrl}}}};
    if (config.contains("input")) payload["input"] = config["input"];
  } else {
    return refuse("INVALID_NODE_CONFIG: node type " + node.type + " does not run on a node host");
  }

  c.body = {{"organizationId", run.organization_id},
            {"requestedByUserId", run.requested_by_user_id},
            {"runId", run.run_id},
            {"workflowId", run.workflow_id},
            {"nodeId", node.id},
            {"nodeType", node.type},
            {"attemptCount", attempt},
            {"kind", node.type},
            {"payload", std::move(payload)},
            {"timeoutMs", c.timeout_ms}};
  const json& selector = member_or_null(execution, "selector");
  if (const std::string tag = text(selector, "tag"); !tag.empty()) c.body["selectorTag"] = tag;
  if (const std::string group = text(selector, "group"); !group.empty())
    c.body["selectorGroup"] = group;
  if (const std::string agent = text(selector, "agentId"); !agent.empty())
    c.body["selectorAgentId"] = agent;
  c.ok = true;
  return c;
}

}  // namespace vespid::worker
