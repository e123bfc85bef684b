// The key layout (schema version 1). Every table and index of the gateway is a key range in the
// ordered store; this file is the one place that spells them.
//
//   meta/schema                         -> "1"
//   org/<orgId>                         -> Org JSON
//   idx/org-name/<lowercased name>      -> orgId               (unique names)
//   user/<userId>                       -> User JSON
//   idx/user-name/<lowercased name>     -> userId              (unique names)
//   member/<orgId>/<userId>             -> {"role","createdAt"}
//   idx/user-orgs/<userId>/<orgId>      -> role                (reverse index)
//   atok/<tokenId>                      -> AccessToken JSON (hash only, never the token)
//   idx/user-tokens/<userId>/<tokenId>  -> ""
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vespid::repo::keys {

inline constexpr int kSchemaVersion = 1;
inline const std::string kSchema = "meta/schema";

std::string lower(std::string_view s);

inline std::string org(std::string_view id) {
  return "org/" + std::string(id);
}
inline const std::string kOrgPrefix = "org/";
inline std::string org_name(std::string_view name) {
  return "idx/org-name/" + lower(name);
}

inline std::string user(std::string_view id) {
  return "user/" + std::string(id);
}
inline const std::string kUserPrefix = "user/";
inline std::string user_name(std::string_view name) {
  return "idx/user-name/" + lower(name);
}

inline std::string member(std::string_view org, std::string_view user) {
  return "member/" + std::string(org) + "/" + std::string(user);
}
inline std::string members_of(std::string_view org) {
  return "member/" + std::string(org) + "/";
}
inline std::string user_org(std::string_view user, std::string_view org) {
  return "idx/user-orgs/" + std::string(user) + "/" + std::string(org);
}
inline std::string orgs_of(std::string_view user) {
  return "idx/user-orgs/" + std::string(user) + "/";
}

inline std::string access_token(std::string_view id) {
  return "atok/" + std::string(id);
}
inline std::string user_token(std::string_view user, std::string_view id) {
  return "idx/user-tokens/" + std::string(user) + "/" + std::string(id);
}
inline std::string tokens_of(std::string_view user) {
  return "idx/user-tokens/" + std::string(user) + "/";
}

}  // namespace vespid::repo::keys

namespace vespid::repo::keys {
// Nodes (bridge devices and node hosts share one registry):
//   node/<nodeId>                       -> NodeRecord JSON (token as SHA-256 only)
//   idx/org-nodes/<orgId>/<nodeId>      -> ""
//   pairing/<nodeId>                    -> PendingPairing JSON (one per node id)
//   idx/pairing-id/<requestId>          -> nodeId
//   org-voicewake/<orgId>               -> the org's voice wake triggers (its nodes share them)
inline std::string node(std::string_view id) {
  return "node/" + std::string(id);
}
inline const std::string kNodePrefix = "node/";
inline std::string org_node(std::string_view org, std::string_view node) {
  return "idx/org-nodes/" + std::string(org) + "/" + std::string(node);
}
inline std::string nodes_of(std::string_view org) {
  return "idx/org-nodes/" + std::string(org) + "/";
}
inline std::string pairing(std::string_view node) {
  return "pairing/" + std::string(node);
}
inline const std::string kPairingPrefix = "pairing/";
inline std::string pairing_id(std::string_view request) {
  return "idx/pairing-id/" + std::string(request);
}
inline std::string org_voicewake(std::string_view org) {
  return "org-voicewake/" + std::string(org);
}
}  // namespace vespid::repo::keys

namespace vespid::repo::keys {
// Node hosts (vespid.node.v1 agents) live in the node registry above, kind "agent"; these add
// their credentials:
//   agent-pt/<sha256 hex of pairing token>        -> {orgId, createdBy, expiresAtMs, ...}
//   idx/org-agent-pt/<orgId>/<sha256 hex>         -> ""   (per-org count and cleanup)
//   idx/agent-token/<sha256 hex of agent token>   -> nodeId
inline std::string agent_pairing_token(std::string_view hash) {
  return "agent-pt/" + std::string(hash);
}
inline std::string org_agent_pairing_token(std::string_view org, std::string_view hash) {
  return "idx/org-agent-pt/" + std::string(org) + "/" + std::string(hash);
}
inline std::string org_agent_pairing_tokens(std::string_view org) {
  return "idx/org-agent-pt/" + std::string(org) + "/";
}
inline std::string agent_token(std::string_view hash) {
  return "idx/agent-token/" + std::string(hash);
}

// Internal dispatch:
//   dispatch/<requestId>                          -> an outstanding dispatch {orgId, agentId, ...}
//   result/<requestId>                            -> {status, output?, error?, orgId, ...}
//   idx/result-exp/<expiresAtMs, 16 digits>/<requestId> -> ""   (the TTL sweep walks this)
inline std::string dispatch(std::string_view request_id) {
  return "dispatch/" + std::string(request_id);
}
inline const std::string kDispatchPrefix = "dispatch/";
inline std::string result(std::string_view request_id) {
  return "result/" + std::string(request_id);
}
inline const std::string kResultExpiryPrefix = "idx/result-exp/";
std::string result_expiry(int64_t expires_at_ms, std::string_view request_id);
}  // namespace vespid::repo::keys

