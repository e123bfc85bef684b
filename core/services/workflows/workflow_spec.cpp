#include "services/workflows/workflow_spec.hpp"

#include <deque>
#include <map>
#include <regex>
#include <set>

#include "runtime/time_zone.hpp"
#include "services/workflows/cron_schedule.hpp"

namespace vespid::workflows {

using nlohmann::json;

namespace {

const std::set<std::string> kNodeTypes = {"agent.run",
                                          "agent.execute",
                                          "connector.action",
                                          "http.request",
                                          "condition",
                                          "parallel.join",
                                          "connector.github.issue.create"};

// Collects the issues of one spec; each check names the path it looks at.
class Checker {
 public:
  std::vector<SpecIssue> issues;
  std::string node_id;  // the node being checked, stamped on its issues

  void fail(const std::string& field, const std::string& message,
            const std::string& code = "INVALID_SPEC") {
    issues.push_back({code, message, field, node_id, {}});
  }

  // A member that must be an object; null when missing (after reporting it if required).
  const json* object(const json& parent, const std::string& path, const char* key, bool required) {
    const std::string field = join(path, key);
    auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) {
      if (required) fail(field, field + " is required (an object)");
      return nullptr;
    }
    if (!it->is_object()) {
      fail(field, field + " must be an object");
      return nullptr;
    }
    return &*it;
  }

  void text(const json& parent, const std::string& path, const char* key, bool required, size_t min,
            size_t max) {
    const std::string field = join(path, key);
    auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) {
      if (required) fail(field, field + " is required (a string)");
      return;
    }
    if (!it->is_string() || it->get_ref<const std::string&>().size() < min ||
        it->get_ref<const std::string&>().size() > max) {
      fail(field, field + " must be a string of " + std::to_string(min) + " to " +
                      std::to_string(max) + " characters");
    }
  }

  void one_of(const json& parent, const std::string& path, const char* key, bool required,
              const std::set<std::string>& allowed) {
    const std::string field = join(path, key);
    auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) {
      if (required) fail(field, field + " is required");
      return;
    }
    if (!it->is_string() || allowed.count(it->get<std::string>()) == 0) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(field, field + " must be one of " + list);
    }
  }

  void integer(const json& parent, const std::string& path, const char* key, int64_t min,
               int64_t max) {
    auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) return;
    if (!it->is_number_integer() || it->get<int64_t>() < min || it->get<int64_t>() > max) {
      const std::string field = join(path, key);
      fail(field, field + " must be an integer from " + std::to_string(min) + " to " +
                      std::to_string(max));
    }
  }

  void uuid(const json& parent, const std::string& path, const char* key) {
    static const std::regex re(
        "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
    const std::string field = join(path, key);
    auto it = parent.find(key);
    if (it == parent.end() || !it->is_string() || !std::regex_match(it->get<std::string>(), re))
      fail(field, field + " must be a uuid");
  }

  void string_list(const json& parent, const std::string& path, const char* key, bool required) {
    const std::string field = join(path, key);
    auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) {
      if (required) fail(field, field + " is required (an array of names)");
      return;
    }
    if (!it->is_array()) {
      fail(field, field + " must be an array of names");
      return;
    }
    for (size_t i = 0; i < it->size(); ++i) {
      const json& v = (*it)[i];
      if (!v.is_string() || v.get_ref<const std::string&>().empty() ||
          v.get_ref<const std::string&>().size() > 120)
        fail(field + "[" + std::to_string(i) + "]", "each name is 1 to 120 characters");
    }
  }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
};

void check_execution(Checker& c, const json& config, const std::string& path) {
  const json* ex = c.object(config, path, "execution", false);
  if (ex == nullptr) return;
  const std::string p = Checker::join(path, "execution");
  c.one_of(*ex, p, "mode", false, {"cloud", "node"});
  const json* sel = c.object(*ex, p, "selector", false);
  if (sel == nullptr) return;
  const std::string sp = Checker::join(p, "selector");
  if (sel->contains("agentId")) c.uuid(*sel, sp, "agentId");
  if (sel->contains("tag")) c.text(*sel, sp, "tag", true, 1, 64);
  if (sel->contains("group")) c.text(*sel, sp, "group", true, 1, 64);
  if (sel->size() != 1) c.fail(sp, sp + " names exactly one of tag, group, agentId");
}

