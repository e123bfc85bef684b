// Work sent to node hosts: picks a host by selector (stored tags authoritative; least in flight
// first, then least recently used; each host's maxInFlight respected), records the dispatch
// durably before the host sees it, and turns the host's answer (or its silence) into a stored
// result. Every outstanding dispatch is in storage, so a restarted gateway re-arms the timeouts
// and still accepts the results hosts resend after they reconnect.
//
// Runs inside the Sequencer. Reaches hosts only through NodeRouter (see node_router.hpp).
#pragma once

#include <chrono>
#include <coroutine>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/deadlines.hpp"
#include "runtime/task.hpp"
#include "runtime/wake_list.hpp"
#include "services/dispatch/dispatch_request.hpp"
#include "services/dispatch/host_result.hpp"
#include "services/dispatch/result_store.hpp"

namespace vespid::nodes {
class NodeRouter;
struct ConnectedNode;
}  // namespace vespid::nodes

namespace vespid::dispatch {

struct DispatchSettings {
  // The gateway instance that waits for the dispatches it makes (cluster.instance_id): written
  // into each dispatch record, so that a restarted instance re-arms its own and no other's.
  std::string instance_id;
  int64_t default_timeout_ms = 60000;
  int default_max_in_flight = 10;  // per host, when its hello does not say
  int max_outstanding = 100000;    // across the gateway
  std::chrono::milliseconds sweep_interval{60000};
};

// Whoever started a dispatch and wants its progress (sessions do). Called inside the Sequencer.
class ExecutionListener {
 public:
  virtual ~ExecutionListener() = default;
  virtual void on_received(const std::string& /*request_id*/) {}
  virtual void on_event(const std::string& request_id, const nlohmann::json& event) = 0;
  virtual void on_result(const std::string& request_id, const nlohmann::json& result) = 0;
  // What a restarted gateway needs to build this listener again (stored with the dispatch
  // record as "resume"); null when the listener does not survive a restart.
  virtual nlohmann::json resume_state() const { return nullptr; }
  // This listener was rebuilt for a dispatch adopted from an instance that died, and the host's
  // events are about to be fed to it from the first one on: some of them the dead instance
  // may already have turned into stored effects, which the listener must not repeat.
  virtual void replaying_from_first_event() {}
};

// Carries a host's answer to the instance that waits for it, when the host is connected to
// another instance than the one that dispatched (core/cluster/cluster_fanout.hpp). Called inside
// the Sequencer for every answer to a dispatch not waited for here; a result is already stored.
class DispatchRelay {
 public:
  virtual ~DispatchRelay() = default;
  // kind: "received", "event" (payload: the event) or "result" (payload: the stored result).
  virtual void relay(const std::string& kind, const std::string& request_id,
                     const std::string& agent_id, const nlohmann::json& payload) = 0;
};

class Dispatcher {
 public:
  Dispatcher(core::StorageService& storage, nodes::NodeRouter& router, core::Deadlines& deadlines,
             ResultStore& results, DispatchSettings settings);
  ~Dispatcher();

  // Builds the listener of a dispatch recovered from storage from its stored resume_state()
  // (sessions register one so a turn in flight across a restart still reaches its session).
  using Resumer = std::function<std::shared_ptr<ExecutionListener>(
      const std::string& request_id, const nlohmann::json& resume_state)>;
  void set_resumer(Resumer r) { resumer_ = std::move(r); }

  // Startup: re-arms outstanding dispatches found in storage (timing out those already late,
  // with their listeners rebuilt by the resumer) and starts the result sweep.
  core::Task<size_t> recover();

  // Another instance that dispatched is gone (cluster presence): its outstanding dispatches for
  // which `takes(agent_id)` is true are waited for here from now on. Each record is claimed with
  // a compare-and-swap on its version, so one instance adopts it however many try; its listener
  // is rebuilt by the resumer, and `history(request_id)` gives, when it has them all, the host's
  // events this instance relayed to the dead one, which are fed to it again (what the dead
  // instance had not yet acted on would otherwise be lost). Returns how many were adopted.
  using RelayedHistory =
      std::function<std::optional<std::vector<nlohmann::json>>(const std::string& request_id)>;
  core::Task<size_t> adopt(std::string instance, std::function<bool(const std::string&)> takes,
                           RelayedHistory history);
  void stop();

  enum class Outcome { Dispatched, AlreadyInFlight, Cached };
  struct Submitted {
    Outcome outcome;
    std::string request_id;
    std::string agent_id;
    // Dispatched: the revision of its record, applied but perhaps not durable yet (durable()).
    uint64_t record_revision = 0;
  };
  // Throws api::ApiError NO_AGENT_AVAILABLE (with details.reason) or UNAVAILABLE. Returns as
  // soon as the execute is sent, with no suspension after it, so that what the caller does next
  // (a session's agent_selected) comes before anything the host sends back.
  core::Task<Submitted> submit(DispatchRequest request,
                               std::shared_ptr<ExecutionListener> listener = nullptr);
  // Resumes once a submitted dispatch's record is durable (storage.md, "Deferred syncs"): the
  // caller is told the dispatch exists only after this. No suspension when it already is.
  // Throws core::StorageError when the sync failed; the dispatch stays in flight.
  core::Task<void> durable(const Submitted& submitted);

