#include "run_walk.hpp"

#include <algorithm>
#include <set>

namespace vespid::worker {

using nlohmann::json;

namespace {

std::string text_member(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

PlanNode plan_node(const json& node, const std::string& where) {
  if (!node.is_object()) throw PlanError(where + " must be an object");
  PlanNode n;
  n.id = text_member(node, "id");
  n.type = text_member(node, "type");
  if (n.id.empty()) throw PlanError(where + ".id must be a non-empty string");
  if (n.type.empty()) throw PlanError(where + ".type must be a non-empty string");
  n.spec = node;
  return n;
}

Plan build_v2(const json& dsl) {
  auto nodes = dsl.find("nodes");
  if (nodes == dsl.end() || !nodes->is_array() || nodes->empty())
    throw PlanError("a v2 spec needs a non-empty \"nodes\" array");
  Plan plan;
  plan.version = 2;
  for (std::size_t i = 0; i < nodes->size(); ++i) {
    PlanNode n = plan_node((*nodes)[i], "nodes[" + std::to_string(i) + "]");
    if (!plan.position.emplace(n.id, plan.order.size()).second)
      throw PlanError("node id \"" + n.id + "\" is used twice");
    plan.order.push_back(std::move(n));
  }
  return plan;
}

Plan build_v3(const json& dsl) {
  auto graph = dsl.find("graph");
  if (graph == dsl.end() || !graph->is_object()) throw PlanError("a v3 spec needs \"graph\"");
  auto nodes = graph->find("nodes");
  if (nodes == graph->end() || !nodes->is_object() || nodes->empty())
    throw PlanError("graph.nodes must be a non-empty object");
  std::map<std::string, PlanNode> by_id;
  for (const auto& [key, node] : nodes->items()) {
    PlanNode n = plan_node(node, "graph.nodes." + key);
    if (n.id != key) throw PlanError("graph.nodes." + key + ".id must be its key");
    by_id.emplace(key, std::move(n));
  }
  std::map<std::string, std::vector<std::string>> outgoing;
  std::map<std::string, std::size_t> in_degree;
  for (const auto& [id, n] : by_id) in_degree[id] = 0;
  auto edges = graph->find("edges");
  if (edges != graph->end() && !edges->is_null()) {
    if (!edges->is_array()) throw PlanError("graph.edges must be an array");
    for (std::size_t i = 0; i < edges->size(); ++i) {
      const json& e = (*edges)[i];
      const std::string where = "graph.edges[" + std::to_string(i) + "]";
      if (!e.is_object()) throw PlanError(where + " must be an object");
      Edge edge{text_member(e, "id"), text_member(e, "from"), text_member(e, "to"),
                text_member(e, "kind")};
      if (edge.kind.empty()) edge.kind = "always";
      if (edge.kind != "always" && edge.kind != "cond_true" && edge.kind != "cond_false")
        throw PlanError(where + ".kind must be always, cond_true or cond_false");
      if (!by_id.count(edge.from) || !by_id.count(edge.to))
        throw PlanError(where + " must connect existing nodes (" + edge.from + " -> " + edge.to +
                        ")");
      outgoing[edge.from].push_back(edge.to);
      ++in_degree[edge.to];
      by_id[edge.to].incoming.push_back(std::move(edge));
    }
  }
  // Kahn's algorithm, always taking the smallest ready id: one order for every worker.
  std::set<std::string> ready;
  for (const auto& [id, degree] : in_degree)
    if (degree == 0) ready.insert(id);
  Plan plan;
  plan.version = 3;
  while (!ready.empty()) {
    const std::string id = *ready.begin();
    ready.erase(ready.begin());
    plan.position.emplace(id, plan.order.size());
    plan.order.push_back(std::move(by_id[id]));
    for (const std::string& to : outgoing[id])
      if (--in_degree[to] == 0) ready.insert(to);
  }
  if (plan.order.size() != by_id.size()) {
    std::string left;
    for (const auto& [id, degree] : in_degree)
      if (degree > 0) left += (left.empty() ? "" : ", ") + id;
    throw PlanError("graph has a cycle through: " + left);
  }
  return plan;
}

enum class EdgeState { satisfied, dead, pending };

struct EdgeVerdict {
  EdgeState state;
  const char* why;  // for dead edges
};

EdgeVerdict judge(const Edge& e, const Cursor& c) {
  const bool succeeded = c.outputs.contains(e.from);
  if (!succeeded) {
    const bool skipped = std::find(c.skipped.begin(), c.skipped.end(), e.from) != c.skipped.end();
    return skipped ? EdgeVerdict{EdgeState::dead, "source_skipped"}
                   : EdgeVerdict{EdgeState::pending, "source_not_done"};
  }
  if (e.kind == "always") return {EdgeState::satisfied, ""};
  auto cond = c.conditions.find(e.from);
  if (cond == c.conditions.end()) return {EdgeState::dead, "no_condition_result"};
  const bool wanted = e.kind == "cond_true";
  if (cond->second != wanted)
    return {EdgeState::dead, wanted ? "condition_false" : "condition_true"};
  return {EdgeState::satisfied, ""};
}

}  // namespace

Plan build_plan(const json& dsl) {
  if (!dsl.is_object()) throw PlanError("the spec must be a JSON object");
  const std::string version = text_member(dsl, "version");
  if (version == "v3") return build_v3(dsl);
  if (version == "v2" || (version.empty() && dsl.contains("nodes"))) return build_v2(dsl);
  throw PlanError("spec version \"" + version + "\" is not v2 or v3");
}

json Cursor::to_json() const {
  json c = {{"v", 1},
            {"attempt", attempt},
            {"index", index},
            {"outputs", outputs},
            {"conditions", json::object()},
            {"skipped", skipped}};
  for (const auto& [id, result] : conditions) c["conditions"][id] = result;
  return c;
}

Cursor cursor_from_json(const json& saved, const Plan& plan) {
  Cursor c;
  if (saved.is_null()) return c;
  if (!saved.is_object() || !saved.contains("v") || saved["v"] != 1)
    throw CursorError("the saved cursor is not one this worker wrote (no \"v\": 1)");
  const json& index = saved.contains("index") ? saved["index"] : json();
  if (!index.is_number_unsigned() || index.get<std::size_t>() > plan.order.size())
    throw CursorError("cursor.index must be 0 to " + std::to_string(plan.order.size()));
  c.index = index.get<std::size_t>();
  if (saved.contains("attempt") && saved["attempt"].is_number_integer())
    c.attempt = saved["attempt"].get<int>();
  c.outputs = saved.value("outputs", json::object());
  if (!c.outputs.is_object()) throw CursorError("cursor.outputs must be an object");
  const json conditions = saved.value("conditions", json::object());
  if (!conditions.is_object()) throw CursorError("cursor.conditions must be an object");
  for (const auto& [id, v] : conditions.items()) {
    if (!v.is_boolean()) throw CursorError("cursor.conditions." + id + " must be a boolean");
    c.conditions[id] = v.get<bool>();
  }
  const json skipped = saved.value("skipped", json::array());
  if (!skipped.is_array()) throw CursorError("cursor.skipped must be an array");
  for (const json& s : skipped) {
    if (!s.is_string()) throw CursorError("cursor.skipped holds node ids");
    c.skipped.push_back(s.get<std::string>());
  }
  // Every node before index done exactly one way, nothing after it done at all.
  std::set<std::string> skipped_set(c.skipped.begin(), c.skipped.end());
  if (skipped_set.size() != c.skipped.size()) throw CursorError("cursor.skipped repeats a node");
  std::size_t done = 0;
  for (std::size_t i = 0; i < plan.order.size(); ++i) {
    const std::string& id = plan.order[i].id;
    const bool ran = c.outputs.contains(id);
    const bool skip = skipped_set.count(id) > 0;
    if (ran && skip) throw CursorError("node " + id + " is both done and skipped in the cursor");
    if (i < c.index && !ran && !skip)
      throw CursorError("node " + id + " is before cursor.index but neither done nor skipped");
    if (i >= c.index && (ran || skip))
      throw CursorError("node " + id + " is at or after cursor.index but marked done");
    done += ran || skip ? 1 : 0;
  }
  if (done != c.outputs.size() + c.skipped.size())
    throw CursorError("the cursor names nodes that are not in this workflow");
  for (const auto& [id, result] : c.conditions) {
    if (!c.outputs.contains(id))
      throw CursorError("cursor.conditions." + id + " belongs to no node that ran");
  }
  return c;
}

Step next_step(const Plan& plan, const Cursor& cursor) {
  Step s;
  if (cursor.index >= plan.order.size()) return s;
  const PlanNode& node = plan.order[cursor.index];
  s.node = &node;
  if (plan.version == 2 || node.incoming.empty()) {
    s.kind = StepKind::run;
    return s;
  }
  std::size_t satisfied = 0, dead = 0;
  s.blockers = json::array();
  for (const Edge& e : node.incoming) {
    const EdgeVerdict v = judge(e, cursor);
    if (v.state == EdgeState::pending) {
      // Cannot happen in a topological walk; refusing is better than guessing.
      throw PlanError("node " + node.id + " came up before its predecessor " + e.from);
    }
    if (v.state == EdgeState::satisfied) {
      ++satisfied;
    } else {
      ++dead;
      s.blockers.push_back({{"edgeId", e.id}, {"from", e.from}, {"kind", e.kind}, {"why", v.why}});
    }
  }
  const bool runs = node.type == "parallel.join"
                        ? satisfied + dead == node.incoming.size() && satisfied > 0
                        : satisfied > 0;
  if (runs) {
    s.kind = StepKind::run;
    s.blockers = json();
    return s;
  }
  s.kind = StepKind::skip;
  s.reason = "no incoming edge was taken";
  return s;
}

void record_success(const Plan& plan, Cursor& cursor, const json& output) {
  const PlanNode& node = plan.order.at(cursor.index);
  cursor.outputs[node.id] = output;
  if (node.type == "condition" && output.is_object() && output.contains("result") &&
      output["result"].is_boolean()) {
    cursor.conditions[node.id] = output["result"].get<bool>();
  }
  ++cursor.index;
}

void record_skip(const Plan& plan, Cursor& cursor) {
  cursor.skipped.push_back(plan.order.at(cursor.index).id);
  ++cursor.index;
}

json completed_steps(const Plan& plan, const Cursor& cursor) {
  json steps = json::array();
  for (std::size_t i = 0; i < cursor.index && i < plan.order.size(); ++i) {
    const PlanNode& n = plan.order[i];
    auto out = cursor.outputs.find(n.id);
    if (out == cursor.outputs.end()) continue;
    steps.push_back(
        {{"nodeId", n.id}, {"nodeType", n.type}, {"status", "succeeded"}, {"output", *out}});
  }
  return steps;
}

}  // namespace vespid::worker
