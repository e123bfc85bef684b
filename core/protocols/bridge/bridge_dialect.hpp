// bridge.v1: the Clawdbot bridge protocol for node devices (iOS, Android, macOS node mode),
// field for field, and better behaved: frames of a connection are handled in order, liveness is
// checked from the gateway's side, a revoked node's socket is closed at once.
//
//   node -> gateway: hello, pair-request, req, event, invoke-res, ping, pong
//   gateway -> node: hello-ok, pair-ok, error, res, invoke, event, ping, pong
// Params and payloads travel as JSON *strings* (paramsJSON, payloadJSON).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "host/connections/dialect.hpp"
#include "protocols/bridge/authenticated_nodes.hpp"
#include "protocols/bridge/tick_timer.hpp"
#include "runtime/deadlines.hpp"
#include "services/nodes/node_record.hpp"
#include "services/nodes/pairing_decisions.hpp"

namespace vespid::nodes {
class NodeStore;
class LocalNodeRouter;
}  // namespace vespid::nodes

namespace vespid::sessions {
class SessionService;
}

namespace vespid::core {

struct BridgeSettings {
  std::string server_name;
  std::string canvas_host_url;
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds ping_interval{30000};
  std::chrono::milliseconds idle_timeout{90000};
  std::chrono::milliseconds tick_interval{30000};  // `event tick` to every authenticated node
  size_t max_pending = 1000;                       // pairing requests waiting on this gateway
  size_t max_pending_per_peer = 4;                 // ... from one IP address
  size_t max_claims_bytes = 16384;                 // one pair-request's claims, as JSON
};

// What the bridge tells the operator side (a node asked to pair).
using PairingAnnouncer = std::function<void(const nodes::PendingPairing&)>;
// A pairing request ended without an operator's decision: `how` is "expired" (pairing.ttl_ms
// passed while the node waited) or "withdrawn" (the node disconnected or asked for another id).
using PairingEndAnnouncer =
    std::function<void(const std::string& node_id, const std::string& request_id, const char* how)>;
// A node changed its org's voice wake triggers ({"triggers": [...]}): every node of the org,
// on any gateway instance, is to hear `voicewake.changed`.
using VoicewakeAnnouncer =
    std::function<void(const std::string& org_id, const nlohmann::json& settings)>;

class BridgeDialect final : public Dialect, public nodes::PairingDecisions {
 public:
  static constexpr int kProtocolVersion = 1;

  BridgeDialect(BridgeSettings settings, nodes::NodeStore& store, nodes::LocalNodeRouter& router,
                Deadlines& deadlines, PairingAnnouncer announce);

  std::string_view name() const noexcept override { return "bridge.v1"; }
  Task<void> on_open(std::shared_ptr<Connection> conn) override;
  Task<void> on_message(std::shared_ptr<Connection> conn, std::string message) override;
  // A plain successful invoke-res (the frame every invoke ends with), read typed.
  bool on_message_now(Connection& conn, std::string_view message) override;
  void on_protocol_error(Connection& conn, int status, const std::string& message) override;
  void on_overload(Connection& conn, const std::string& message) override;
  void on_frame_failed(Connection& conn, const std::string& code,
                       const std::string& message) override;
  void on_close(Connection& conn) override;

  // Sequencer only. The gateway is stopping: connections that close from now on keep their
  // stored pairing requests, so an operator still sees them after a restart.
  void keep_pairing_requests() { keep_pairing_requests_ = true; }
  // Sequencer only: bridge connections here waiting for a decision on their pairing request.
  size_t pairing_waiting() const noexcept { return pairing_slots_; }

  // Operator decisions, delivered to the connection waiting on that node's pairing (if any).
  void pairing_approved(const nodes::NodeRecord& node, const std::string& token) override;
  void pairing_rejected(const std::string& node_id) override;

  // Where voicewake.set announces its change; unset, only this gateway's nodes hear it.
  void set_voicewake_announcer(VoicewakeAnnouncer a) { announce_voicewake_ = std::move(a); }
  // Where a request that ended undecided is announced (node.pair.resolved); unset: nowhere.
  void set_pairing_end_announcer(PairingEndAnnouncer a) { announce_end_ = std::move(a); }
  // `event voicewake.changed` with `settings` to the org's nodes connected here.
  void push_voicewake(const std::string& org_id, const nlohmann::json& settings);

  // The sessions service behind chat.send, chat.history and sessions.list
  // (docs/bridge-protocol.md).
  void set_sessions(sessions::SessionService* s) { sessions_ = s; }
  // Stored session events (the service's fan-out): agent_delta / agent_final / error become
  // `event chat` frames to the nodes subscribed to that session.
  void publish_chat(const std::string& session_id, const std::vector<nlohmann::json>& events);
  // Whether a node here subscribed to the session's chat.
  bool watches_chat(const std::string& session_id) const {
    return chat_subs_.count(session_id) != 0;
  }