void check_agent_run(Checker& c, const json& node, const std::string& path) {
  const json* config = c.object(node, path, "config", true);
  if (config == nullptr) return;
  const std::string p = Checker::join(path, "config");
  if (const json* llm = c.object(*config, p, "llm", true)) {
    const std::string lp = Checker::join(p, "llm");
    c.one_of(*llm, lp, "provider", false, {"openai", "anthropic", "gemini", "vertex"});
    c.text(*llm, lp, "model", false, 1, 120);
  }
  if (const json* prompt = c.object(*config, p, "prompt", true)) {
    const std::string pp = Checker::join(p, "prompt");
    c.text(*prompt, pp, "instructions", true, 1, 200000);
    c.text(*prompt, pp, "system", false, 0, 200000);
    c.text(*prompt, pp, "inputTemplate", false, 0, 200000);
  }
  if (const json* engine = c.object(*config, p, "engine", false)) {
    c.text(*engine, Checker::join(p, "engine"), "id", false, 1, 128);
  }
  check_execution(c, *config, p);
  if (const json* tools = c.object(*config, p, "tools", false)) {
    c.string_list(*tools, Checker::join(p, "tools"), "allow", true);
  }
  if (const json* limits = c.object(*config, p, "limits", false)) {
    const std::string lp = Checker::join(p, "limits");
    c.integer(*limits, lp, "maxTurns", 1, 64);
    c.integer(*limits, lp, "maxToolCalls", 0, 200);
    c.integer(*limits, lp, "timeoutMs", 1000, 600000);
    c.integer(*limits, lp, "maxOutputChars", 256, 1000000);
    c.integer(*limits, lp, "maxRuntimeChars", 1024, 2000000);
  }
}

void check_agent_execute(Checker& c, const json& node, const std::string& path) {
  const json* config = c.object(node, path, "config", false);
  if (config == nullptr) return;
  const std::string p = Checker::join(path, "config");
  check_execution(c, *config, p);
  if (const json* task = c.object(*config, p, "task", false)) {
    const std::string tp = Checker::join(p, "task");
    c.one_of(*task, tp, "type", true, {"shell"});
    c.text(*task, tp, "script", true, 1, 200000);
    c.one_of(*task, tp, "shell", false, {"sh", "bash"});
  }
}

void check_connector_action(Checker& c, const json& node, const std::string& path) {
  const json* config = c.object(node, path, "config", true);
  if (config == nullptr) return;
  const std::string p = Checker::join(path, "config");
  c.text(*config, p, "connectorId", true, 1, 128);
  c.text(*config, p, "actionId", true, 1, 128);
  if (const json* auth = c.object(*config, p, "auth", true))
    c.uuid(*auth, Checker::join(p, "auth"), "secretId");
  check_execution(c, *config, p);
}