  // From a host's connection (its id and org as authenticated).
  void received(const std::string& agent_id, const std::string& request_id);
  void event(const std::string& agent_id, const std::string& request_id,
             const nlohmann::json& event);
  enum class Completion { Stored, Duplicate, Unknown, Foreign };
  // Stored and Duplicate are acknowledged to the host; Unknown (no such dispatch) is acknowledged
  // too, so the host stops resending, but nothing is stored; Foreign (a request sent to another
  // host, or another org's) is refused.
  // The result is stored as its text; listeners and the relay get a DOM of it, made only for
  // them.
  core::Task<Completion> complete(std::string agent_id, std::string org_id, HostResult result);

  // Where answers to dispatches not waited for here go (at most one; set before start).
  void set_relay(DispatchRelay* relay) { relay_ = relay; }
  // An answer relayed from the instance the host is connected to. Ignored unless the dispatch is
  // outstanding here for that host; a "result" is not stored again.
  void relayed(const std::string& kind, const std::string& request_id, const std::string& agent_id,
               const nlohmann::json& payload);

  // Asks the host running `request_id` to stop it: sends `session_cancel {requestId,
  // organizationId, sessionId}` (the reference's frame). Hosts that do not know the frame ignore
  // it and finish the work; the dispatch stays outstanding until the result or the timeout
  // either way. False when the dispatch is not outstanding here or the frame could not be sent.
  bool cancel(const std::string& request_id, const std::string& session_id);

  // The public result view {status, output?, error?}, if stored and unexpired.
  core::Task<std::optional<nlohmann::json>> result(std::string request_id);

  // Waits for `request_id`'s result and returns its public view: woken when the dispatch ends
  // here; one in flight on another instance is looked for every kPollInterval. The dispatch's
  // own timeout bounds the wait (a timeout is a result). A dispatch that vanished without a
  // result (its record gone) ends the wait with NODE_EXECUTION_TIMEOUT.
  static constexpr std::chrono::milliseconds kPollInterval{200};
  core::Task<nlohmann::json> wait_result(std::string request_id);
  // The same, for at most `max_wait`: nullopt when it passes first (a worker's long-poll of
  // GET /internal/v1/results/:id?waitMs=). A request id with neither a dispatch nor a result
  // is not ready either (looked for again every kPollInterval): the caller's own deadline, not
  // this wait, decides that a node timed out.
  core::Task<std::optional<nlohmann::json>> wait_result_for(std::string request_id,
                                                            std::chrono::milliseconds max_wait);

  size_t outstanding() const noexcept { return outstanding_.size(); }
  int in_flight_of(const std::string& agent_id) const;

 private:
  struct Outstanding {
    std::string org_id;
    std::string agent_id;
    core::Deadlines::Id deadline = 0;
    std::shared_ptr<ExecutionListener> listener;
    // When submit() made it; unset for one recovered or adopted (its start is not known here).
    std::chrono::steady_clock::time_point submitted_at{};
  };
  struct Pick {
    const nodes::ConnectedNode* node = nullptr;
    std::string reason;  // why nothing was picked
  };
  Pick pick(const DispatchRequest& r) const;
  // The stored, unexpired result of `r`'s attempt as a Cached answer, if there is one.
  // Throws CONFLICT when it belongs to another org.
  core::Task<std::optional<Submitted>> cached(const DispatchRequest& r, std::string request_id);
  // What a request asks of every host, worked out once per pick: the group's tag and, for a
  // connector.action, its payload's connectorId (empty when it names none).
  struct Wanted {
    std::string group_tag;
    std::string connector_id;
  };
  static Wanted wanted(const DispatchRequest& r);
  bool accepts(const nodes::ConnectedNode& n, const DispatchRequest& r, const Wanted& w) const;
  int max_in_flight(const nodes::ConnectedNode& n) const;
  struct Pause;
  void arm(const std::string& request_id, Outstanding o, int64_t deadline_ms);
  void release(const std::string& request_id);
  // Counts a dispatch waited for here that ended with `result` (a stored result's public view).
  static void count_end(const Outstanding& o, const nlohmann::json& result);
  static void count_end(const Outstanding& o, bool succeeded, const std::string& error);
  core::Task<void> time_out(std::string request_id);
  void schedule_sweep();

  core::StorageService& storage_;
  nodes::NodeRouter& router_;
  core::Deadlines& deadlines_;
  ResultStore& results_;
  DispatchSettings settings_;
  std::unordered_map<std::string, Outstanding> outstanding_;
  // Per host, what picking one weighs: read with one lookup per host and request. An entry
  // stays when its dispatches end (for last_used), so there is at most one per host ever used.
  struct HostLoad {
    int in_flight = 0;       // outstanding dispatches
    uint64_t last_used = 0;  // dispatch_counter_ when it was last picked
  };
  std::unordered_map<std::string, HostLoad> load_;  // agent id ->
  uint64_t dispatch_counter_ = 0;
  core::Deadlines::Id sweep_deadline_ = 0;
  bool stopped_ = false;
  Resumer resumer_;
  DispatchRelay* relay_ = nullptr;
  // wait_result callers, keyed by request id, woken (posted, never inline) when the dispatch is
  // released here.
  core::WakeList waiters_;
};

}  // namespace vespid::dispatch
