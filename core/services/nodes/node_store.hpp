// The node registry and pairing requests over storage. Every change is one storage transaction
// guarded by compares, so two operators approving the same request, or a revoke racing a
// rename, cannot interleave into a half-applied state.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/task.hpp"
#include "services/nodes/node_record.hpp"
#include "storage/storage_service.hpp"

namespace vespid::nodes {

class NodeStore {
 public:
  struct Limits {
    int64_t pairing_ttl_ms = 300000;
  };
  NodeStore(core::StorageService& storage, Limits limits) : storage_(storage), limits_(limits) {}

  core::Task<std::optional<NodeRecord>> get(std::string node_id);
  core::Task<std::vector<NodeRecord>> list(std::string org_id);  // empty org: all

  // The node an operator means by `reference` (node_reference.cpp): its exact id, else its exact
  // display name, else a unique prefix of its id, as docker and kubectl address objects.
  // NOT_FOUND when nothing matches; INVALID_REQUEST listing the candidates (details.candidates)
  // when a name or prefix matches several nodes.
  // `orgs`: when given, only nodes of these orgs are considered (an operator's orgs), so a
  // node of another org is NOT_FOUND, exactly like one that does not exist.
  core::Task<NodeRecord> resolve(std::string reference,
                                 std::optional<std::set<std::string>> orgs = std::nullopt);

  // Deletes a node (node_removal.cpp): its record, its org index, a pending request for it and a
  // node host's token index, in one transaction, so it leaves every list and its token matches
  // nothing. NOT_FOUND when there is no such node. Whether a connected node may be deleted is
  // the caller's decision.
  core::Task<NodeRecord> remove(std::string node_id);

  // One pending request per node id. A retry by the same `owner` (connection) refreshes the
  // claims and the expiry but keeps the request id; a request by another owner (the first one's
  // connection is gone: the caller checks that) replaces it under a new request id, so an
  // operator's approval always goes to the requester whose claims they saw. How many may be
  // pending is the caller's admission (pairing.max_pending*, counted where the connections are):
  // this never scans other requests.
  core::Task<PendingPairing> request_pairing(std::string node_id, nlohmann::json claims,
                                             std::string remote_address, bool silent,
                                             std::string owner);
  // A paired node said hello declaring commands it was neither approved for nor declined
  // (`claims`: cleaned_claims of that hello): one re-approval request, in the node's one pending
  // slot, so that operators decide on them. Returns the request when it is new (to announce);
  // nullopt when nothing is to be asked (all of them approved or declined meanwhile, the same
  // request already waiting, or a pairing request waiting, which decides everything anyway).
  // A pending re-approval for another set of commands is replaced under a new request id.
  core::Task<std::optional<PendingPairing>> request_reapproval(std::string node_id,
                                                               nlohmann::json claims,
                                                               std::string remote_address);
  // The requester gave up (its connection closed or asked for another node id): its request is
  // deleted if `owner` still holds it. An approval could no longer reach anyone.
  core::Task<void> withdraw_pairing(std::string node_id, std::string owner);
  // Unexpired requests, oldest first. Expired ones are deleted on the way.
  core::Task<std::vector<PendingPairing>> list_pending();
  core::Task<std::optional<PendingPairing>> pending_for_node(std::string node_id);
  // The stored request with this id, expired or not (expires_at_ms tells); nullopt once it was
  // decided, withdrawn or swept.
  core::Task<std::optional<PendingPairing>> find_pending(std::string request_id);

  struct Approved {
    NodeRecord node;
    std::string token;  // shown once to the node in pair-ok, never stored; empty: re-approval
    bool reapproval = false;
    std::vector<std::string> added_commands;  // a re-approval's grant
  };
  // NOT_FOUND for an unknown or expired request; NOT_FOUND for an unknown org. A pairing
  // request joins the node to `org_id` (required) under a new token; a re-approval adds its
  // commands to the node's approved set and keeps token and org (`org_id` empty or the node's).
  core::Task<Approved> approve(std::string request_id, std::string org_id);
  // A rejected re-approval's commands are recorded as declined on the node.
  core::Task<PendingPairing> reject(std::string request_id);

  // Read-modify-write with a version compare, retried on conflict.
  core::Task<NodeRecord> rename(std::string node_id, std::string name);
  core::Task<NodeRecord> set_tags(std::string node_id, std::vector<std::string> tags);
  core::Task<NodeRecord> revoke(std::string node_id);
  core::Task<void> touch(std::string node_id, std::string when);

  // The node if `token` is its current token (constant-time compare of the hashes).
  // NodeHost: the id is a node host's (vespid.node.v1); its agent token is no bridge credential.
  enum class Verdict { Ok, NotPaired, Unauthorized, Revoked, NodeHost };
  struct Check {
    Verdict verdict;
    std::optional<NodeRecord> node;
  };
  core::Task<Check> check_token(std::string node_id, std::string token);

  // An org's voice wake settings, shared by its nodes as the reference shares one list between
  // all of its nodes: {"triggers": ["hey vespid", ...]} (empty list by default).
  core::Task<nlohmann::json> voicewake(std::string org_id);
  // Validates and stores {"triggers": [...]} (at most 32 words of at most 64 characters).
  core::Task<nlohmann::json> set_voicewake(std::string org_id, nlohmann::json settings);

 private:
  core::Task<Approved> approve_reapproval(PendingPairing p, uint64_t pending_version,
                                          std::string org_id);
  core::Task<NodeRecord> update(std::string node_id, std::function<void(NodeRecord&)> change);

  core::StorageService& storage_;
  Limits limits_;
};

}  // namespace vespid::nodes