void check_http_request(Checker& c, const json& node, const std::string& path) {
  const json* config = c.object(node, path, "config", false);
  if (config == nullptr) return;
  const std::string p = Checker::join(path, "config");
  c.one_of(*config, p, "method", true,
           {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"});
  c.text(*config, p, "url", true, 1, 2000);
  if (const json* headers = c.object(*config, p, "headers", false)) {
    for (const auto& [k, v] : headers->items()) {
      if (!v.is_string()) c.fail(Checker::join(p, "headers." + k), "header values are strings");
    }
  }
}

void check_condition(Checker& c, const json& node, const std::string& path) {
  const json* config = c.object(node, path, "config", false);
  if (config == nullptr) return;
  const std::string p = Checker::join(path, "config");
  c.text(*config, p, "path", true, 1, 500);
  c.one_of(*config, p, "op", true, {"eq", "neq", "contains", "exists", "gt", "gte", "lt", "lte"});
  auto v = config->find("value");
  if (v != config->end() && !(v->is_string() || v->is_number() || v->is_boolean() || v->is_null()))
    c.fail(Checker::join(p, "value"), Checker::join(p, "value") +
                                          " must be a string, number, "
                                          "boolean or null");
}

void check_parallel_join(Checker& c, const json& node, const std::string& path) {
  const json* config = c.object(node, path, "config", false);
  if (config == nullptr) return;
  const std::string p = Checker::join(path, "config");
  c.one_of(*config, p, "mode", false, {"all"});
  auto ff = config->find("failFast");
  if (ff != config->end() && !ff->is_boolean())
    c.fail(Checker::join(p, "failFast"), Checker::join(p, "failFast") + " must be a boolean");
}

void check_github_issue(Checker& c, const json& node, const std::string& path) {
  const json* config = c.object(node, path, "config", true);
  if (config == nullptr) return;
  const std::string p = Checker::join(path, "config");
  static const std::regex repo("^[^/]+/[^/]+$");
  auto r = config->find("repo");
  if (r == config->end() || !r->is_string() || !std::regex_match(r->get<std::string>(), repo))
    c.fail(Checker::join(p, "repo"), Checker::join(p, "repo") + " must be \"owner/name\"");
  c.text(*config, p, "title", true, 1, 256);
  c.text(*config, p, "body", false, 0, 200000);
  if (const json* auth = c.object(*config, p, "auth", true))
    c.uuid(*auth, Checker::join(p, "auth"), "secretId");
}

void check_node(Checker& c, const json& node, const std::string& path,
                const std::string& expected_id) {
  if (!node.is_object()) {
    c.fail(path, path + " must be an object");
    return;
  }
  c.text(node, path, "id", true, 1, 120);
  if (!expected_id.empty() && node.value("id", "") != expected_id) {
    c.fail(Checker::join(path, "id"), "a graph node's id is its key (\"" + expected_id + "\")");
  }
  c.one_of(node, path, "type", true, kNodeTypes);
  const std::string type = node.value("type", "");
  if (type == "agent.run") check_agent_run(c, node, path);
  if (type == "agent.execute") check_agent_execute(c, node, path);
  if (type == "connector.action") check_connector_action(c, node, path);
  if (type == "http.request") check_http_request(c, node, path);
  if (type == "condition") check_condition(c, node, path);
  if (type == "parallel.join") check_parallel_join(c, node, path);
  if (type == "connector.github.issue.create") check_github_issue(c, node, path);
}

void check_trigger(Checker& c, const json& spec) {
  const json* trigger = c.object(spec, "", "trigger", true);
  if (trigger == nullptr) return;
  c.one_of(*trigger, "trigger", "type", true,
           {"trigger.manual", "trigger.webhook", "trigger.cron"});
  const std::string type = trigger->value("type", "");
  if (type == "trigger.webhook") {
    if (const json* config = c.object(*trigger, "trigger", "config", true))
      c.text(*config, "trigger.config", "token", true, 1, 256);
  }
  if (type == "trigger.cron") {
    if (const json* config = c.object(*trigger, "trigger", "config", true)) {
      // The cron scheduler reads both with these same classes: a spec that passes can be scheduled.
      std::string why;
      auto cron = config->find("cron");
      if (cron == config->end() || !cron->is_string()) {
        c.fail("trigger.config.cron",
               "trigger.config.cron is required (a string of five fields: minute hour "
               "day-of-month month day-of-week)");
      } else if (!CronSchedule::parse(cron->get<std::string>(), &why)) {
        c.fail("trigger.config.cron", "trigger.config.cron: " + why);
      }
      auto tz = config->find("timezone");
      if (tz != config->end() && !tz->is_null()) {
        if (!tz->is_string()) {
          c.fail("trigger.config.timezone",
                 "trigger.config.timezone must be a string (an IANA zone such as Europe/Berlin)");
        } else if (!util::TimeZone::load(tz->get<std::string>(), &why)) {
          c.fail("trigger.config.timezone", "trigger.config.timezone: " + why);
        }
      }
    }
  }
}

void check_graph_rules(Checker& c, const json& nodes, const json& edges) {
  if (nodes.empty()) {
    c.fail("graph.nodes", "the graph has no nodes", "GRAPH_NODE_MISSING");
    return;
  }
  std::set<std::string> edge_ids;
  std::map<std::string, std::vector<const json*>> outgoing;
  std::map<std::string, int> in_degree;
  for (const auto& [id, node] : nodes.items()) in_degree[id] = 0;
  for (size_t i = 0; i < edges.size(); ++i) {
    const json& e = edges[i];
    const std::string path = "graph.edges[" + std::to_string(i) + "]";
    if (!e.is_object() || !e.value("id", json()).is_string() ||
        !e.value("from", json()).is_string() || !e.value("to", json()).is_string()) {
      c.fail(path, path + " must be {id, from, to, kind?}", "GRAPH_EDGE_INVALID");
      continue;
    }
    const std::string id = e["id"], from = e["from"], to = e["to"];
    const std::string kind = e.value("kind", "always");
    auto stamp = [&](const std::string& message) {
      c.issues.push_back({"GRAPH_EDGE_INVALID", message, path, {}, id});
    };
    if (!edge_ids.insert(id).second) stamp("duplicate edge id \"" + id + "\"");
    if (!nodes.contains(from) || !nodes.contains(to)) {
      stamp("edge \"" + id + "\" must connect existing nodes (" + from + " -> " + to + ")");
      continue;
    }
    if (kind != "always" && kind != "cond_true" && kind != "cond_false")
      stamp("edge \"" + id + "\" kind must be always, cond_true or cond_false");
    outgoing[from].push_back(&e);
    ++in_degree[to];
  }
  for (const auto& [id, node] : nodes.items()) {
    if (!node.is_object() || node.value("type", "") != "condition") continue;
    int t = 0, f = 0, other = 0;
    for (const json* e : outgoing[id]) {
      const std::string kind = e->value("kind", "always");
      t += kind == "cond_true";
      f += kind == "cond_false";
      other += kind != "cond_true" && kind != "cond_false";
    }
    if (t != 1 || f != 1 || other != 0) {
      c.issues.push_back({"CONDITION_EDGE_CONSTRAINTS",
                          "condition node \"" + id +
                              "\" must have exactly one cond_true and one cond_false edge out",
                          "graph.nodes." + id,
                          id,
                          {}});
    }
  }
  // Kahn's walk: whatever is left unvisited sits on a cycle.
  std::deque<std::string> ready;
  for (const auto& [id, d] : in_degree)
    if (d == 0) ready.push_back(id);
  size_t visited = 0;
  while (!ready.empty()) {
    const std::string id = ready.front();
    ready.pop_front();
    ++visited;
    for (const json* e : outgoing[id]) {
      if (--in_degree[(*e)["to"].get<std::string>()] == 0) ready.push_back((*e)["to"]);
    }
  }
  if (visited != nodes.size()) {
    std::string on_cycle;
    for (const auto& [id, d] : in_degree)
      if (d > 0) on_cycle += (on_cycle.empty() ? "" : ", ") + id;
    c.fail("graph.edges", "the graph has a cycle through " + on_cycle, "GRAPH_CYCLE_DETECTED");
  }
}

}  // namespace

std::vector<SpecIssue> validate_workflow_spec(const json& spec) {
  Checker c;
  if (!spec.is_object()) {
    c.fail("", "a workflow spec is a JSON object {version, trigger, nodes | graph}");
    return c.issues;
  }
  c.one_of(spec, "", "version", true, {"v2", "v3"});
  check_trigger(c, spec);
  const std::string version = spec.value("version", "");
  if (version == "v2") {
    auto nodes = spec.find("nodes");
    if (nodes == spec.end() || !nodes->is_array() || nodes->empty()) {
      c.fail("nodes", "nodes must be a non-empty array");
      return c.issues;
    }
    std::set<std::string> ids;
    for (size_t i = 0; i < nodes->size(); ++i) {
      const json& n = (*nodes)[i];
      c.node_id = n.is_object() ? n.value("id", "") : "";
      check_node(c, n, "nodes[" + std::to_string(i) + "]", "");
      if (!c.node_id.empty() && !ids.insert(c.node_id).second) {
        c.fail("nodes[" + std::to_string(i) + "].id", "node id \"" + c.node_id + "\" is used twice",
               "DUPLICATE_NODE_ID");
      }
    }
    c.node_id.clear();
  } else if (version == "v3") {
    const json* graph = c.object(spec, "", "graph", true);
    if (graph == nullptr) return c.issues;
    const json* nodes = c.object(*graph, "graph", "nodes", true);
    auto edges = graph->find("edges");
    if (edges == graph->end() || !edges->is_array())
      c.fail("graph.edges", "graph.edges must be an array");
    if (nodes == nullptr) return c.issues;
    for (const auto& [id, node] : nodes->items()) {
      c.node_id = id;
      if (id.empty() || id.size() > 120) c.fail("graph.nodes", "node keys are 1 to 120 characters");
      check_node(c, node, "graph.nodes." + id, id);
    }
    c.node_id.clear();
    if (edges != graph->end() && edges->is_array()) check_graph_rules(c, *nodes, *edges);
  }
  return c.issues;
}

json to_json(const SpecIssue& issue) {
  json j = {{"code", issue.code}, {"message", issue.message}};
  if (!issue.field.empty()) j["field"] = issue.field;
  if (!issue.node_id.empty()) j["nodeId"] = issue.node_id;
  if (!issue.edge_id.empty()) j["edgeId"] = issue.edge_id;
  return j;
}

}  // namespace vespid::workflows
