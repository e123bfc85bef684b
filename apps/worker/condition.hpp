// The `condition` node, evaluated in the worker: config {path, op, value}. Pure, so it is tested
// without a gateway.
//
// The path rule: a path starting with `$nodes.<nodeId>` is read from the output of that node of
// this run (our extension; the node must have succeeded earlier in the walk, else the path names
// nothing); any other path is a dot path into the run's `input`, as the reference reads it (a
// leading `$.` is dropped, empty segments are ignored, a numeric segment indexes an array).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace vespid::worker {

// The value `path` names, or nullptr when it names nothing (a JSON null that is there is a
// value). `outputs` maps node id -> output of the nodes that succeeded so far. The pointer is
// into `run_input` or `outputs`.
const nlohmann::json* resolve_path(const std::string& path, const nlohmann::json& run_input,
                                   const nlohmann::json& outputs);

struct ConditionResult {
  bool ok = false;         // false: the config is unusable (error says why); retrying cannot help
  bool result = false;     // when ok
  std::string error;       // when not ok: "INVALID_NODE_CONFIG: ..."
  nlohmann::json explain;  // {path, op, expected, actualPresent, actualType}, for the event log
};

// Ops as the reference's: eq/neq compare strictly (same JSON type and value; 1 and 1.0 are
// equal), contains is a substring of a string or an element of an array, exists is "present and
// not null". gt/gte/lt/lte compare numbers; a string that is wholly a number counts as that
// number. Anything else is false there: the reference's JavaScript Number() also made null 0,
// true 1 and "" 0, which let a missing field pass `lt 5`.
ConditionResult evaluate_condition(const nlohmann::json& config, const nlohmann::json& run_input,
                                   const nlohmann::json& outputs);

}  // namespace vespid::worker