 private:
  struct Session;
  class Link;

  bool handshake_allowed(Connection& conn, const nlohmann::json& frame, const char* what);
  Task<void> handle_hello(std::shared_ptr<Connection> conn, nlohmann::json frame);
  Task<void> handle_pair_request(std::shared_ptr<Connection> conn, nlohmann::json frame);
  Task<void> handle_req(std::shared_ptr<Connection> conn, nlohmann::json frame);
  Task<void> handle_event(std::shared_ptr<Connection> conn, nlohmann::json frame);
  // Answers a frame the gateway cannot take with `error`; an authenticated connection is then
  // closed, since a node treats such an error as the end of its connection anyway.
  void refuse(Connection& conn, const std::string& code, const std::string& message);
  Task<nlohmann::json> call_node_method(Session& s, std::string method, nlohmann::json params);
  void unsubscribe_chat(Connection& conn, const std::string& session_id);
  void handle_invoke_res(Connection& conn, nlohmann::json& frame);
  void authenticate(const std::shared_ptr<Connection>& conn, const nodes::NodeRecord& node,
                    int protocol);
  void schedule_liveness(const std::shared_ptr<Connection>& conn);
  // A connection that has not authenticated must do so (or start pairing) in time.
  void arm_handshake_deadline(const std::shared_ptr<Connection>& conn);
  // Pairing admission, O(1): counted per gateway and per peer address. Refuses with an error
  // frame and returns false when a limit is reached.
  bool admit_pairing(Connection& conn);
  // Gives up the connection's claim on the node id it asked to pair (waiting_, the counts).
  // `withdraw` also deletes its stored request: no one would receive an approval of it.
  // `withdraw`: the stored request goes too, and is announced as ended (`how`: "withdrawn" or
  // "expired").
  void release_pairing_slot(Connection& conn, bool withdraw, const char* how = "withdrawn");
  // Who made a pending request: unique across connections and gateway restarts.
  std::string pairing_owner(const Connection& conn) const;
  nlohmann::json hello_ok(int protocol) const;
  // The org's current triggers as `voicewake.changed`, as the reference sends after hello-ok.
  // Best effort: a storage failure is logged, the node asks with voicewake.get.
  Task<void> send_current_voicewake(std::shared_ptr<Connection> conn, std::string org_id);
  // A paired node's hello declared commands it was not approved for: they stay unavailable, and
  // operators are asked to re-approve (node.pair.requested with reapproval: true).
  Task<void> ask_about_new_commands(std::shared_ptr<Connection> conn, nodes::NodeRecord node,
                                    nlohmann::json hello);

  BridgeSettings settings_;
  nodes::NodeStore& store_;
  nodes::LocalNodeRouter& router_;
  Deadlines& deadlines_;
  PairingAnnouncer announce_;
  // node id -> the connection waiting for an operator's decision on its pairing
  std::unordered_map<std::string, std::weak_ptr<Connection>> waiting_;
  // Connections holding a pairing slot, in all and per peer address (pairing.max_pending*).
  size_t pairing_slots_ = 0;
  bool keep_pairing_requests_ = false;  // shutting down
  std::unordered_map<std::string, size_t> pairing_slots_by_peer_;
  const std::string instance_nonce_;  // random per process: connection ids restart at 1
  sessions::SessionService* sessions_ = nullptr;
  // session id -> connection id -> subscribed node connection (chat.subscribe)
  std::unordered_map<std::string, std::unordered_map<uint64_t, std::weak_ptr<Connection>>>
      chat_subs_;
  // The reference's default session key: the node's own session, made on first use.
  static constexpr const char* kMainSessionKey = "main";
  // params.sessionKey, or "main" when it is absent or empty.
  static std::string session_key_of(const nlohmann::json& params);
  // A key as the session id it names ("main": the node's main session, made if need be).
  core::Task<std::string> resolve_session_key(const Session& s, std::string key);
  // user_message and agent_final events as the reference's transcript messages
  // ({role, content:[{type:"text", text}], timestamp}), for chat.history.
  static nlohmann::json chat_messages(const std::vector<nlohmann::json>& events);
  // The text of the run each subscribed session is streaming, as far as it has come: the
  // reference's chat deltas carry the whole text so far, not the piece. Sequencer only; at most
  // kMaxChatTextBytes per session (past it the text stops growing; the final carries it whole).
  struct ChatRunText {
    std::string run_id;
    std::string text;
  };
  std::unordered_map<std::string, ChatRunText> chat_text_;
  static constexpr std::size_t kMaxChatTextBytes = 1u << 20;
  VoicewakeAnnouncer announce_voicewake_;
  PairingEndAnnouncer announce_end_;
  AuthenticatedNodes authenticated_;  // who hears tick and voicewake.changed
  TickTimer tick_{deadlines_, settings_.tick_interval, authenticated_};
};

}  // namespace vespid::core
