// Workflow specs as the reference writes them (vespid-ai/vespid packages/workflow): v2, a list of
// nodes run in order, and v3, a graph of nodes joined by `always` / `cond_true` / `cond_false`
// edges. Node types: agent.run, agent.execute, connector.action, http.request, condition,
// parallel.join (and the legacy connector.github.issue.create); triggers manual, webhook, cron.
//
// validate_workflow_spec reports every problem at once, each naming the node and the field, so a
// spec is fixed in one round rather than one error at a time. Pure but for one read: a cron
// trigger's timezone is looked up in the system's tzdata.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vespid::workflows {

struct SpecIssue {
  // INVALID_SPEC (a field is missing or of the wrong shape), DUPLICATE_NODE_ID,
  // GRAPH_NODE_MISSING, GRAPH_EDGE_INVALID, GRAPH_CYCLE_DETECTED, CONDITION_EDGE_CONSTRAINTS
  // (the reference's codes for the graph rules).
  std::string code;
  std::string message;
  std::string field;    // the JSON path, e.g. graph.nodes.fetch.config.url
  std::string node_id;  // when the problem is in one node
  std::string edge_id;  // when it is in one edge
};

std::vector<SpecIssue> validate_workflow_spec(const nlohmann::json& spec);

// {code, message, field?, nodeId?, edgeId?}
nlohmann::json to_json(const SpecIssue& issue);

}  // namespace vespid::workflows
