// Interactive sessions (docs/sessions.md): a conversation pinned to one node host, with an
// append-only event log per session. Every dialect (rest.v1, vespid.client.v1, operator.v1)
// calls this one service, and every call checks org membership with auth::require_org_access.
//
// Events get a gap-free `seq` per session: a batch of events is one storage transaction guarded
// by a compare that its first seq's key is still absent, and only after it is durable are the
// events handed to the fan-out callback (in seq order). Work runs on
// node hosts through the Dispatcher (kind agent.run); the host's events become session events.
//
// Runs inside the Sequencer.
#pragma once

#include <coroutine>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/task.hpp"
#include "services/identity/principal.hpp"
#include "services/sessions/session_list_filter.hpp"
#include "storage/storage_service.hpp"

namespace vespid::repo {
class Repository;
}
namespace vespid::auth {
struct OrgAccess;
}
namespace vespid::nodes {
class NodeRouter;
}
namespace vespid::dispatch {
class Dispatcher;
}

namespace vespid::sessions {

struct SessionSettings {
  int64_t turn_timeout_ms = 300000;   // the dispatch timeout of one agent.run turn
  int history_messages = 50;          // previous user/agent messages sent with a turn
  size_t history_max_bytes = 524288;  // ... and at most this much of their text
  int replay_default = 200;           // events replayed on join without afterSeq
  int max_page = 200;                 // largest limit for list and events
  // env.githubApiBaseUrl of a turn's payload: the reference agent requires a URL there.
  std::string github_api_base_url = "https://api.github.com";
  // What a node's "main" session is created with.
  std::string node_main_engine = "vespid.loop.v1";
  std::string node_main_model;
};

// An event before it has a seq.
struct EventDraft {
  std::string type;
  std::string level = "info";
  nlohmann::json payload = nlohmann::json::object();
};

// The session's identity for a call: who asks, about which org.
struct Caller {
  core::Principal who;
  std::string org_id;
};

class SessionService {
 public:
  using FanOut =
      std::function<void(const std::string& session_id, const std::vector<nlohmann::json>& events)>;

  SessionService(core::StorageService& storage, repo::Repository& repo, nodes::NodeRouter& router,
                 dispatch::Dispatcher& dispatcher, SessionSettings settings);
  ~SessionService();

  // Called with every batch of stored events, in seq order (the client dialect's fan-out).
  void set_fan_out(FanOut f) { fan_out_ = std::move(f); }
  const SessionSettings& settings() const noexcept { return settings_; }

  // Each throws api::ApiError: UNAUTHORIZED / FORBIDDEN (require_org_access), INVALID_REQUEST,
  // SESSION_NOT_FOUND (also for another org's session).
  core::Task<nlohmann::json> create(Caller caller, nlohmann::json body);
  // {sessions, nextCursor}: newest activity first. With a filter, a page holds the matches
  // among at most kMaxScannedPerPage sessions, so a page may be short (even empty) while
  // nextCursor says there is more to look through.
  static constexpr int kMaxScannedPerPage = 2000;
  core::Task<nlohmann::json> list(Caller caller, int limit, std::string cursor,
                                  SessionListFilter filter = {});
  core::Task<nlohmann::json> get(Caller caller, std::string session_id);
  // {events, nextCursor}: events with seq > after_seq, oldest first, at most `limit` of them and
  // about 1 MiB (at least one). nextCursor (the last seq returned) is null when there are no
  // more.
  core::Task<nlohmann::json> events(Caller caller, std::string session_id, uint64_t after_seq,
                                    int limit);
  // The last `count` events (join without afterSeq).
  core::Task<std::vector<nlohmann::json>> tail(Caller caller, std::string session_id, int count);
  // Stores user_message, pins if needed, dispatches agent.run. Also PINNED_AGENT_OFFLINE and
  // NO_AGENT_AVAILABLE. Answers {accepted, sessionId, seq, requestId, agentId, duplicate}.
  core::Task<nlohmann::json> send(Caller caller, std::string session_id, nlohmann::json body);
  // Stops the session's running turn, if one was started by this gateway instance: stores an
  // `error` event TURN_CANCELED (payload.stopReason says by which path) and asks the node host
  // to stop (session_cancel). Answers {sessionId, cancelled, requestId, runId, hostNotified?};
  // cancelled is false when no turn was running (or, with only_run_id, not that run).
  core::Task<nlohmann::json> cancel(Caller caller, std::string session_id, std::string stop_reason,
                                    std::string only_run_id = "");
  // In a cluster: how cancel reaches the instance that waits for a turn dispatched elsewhere
  // (cluster_fanout), and this instance's id (the dispatch record's "instance").
  using RemoteCancel = std::function<void(
      const std::string& instance, const std::string& session_id, const std::string& request_id,
      const std::string& stop_reason, const std::string& by)>;
  void set_remote_cancel(std::string own_instance, RemoteCancel r) {
    own_instance_ = std::move(own_instance);
    remote_cancel_ = std::move(r);
  }
  // Another instance relayed a cancel for turn `request_id`: stop it if it runs here.
  void cancel_here(const std::string& session_id, const std::string& request_id,
                   const std::string& stop_reason, const std::string& by);
  // Unpins: the next send picks a host again. Answers {session}.
  core::Task<nlohmann::json> reset(Caller caller, std::string session_id);

