#include "runtime/gateway_metrics.hpp"

namespace vespid::metrics {

namespace {

// Seconds. An invoke on loopback takes about 100 µs; one that waits for a person up to the
// invoke timeout.
constexpr double kInvokeBounds[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                    0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                    0.5,     1,      2.5,     5,      10,    30};
// A dispatch is work on a node host: a model's turn can take minutes (sessions.turn_timeout_ms).
constexpr double kDispatchBounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                      2.5,   5,     10,   30,    60,   120, 300,  600};
// One durable commit: an fsync on a local disk is 0.1 to 10 ms.
constexpr double kCommitBounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5};
// Transactions per commit: storage.max_batch is 512 by default.
constexpr double kBatchBounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

constexpr std::string_view kDialects[] = {"bridge.v1",   "vespid.node.v1", "vespid.client.v1",
                                          "operator.v1", "rest.v1",        "other"};
constexpr std::string_view kCloseReasons[] = {"peer",     "gateway",  "error",
                                              "overflow", "shutdown", "other"};
constexpr std::string_view kRefusals[] = {"limit", "shutdown"};
constexpr std::string_view kInvokeOutcomes[] = {"ok", "error", "timeout", "unavailable", "refused"};
constexpr std::string_view kDispatchOutcomes[] = {"ok",          "error",      "timeout",
                                                  "unavailable", "overloaded", "deduplicated"};
constexpr std::string_view kResultReads[] = {"memory", "storage"};
constexpr std::string_view kSessionEvents[] = {
    "session_created", "user_message", "agent_selected", "agent_delta", "agent_message",
    "tool_call",       "tool_result",  "agent_final",    "error",       "other"};
constexpr std::string_view kTurnOutcomes[] = {"succeeded", "failed", "timeout", "canceled",
                                              "unavailable"};
constexpr std::string_view kPairingKinds[] = {"bridge", "reapproval"};
constexpr std::string_view kDecisions[] = {"approved", "rejected", "expired", "withdrawn"};
constexpr std::string_view kTxnResults[] = {"applied", "conflict", "failed"};

template <class E, class C, size_t N>
void counters(TextWriter& w, std::string_view metric, std::string_view label,
              const By<E, C>& values, const std::string_view (&names)[N]) {
  static_assert(N == static_cast<size_t>(E::Count), "one name per label value");
  for (size_t i = 0; i < N; ++i) {
    const Label l[] = {{label, names[i]}};
    w.sample(metric, l, values.at[i].value());
  }
}

template <class E1, class E2, size_t N1, size_t N2>
void counters(TextWriter& w, std::string_view metric, std::string_view label1,
              const std::string_view (&names1)[N1], std::string_view label2,
              const std::string_view (&names2)[N2], const By<E1, By<E2>>& values) {
  static_assert(N1 == static_cast<size_t>(E1::Count) && N2 == static_cast<size_t>(E2::Count));
  for (size_t i = 0; i < N1; ++i) {
    for (size_t j = 0; j < N2; ++j) {
      const Label l[] = {{label1, names1[i]}, {label2, names2[j]}};
      w.sample(metric, l, values.at[i].at[j].value());
    }
  }
}

void counter(TextWriter& w, std::string_view metric, const Counter& c) {
  w.sample(metric, {}, c.value());
}

}  // namespace

Dialect dialect_of(std::string_view n) noexcept {
  for (size_t i = 0; i + 1 < std::size(kDialects); ++i) {
    if (kDialects[i] == n) return static_cast<Dialect>(i);
  }
  return Dialect::Other;
}

SessionEvent session_event_of(std::string_view type) noexcept {
  for (size_t i = 0; i + 1 < std::size(kSessionEvents); ++i) {
    if (kSessionEvents[i] == type) return static_cast<SessionEvent>(i);
  }
  return SessionEvent::Other;
}

std::string_view name(Dialect d) noexcept {
  return kDialects[static_cast<size_t>(d)];
}

std::string_view name(CloseReason r) noexcept {
  return kCloseReasons[static_cast<size_t>(r)];
}

Instruments::Instruments()
    : invoke_duration(kInvokeBounds),
      dispatch_duration(kDispatchBounds),
      storage_commit_duration(kCommitBounds),
      storage_batch_size(kBatchBounds),
      storage_sync_duration(kCommitBounds) {}

Instruments& instruments() noexcept {
  static Instruments the;
  return the;
}

