// How an operator names a node: the full id, the display name, or a unique prefix of the id, the
// way docker and kubectl let people type less than a UUID. Resolution lives here, behind the
// operator methods, so every client (the CLI, scripts on the socket, operator.v1 over /ws) gets
// the same answers and the same ambiguity errors.
#include <algorithm>

#include "runtime/api_error.hpp"
#include "services/nodes/node_store.hpp"

namespace vespid::nodes {

using core::Task;
using nlohmann::json;

namespace {

// What an ambiguous reference could mean, for the message and for details.candidates.
api::ApiError ambiguous(const std::string& reference, const std::string& how,
                        const std::vector<const NodeRecord*>& matches) {
  std::string listed;
  json candidates = json::array();
  for (const NodeRecord* n : matches) {
    if (!listed.empty()) listed += ", ";
    listed += n->node_id + " (" + n->display_name + ")";
    candidates.push_back(
        {{"nodeId", n->node_id}, {"displayName", n->display_name}, {"kind", n->kind}});
  }
  return api::invalid("\"" + reference + "\" " + how + " " + std::to_string(matches.size()) +
                          " nodes: " + listed + "; give more of the id",
                      {{"node", reference}, {"candidates", candidates}});
}

}  // namespace

Task<NodeRecord> NodeStore::resolve(std::string reference,
                                    std::optional<std::set<std::string>> orgs) {
  if (reference.empty()) throw api::invalid("a node is named by its id, its name or an id prefix");
  Task<std::optional<NodeRecord>> exact = get(reference);
  std::optional<NodeRecord> by_id = co_await std::move(exact);
  if (by_id && (!orgs || orgs->count(by_id->org_id))) co_return *by_id;

  std::vector<NodeRecord> all;
  if (!orgs) {
    Task<std::vector<NodeRecord>> listing = list("");
    all = co_await std::move(listing);
  } else {
    for (const auto& org : *orgs) {
      Task<std::vector<NodeRecord>> listing = list(org);
      std::vector<NodeRecord> some = co_await std::move(listing);
      all.insert(all.end(), std::make_move_iterator(some.begin()),
                 std::make_move_iterator(some.end()));
    }
  }
  // Names before prefixes: a node called "lab" is found by "lab" even if another node's id
  // happens to start with those letters (docker's order too).
  std::vector<const NodeRecord*> named, prefixed;
  for (const auto& n : all) {
    if (n.display_name == reference) named.push_back(&n);
    if (n.node_id.starts_with(reference)) prefixed.push_back(&n);
  }
  if (named.size() == 1) co_return *named.front();
  if (named.size() > 1) throw ambiguous(reference, "is the name of", named);
  if (prefixed.size() == 1) co_return *prefixed.front();
  if (prefixed.size() > 1) throw ambiguous(reference, "is the start of the ids of", prefixed);
  throw api::not_found("no node \"" + reference +
                       "\" (neither an id, a name nor the start of an id; `vespid nodes list` "
                       "shows them)");
}

}  // namespace vespid::nodes