  // The session a node means by sessionKey "main" (the reference's default key): made on first
  // use in the node's org (engine and model from sessions.node_main_*), pinned on its first
  // turn like any session. `node` is node_caller(...). Answers its id.
  core::Task<std::string> node_main_session(Caller node, std::string node_id);
  // The node's "main" session id, if it has one (nothing is created).
  core::Task<std::optional<std::string>> find_node_main_session(std::string node_id);

  // Checks access and that the session is in the caller's org; answers the stored record.
  core::Task<nlohmann::json> require_session(Caller caller, std::string session_id);

  // A node's caller: the principal of an authenticated node (role Node, its org_id set) acting
  // in its own org. require_session, list, events, tail and send accept it (for that org only);
  // create and reset do not.
  static Caller node_caller(const core::Principal& node, const std::string& node_id) {
    core::Principal who = node;
    who.user_id = "node:" + node_id;
    return Caller{std::move(who), node.org_id};
  }

  // Appends events to a session (stored, then fanned out). Answers the stored events.
  core::Task<std::vector<nlohmann::json>> append(std::string session_id,
                                                 std::vector<EventDraft> drafts);

 private:
  class RunListener;
  struct Lane {  // serialises writers of one session (in memory; storage compares do the rest)
    bool busy = false;
    std::deque<std::coroutine_handle<>> waiters;
  };
  struct LaneLock;
  struct LaneAwaiter;
  LaneAwaiter lock(std::unordered_map<std::string, Lane>& lanes, const std::string& id);

  // Adds compares/writes to an append's transaction once its events are numbered.
  using TxnExtra = std::function<void(core::Txn&, const std::vector<nlohmann::json>& events)>;
  // append() with extra compares and writes in the same transaction. A failed extra compare
  // throws api::ApiError CONFLICT (nothing stored).
  core::Task<std::vector<nlohmann::json>> append_with(std::string session_id,
                                                      std::vector<EventDraft> drafts,
                                                      TxnExtra extra);
  // auth::require_org_access, or the node path (a Node principal in its own org).
  core::Task<auth::OrgAccess> check_access(Caller caller);
  core::Task<std::optional<core::KV>> load(std::string session_id);
  // Read-modify-write of the session record (compare on its version), keeping the activity
  // index in step. Answers the new record.
  core::Task<nlohmann::json> update(std::string session_id,
                                    std::function<void(nlohmann::json&)> change);
  core::Task<nlohmann::json> history(std::string session_id, uint64_t before_seq);
  // Checks the body and stores a new session of `org_id` (with session_created); `extra` adds
  // compares and writes to its transaction (a lost compare throws CONFLICT). Answers the record.
  using CreateExtra = std::function<void(core::Txn&, const std::string& session_id)>;
  core::Task<nlohmann::json> create_in(std::string org_id, std::string created_by,
                                       nlohmann::json body, CreateExtra extra);
  // The request id of the session's last turn, from its newest user_message (empty if none
  // among the newest events).
  core::Task<std::string> last_turn_request_id(std::string session_id);
  // cancel() for a turn not running here: relayed to the instance the dispatch record names.
  core::Task<nlohmann::json> cancel_elsewhere(std::string session_id, std::string stop_reason,
                                              std::string by, std::string only_run_id);
  // A turn's listener ended it (result or cancel): forget it as the session's running turn.
  void turn_ended(const std::string& session_id, const RunListener* listener);
  core::Task<nlohmann::json> send_locked(Caller caller, nlohmann::json session, std::string message,
                                         std::string idem_hash, std::string idem);
  core::Task<void> record_idempotent(std::string session_id, std::string idem_hash,
                                     nlohmann::json outcome);

  core::StorageService& storage_;
  repo::Repository& repo_;
  nodes::NodeRouter& router_;
  dispatch::Dispatcher& dispatcher_;
  SessionSettings settings_;
  FanOut fan_out_;
  std::unordered_map<std::string, uint64_t> seq_cache_;  // a session's last seq written here
  std::unordered_map<std::string, Lane> append_lanes_;
  std::unordered_map<std::string, Lane> send_lanes_;
  // Each session's running turn, when this instance dispatched it (or took it over): what
  // cancel stops. An entry goes when its turn ends.
  std::unordered_map<std::string, std::weak_ptr<RunListener>> active_turns_;
  std::string own_instance_;
  RemoteCancel remote_cancel_;
};

// The public view of a stored session record.
nlohmann::json session_view(const nlohmann::json& record);

}  // namespace vespid::sessions