void Instruments::write(TextWriter& w) const {
  w.family("vespid_connections_opened_total", "Connections transports opened, by dialect.",
           "counter");
  counters(w, "vespid_connections_opened_total", "dialect", connections_opened, kDialects);
  w.family("vespid_connections_closed_total",
           "Connections that ended, by dialect and reason (peer: the peer hung up; gateway: the "
           "gateway closed it; error: an I/O error or a silent peer; overflow: its send queue "
           "filled; shutdown: the gateway or the transport stopped).",
           "counter");
  counters(w, "vespid_connections_closed_total", "dialect", kDialects, "reason", kCloseReasons,
           connections_closed);
  w.family("vespid_connections_refused_total",
           "Connections refused at open (limit: limits.max_connections; shutdown).", "counter");
  counters(w, "vespid_connections_refused_total", "reason", connections_refused, kRefusals);
  w.family("vespid_connection_send_busy_total",
           "Sends a transport accepted above its send queue's high-water mark (VSP_E_BUSY).",
           "counter");
  counters(w, "vespid_connection_send_busy_total", "dialect", send_busy, kDialects);
  w.family("vespid_connection_send_overflows_total",
           "Sends refused because the connection's send queue was full; the connection is "
           "dropped.",
           "counter");
  counters(w, "vespid_connection_send_overflows_total", "dialect", send_overflows, kDialects);
  w.family("vespid_connection_inbox_overflows_total",
           "Connections dropped for having more frames waiting than "
           "limits.connection_queue_depth.",
           "counter");
  counters(w, "vespid_connection_inbox_overflows_total", "dialect", inbox_overflows, kDialects);

  w.family("vespid_invokes_total", "Invokes of bridge nodes connected here, by outcome.",
           "counter");
  counters(w, "vespid_invokes_total", "outcome", invokes, kInvokeOutcomes);
  w.family("vespid_invoke_duration_seconds",
           "Time from sending an invoke to a bridge node to its answer, timeout or loss.",
           "histogram");
  w.histogram("vespid_invoke_duration_seconds", {}, invoke_duration);
  w.family("vespid_invoke_late_results_total",
           "Invoke answers that came after the invoke ended (timed out, or the node reconnected).",
           "counter");
  counter(w, "vespid_invoke_late_results_total", invoke_late_results);

  w.family("vespid_dispatches_total", "Dispatches to node hosts, by outcome.", "counter");
  counters(w, "vespid_dispatches_total", "outcome", dispatches, kDispatchOutcomes);
  w.family("vespid_dispatch_duration_seconds",
           "Time from a dispatch's submission to its result or timeout (dispatches made by this "
           "gateway process).",
           "histogram");
  w.histogram("vespid_dispatch_duration_seconds", {}, dispatch_duration);
  w.family("vespid_dispatch_result_reads_total",
           "Reads of stored dispatch results (GET /internal/v1/results and the dispatcher's own), "
           "by where they were answered from.",
           "counter");
  counters(w, "vespid_dispatch_result_reads_total", "from", dispatch_result_reads, kResultReads);

  w.family("vespid_session_events_total", "Session events stored, by type.", "counter");
  counters(w, "vespid_session_events_total", "type", session_events, kSessionEvents);
  w.family("vespid_session_turns_total", "Session turns that ended, by outcome.", "counter");
  counters(w, "vespid_session_turns_total", "outcome", session_turns, kTurnOutcomes);

  w.family("vespid_storage_commit_duration_seconds",
           "Time of one commit call to the storage backend (a batch of transactions), with its "
           "sync unless the sync was deferred (vespid_storage_sync_duration_seconds).",
           "histogram");
  w.histogram("vespid_storage_commit_duration_seconds", {}, storage_commit_duration);
  w.family("vespid_storage_batch_size", "Transactions per durable commit call.", "histogram");
  w.histogram("vespid_storage_batch_size", {}, storage_batch_size);
  w.family("vespid_storage_commits_total",
           "Commit calls the storage backend completed (durable, or applied with a deferred "
           "sync to follow).",
           "counter");
  counter(w, "vespid_storage_commits_total", storage_commits);
  w.family("vespid_storage_commit_failures_total",
           "Commit calls the storage backend failed as a whole (I/O error, disk full, closed).",
           "counter");
  counter(w, "vespid_storage_commit_failures_total", storage_commit_failures);
  w.family("vespid_storage_transactions_total",
           "Transactions committed, by result (conflict: a compare did not hold).", "counter");
  counters(w, "vespid_storage_transactions_total", "result", storage_transactions, kTxnResults);
  w.family("vespid_storage_queue_rejections_total",
           "Storage operations refused because storage.queue_depth was reached.", "counter");
  counter(w, "vespid_storage_queue_rejections_total", storage_queue_rejections);
  w.family("vespid_storage_sync_duration_seconds",
           "Time of one deferred sync: commits applied without a sync made durable together.",
           "histogram");
  w.histogram("vespid_storage_sync_duration_seconds", {}, storage_sync_duration);
  w.family("vespid_storage_sync_failures_total",
           "Deferred syncs the storage backend failed (the writes stay applied; their waiters "
           "are told).",
           "counter");
  counter(w, "vespid_storage_sync_failures_total", storage_sync_failures);

  w.family("vespid_log_tail_dropped_lines_total",
           "Log lines a logs.tail follower did not get because its queue was full.", "counter");
  counter(w, "vespid_log_tail_dropped_lines_total", log_tail_dropped);

  w.family("vespid_pairing_requests_received_total",
           "Bridge pairing requests and re-approval requests made.", "counter");
  counters(w, "vespid_pairing_requests_received_total", "kind", pairing_requests_received,
           kPairingKinds);
  w.family("vespid_pairing_requests_total",
           "Bridge pairing and re-approval requests that ended, by kind and decision.", "counter");
  counters(w, "vespid_pairing_requests_total", "kind", kPairingKinds, "decision", kDecisions,
           pairing_requests);
  w.family("vespid_pairing_tokens_minted_total", "Node-host pairing tokens created.", "counter");
  counter(w, "vespid_pairing_tokens_minted_total", pairing_tokens_minted);
  w.family("vespid_pairing_tokens_used_total", "Node hosts paired with a pairing token.",
           "counter");
  counter(w, "vespid_pairing_tokens_used_total", pairing_tokens_used);
}

}  // namespace vespid::metrics
