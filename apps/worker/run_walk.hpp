// The walk over a workflow spec: the order nodes are considered in, whether the next one runs or
// is skipped, and the cursor that records how far a run got. Pure (no I/O), so a takeover's
// resume is tested without a gateway.
//
// v2: `nodes` in array order; every node runs. v3: `graph {nodes, edges}` in a topological order
// whose ties go to the smaller node id (bytewise), so every worker walks a graph the same way.
// A v3 node with no incoming edge runs. An incoming edge is *satisfied* when its source
// succeeded and, for cond_true/cond_false, the source's condition result matches; it is *dead*
// when its source was skipped or its branch was not taken. A node runs when at least one
// incoming edge is satisfied, else it is skipped. A parallel.join runs when every incoming edge
// is satisfied or dead and at least one is satisfied. (The walk is sequential and topological,
// so all edges into a node are decided when it comes up and the two rules agree; the join's is
// written out so it stays right if branches ever run side by side.)
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace vespid::worker {

struct Edge {
  std::string id, from, to;
  std::string kind;  // always | cond_true | cond_false
};

struct PlanNode {
  std::string id, type;
  nlohmann::json spec;  // the node object as written: {id, type, config?}
  std::vector<Edge> incoming;
};

struct Plan {
  int version = 2;                              // 2 or 3
  std::vector<PlanNode> order;                  // the walk order
  std::map<std::string, std::size_t> position;  // node id -> index in order
};

// A spec the worker cannot walk (the gateway validates specs when they are saved, so this means
// a spec written before that or by hand). The message names what is wrong.
struct PlanError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Plan build_plan(const nlohmann::json& dsl);

// How far a run got, saved as the run's `cursor` after every node:
// {"v":1, "attempt", "index", "outputs": {nodeId: output}, "conditions": {nodeId: bool},
//  "skipped": [nodeId...]}. Every node before `index` in the walk order succeeded (its output
// is in `outputs`) or was skipped; nothing at or after `index` has been done.
struct Cursor {
  int attempt = 0;  // the attempt that wrote it (a later attempt continues from it)
  std::size_t index = 0;
  nlohmann::json outputs = nlohmann::json::object();
  std::map<std::string, bool> conditions;
  std::vector<std::string> skipped;

  nlohmann::json to_json() const;
};

struct CursorError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A fresh cursor for null; else the saved one, checked against the plan (throws CursorError).
Cursor cursor_from_json(const nlohmann::json& saved, const Plan& plan);

enum class StepKind { run, skip, done };

struct Step {
  StepKind kind = StepKind::done;
  const PlanNode* node = nullptr;  // run and skip
  std::string reason;              // skip: why, in words
  nlohmann::json blockers;         // skip: [{edgeId, from, kind, why}] for each dead edge
};

// What to do with the node at cursor.index.
Step next_step(const Plan& plan, const Cursor& cursor);

// The node at cursor.index succeeded with `output` (a condition's {result} is also kept in
// `conditions`); the cursor moves past it.
void record_success(const Plan& plan, Cursor& cursor, const nlohmann::json& output);
// The node at cursor.index was skipped; the cursor moves past it.
void record_skip(const Plan& plan, Cursor& cursor);

// [{nodeId, nodeType, status: "succeeded", output}] of the nodes done so far, in walk order:
// the reference's `steps`, which an agent.run payload carries.
nlohmann::json completed_steps(const Plan& plan, const Cursor& cursor);

}  // namespace vespid::worker