namespace vespid::repo::keys {

// Sessions (core/sessions):
//   session/<sessionId>                                   -> session record JSON
//   idx/org-sessions/<orgId>/<activityMs, 16 digits>/<sessionId> -> ""  (newest activity first)
//   sess-seq/<sessionId>      (no longer written: the last seq is the newest sess-ev key)
//   sess-ev/<sessionId>/<seq, 16 digits>                  -> event JSON
//   sess-idem/<sessionId>/<sha256 hex of idempotencyKey>  -> the first send's outcome
//   node-main/<nodeId>                                    -> the node's "main" session id
// Workflows (core/services/workflows):
//   wf/<workflowId>                                -> the workflow record (its newest revision)
//   wf-rev/<workflowId>/<revision, 16 digits>      -> {revision, name, dsl, createdAt, createdBy}
//   idx/org-wf/<orgId>/<created µs, 16 digits>/<id>  -> ""  (newest first; microseconds, so that
//       two workflows made one after the other within a millisecond still list in that order;
//       entries written before 2026-12-06 carry milliseconds and sort as older than all later)
inline std::string workflow(std::string_view id) {
  return "wf/" + std::string(id);
}
inline std::string workflow_revisions(std::string_view id) {
  return "wf-rev/" + std::string(id) + "/";
}
inline std::string org_workflows(std::string_view org) {
  return "idx/org-wf/" + std::string(org) + "/";
}
// Workflow runs (core/services/workflows/run_service):
//   wf-run/<runId>                                       -> the run record
//   wf-run-ev/<runId>/<seq, 16 digits>                   -> one run event
//   idx/wf-runs/<workflowId>/<created µs, 16 digits>/<runId> -> ""  (newest first; µs as above)
//   idx/wf-run-ready/<readyMs, 16 digits>/<runId>        -> ""  (when a worker may claim it: a
//       queued run's next attempt, a running run's lease expiry; absent once it has ended)
inline std::string workflow_run(std::string_view id) {
  return "wf-run/" + std::string(id);
}
inline std::string workflow_run_events(std::string_view id) {
  return "wf-run-ev/" + std::string(id) + "/";
}
inline std::string workflow_runs(std::string_view workflow_id) {
  return "idx/wf-runs/" + std::string(workflow_id) + "/";
}
inline const std::string kRunReadyPrefix = "idx/wf-run-ready/";
//   idx/webhook/<sha256 hex of the token>                -> workflowId (published webhooks)
//   idx/cron-due/<fireMs, 16 digits>/<workflowId>        -> ""  (a cron workflow's next tick)
//   wf-trigger-key/<workflowId>/<sha256 hex of the key>  -> runId (a trigger's dedup key)
inline const std::string kCronDuePrefix = "idx/cron-due/";
std::string cron_due(int64_t fire_ms, std::string_view workflow_id);
inline std::string webhook(std::string_view token_sha256) {
  return "idx/webhook/" + std::string(token_sha256);
}
inline std::string workflow_trigger_key(std::string_view workflow_id, std::string_view key_sha256) {
  return "wf-trigger-key/" + std::string(workflow_id) + "/" + std::string(key_sha256);
}
inline std::string node_main_session(std::string_view node_id) {
  return "node-main/" + std::string(node_id);
}
inline std::string session(std::string_view id) {
  return "session/" + std::string(id);
}
std::string padded(uint64_t n);  // 16 decimal digits, so keys sort by number
inline std::string org_sessions(std::string_view org) {
  return "idx/org-sessions/" + std::string(org) + "/";
}
inline std::string org_session(std::string_view org, int64_t activity_ms, std::string_view id) {
  return org_sessions(org) + padded(static_cast<uint64_t>(activity_ms < 0 ? 0 : activity_ms)) +
         "/" + std::string(id);
}
inline std::string session_events(std::string_view id) {
  return "sess-ev/" + std::string(id) + "/";
}
inline std::string session_event(std::string_view id, uint64_t seq) {
  return session_events(id) + padded(seq);
}
inline std::string session_idempotency(std::string_view id, std::string_view key_hash) {
  return "sess-idem/" + std::string(id) + "/" + std::string(key_hash);
}

}  // namespace vespid::repo::keys

namespace vespid::repo::keys {
// Web sign-in (core/services/identity/web_sessions): one-time login codes and the browser
// sessions they open. Like access tokens, only SHA-256 hashes of the secrets are stored.
//   web-login/<codeId>                           -> {hash, userId, orgId?, expiresAtMs, createdAt}
//   web-session/<sessionId>                      -> WebSession JSON (hash only)
//   idx/user-web-sessions/<userId>/<sessionId>   -> ""  (a user's sessions: the per-user cap)
//   idx/web-expiry/<expiresAtMs, 16 digits>/<record key> -> ""  (the sweep of expired records)
inline std::string web_login_code(std::string_view id) {
  return "web-login/" + std::string(id);
}
inline std::string web_session(std::string_view id) {
  return "web-session/" + std::string(id);
}
inline std::string user_web_sessions(std::string_view user) {
  return "idx/user-web-sessions/" + std::string(user) + "/";
}
inline std::string user_web_session(std::string_view user, std::string_view id) {
  return user_web_sessions(user) + std::string(id);
}
inline const std::string kWebExpiryPrefix = "idx/web-expiry/";
inline std::string web_expiry(int64_t expires_at_ms, std::string_view record_key) {
  return kWebExpiryPrefix + padded(static_cast<uint64_t>(expires_at_ms < 0 ? 0 : expires_at_ms)) +
         "/" + std::string(record_key);
}
}  // namespace vespid::repo::keys
