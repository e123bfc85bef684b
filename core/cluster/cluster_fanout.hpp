// What one instance does that sockets on other instances must hear about, carried over the bus:
//
// - a revoked access token or a removed membership closes the connections holding it wherever
//   they are;
// - a pairing decided on one instance reaches the bridge node waiting on another (the token goes
//   over the bus once, to the instance that holds the socket and to nobody else's client), and
//   a node asking to pair on one instance is announced to operators on all of them;
// - a node's voicewake.set reaches the bridge nodes of its org on every instance
//   (voicewake.changed);
// - new session events reach subscribers on other instances: the bus says "session S now goes
//   up to seq N" and each instance with a subscriber reads what it has not delivered yet from
//   storage, so a lost notice costs latency (the next one covers it), never an event, and every
//   subscriber sees one gap-free seq line whoever wrote it;
// - a session turn stopped through one instance is stopped by the instance waiting for it;
// - a node host's answer to a dispatch reaches the instance that waits for it (the result itself
//   is already stored by the instance the host is connected to); when that instance dies, the
//   dispatch is adopted (Dispatcher::adopt) by the instance holding the host, which replays what
//   it had relayed (relay_history.hpp).
//
// Thread: the Sequencer; bus deliveries hop into it.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/cluster_wire.hpp"
#include "cluster/relay_history.hpp"
#include "host/bus/bus.hpp"
#include "runtime/sequencer.hpp"
#include "services/dispatch/dispatcher.hpp"
#include "services/nodes/pairing_decisions.hpp"
#include "storage/storage_service.hpp"

namespace vespid::cluster {

class ClusterFanout final : public nodes::PairingDecisions, public dispatch::DispatchRelay {
 public:
  using Events = std::vector<nlohmann::json>;
  // What this instance does on its own sockets.
  struct Local {
    std::function<int(const std::string& token_id)> close_token_holders;
    std::function<int(const std::string& org_id, const std::string& user_id)> close_member;
    nodes::PairingDecisions* pairing = nullptr;  // the bridge dialect (may be null)
    // Tells this instance's operators that a node asks to pair (node.pair.requested).
    std::function<void(const nlohmann::json& request)> announce_pairing_request;
    // ... that a request was decided or ended (node.pair.resolved).
    std::function<void(const nlohmann::json& resolved)> announce_pairing_resolved;
    // What a user may see changed: their operator connections read it again.
    std::function<void(const std::string& user_id)> user_rights_changed;
    // Tells this instance's bridge nodes of an org its new voice wake triggers.
    std::function<void(const std::string& org_id, const nlohmann::json& settings)> push_voicewake;
    std::function<void(const std::string& session_id, const Events& events)> deliver_events;
    std::function<bool(const std::string& session_id)> watches_session;
    // Whether any other instance is known (presence). Session notices and dispatch relays are
    // skipped while there is none: a single gateway does not pay for a bus nobody listens to.
    // An instance that joins re-reads from storage what it missed (its clients replay).
    std::function<bool()> others_present;
    dispatch::Dispatcher* dispatcher = nullptr;
    // Whether this instance should wait for a dead instance's dispatch to this node host: it
    // holds the host, or nobody does and it is the one chosen to (the lowest live id).
    std::function<bool(const std::string& agent_id)> adopts_dispatches_to;
    // Stops the session turn `request_id` this instance waits for, if it still does.
    std::function<void(const std::string& session_id, const std::string& request_id,
                       const std::string& stop_reason, const std::string& by)>
        cancel_turn;
  };

  ClusterFanout(ClusterSettings settings, host::Bus& bus, core::Sequencer& sequencer,
                core::StorageService& storage, Local local);
  ~ClusterFanout() override;

  // Sequencer.
  void start();
  void stop();

  // Each acts here and tells the other instances.
  int access_token_revoked(const std::string& token_id);
  int membership_removed(const std::string& org_id, const std::string& user_id);
  void pairing_approved(const nodes::NodeRecord& node, const std::string& token) override;
  void pairing_rejected(const std::string& node_id) override;
  // A node asked to pair here (its public view): operators on every instance hear of it.
  void pairing_requested(const nlohmann::json& request);
  // A request was decided here, or ended undecided (node.pair.resolved): operators everywhere.
  void pairing_resolved(const nlohmann::json& resolved);
  // A user's memberships or gateway administrator flag changed here.
  void user_rights_changed(const std::string& user_id);
  // A node changed its org's voice wake triggers here: nodes of the org everywhere hear of it.
  void voicewake_changed(const std::string& org_id, const nlohmann::json& settings);
  // The session service stored `events` (in seq order) here.
  void session_events_stored(const std::string& session_id, const Events& events);
  // DispatchRelay: progress of a dispatch another instance may be waiting for.
  void relay(const std::string& kind, const std::string& request_id, const std::string& agent_id,
             const nlohmann::json& payload) override;
  // A caller here stopped a session turn that `instance` waits for: that instance stops it.
  void cancel_turn_on(const std::string& instance, const std::string& session_id,
                      const std::string& request_id, const std::string& stop_reason,
                      const std::string& by);
  // Presence let `instance` go: adopt the dispatches it was waiting for that are ours to wait for.
  void instance_lost(const std::string& instance);
  const RelayHistory& relay_history() const { return history_; }

 private:
  struct SessionLine {
    uint64_t delivered = 0;  // every event up to here went to this instance's subscribers
    uint64_t wanted = 0;     // the highest seq known to be stored
    bool reading = false;
  };
  void subscribe(const std::string& subject, void (ClusterFanout::*handler)(const nlohmann::json&));
  void on_credentials(const nlohmann::json& m);
  void on_pairing(const nlohmann::json& m);
  void on_voicewake(const nlohmann::json& m);
  void on_session(const nlohmann::json& m);
  void on_dispatch(const nlohmann::json& m);
  void on_turn_cancel(const nlohmann::json& m);
  void publish(const std::string& subject, nlohmann::json body);
  bool alone() const;  // no other instance known: nothing to tell
  SessionLine& line(const std::string& session_id, uint64_t first_seq);
  // Reads (delivered, wanted] from storage and delivers it, again while more is wanted.
  void catch_up(const std::string& session_id);

  ClusterSettings settings_;
  Subjects subjects_;
  host::Bus& bus_;
  core::Sequencer& sequencer_;
  core::StorageService& storage_;
  Local local_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::vector<host::Bus::SubscriptionId> subscriptions_;
  std::unordered_map<std::string, SessionLine> lines_;
  RelayHistory history_;
};

}  // namespace vespid::cluster
