// The gateway's own instruments: every counter and histogram a call site updates, with the fixed
// label sets they are counted by (docs/metrics.md lists them). One set per process, reached with
// metrics::instruments() from any layer and any thread; an update is one relaxed atomic add.
//
// Labels are small enums, never ids: a node, user or request id as a label would make a series
// per id and grow without bound. What a scrape can read from the gateway's state instead
// (connections open now, nodes online, queue depths) is not counted here but read at the scrape
// (core/gateway/metrics_scrape.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "runtime/metrics.hpp"

namespace vespid::metrics {

// The wire dialects, as the connection hub names them.
enum class Dialect { Bridge, Node, Client, Operator, Rest, Other, Count };
Dialect dialect_of(std::string_view name) noexcept;

// Why a connection ended, from the status the transport closed it with (conn_closed) and
// whether the gateway had asked for the close.
enum class CloseReason { Peer, Gateway, Error, Overflow, Shutdown, Other, Count };
// A transport's conn_open the hub refused.
enum class Refusal { Limit, Shutdown, Count };

// How an invoke on a bridge node connected here ended (services/nodes/node_router.cpp):
// the node's ok:true (ok) or ok:false (error), no answer in time (timeout), the node not
// connected or gone before it answered (unavailable), refused before it was sent (a command the
// node did not declare, or invoke.max_in_flight_per_node reached).
enum class InvokeOutcome { Ok, Error, Timeout, Unavailable, Refused, Count };

// How a dispatch to a node host ended (services/dispatch/dispatcher.cpp): its result's status
// succeeded (ok) or failed (error), the gateway's timeout, no host to take it (unavailable),
// dispatch.max_outstanding reached (overloaded), or answered by a dispatch already in flight or a
// cached result (deduplicated).
enum class DispatchOutcome { Ok, Error, Timeout, Unavailable, Overloaded, Deduplicated, Count };

// Where a read of a stored dispatch result was answered from (services/dispatch/result_store):
// the host results this instance stored lately (memory), or storage.
enum class ResultRead { Memory, Storage, Count };

// Session event types (docs/sessions.md); anything else counts as other.
enum class SessionEvent {
  SessionCreated,
  UserMessage,
  AgentSelected,
  AgentDelta,
  AgentMessage,
  ToolCall,
  ToolResult,
  AgentFinal,
  Error,
  Other,
  Count
};
SessionEvent session_event_of(std::string_view type) noexcept;

// How a session turn ended: the host's result (succeeded, failed), the turn timeout, cancelled
// by a user, or never dispatched (no host available, the pinned host offline).
enum class TurnOutcome { Succeeded, Failed, Timeout, Canceled, Unavailable, Count };

enum class PairingKind { Bridge, Reapproval, Count };
// Approved or rejected by an operator; expired while the node waited, or withdrawn by the node
// (its connection closed or it asked for something else).
enum class PairingDecision { Approved, Rejected, Expired, Withdrawn, Count };

enum class TxnResult { Applied, Conflict, Failed, Count };

// An array of instruments indexed by one label enum.
template <class E, class M = Counter>
struct By {
  std::array<M, static_cast<size_t>(E::Count)> at{};
  M& operator[](E e) noexcept { return at[static_cast<size_t>(e)]; }
  const M& operator[](E e) const noexcept { return at[static_cast<size_t>(e)]; }
};

struct Instruments {
  Instruments();

  // Connections (host/connections).
  By<Dialect> connections_opened;
  By<Dialect, By<CloseReason>> connections_closed;
  By<Refusal> connections_refused;
  // A transport said its send queue is over its high-water mark (VSP_E_BUSY) or full
  // (VSP_E_OVERFLOW: it drops the connection); frames over limits.connection_queue_depth.
  By<Dialect> send_busy;
  By<Dialect> send_overflows;
  By<Dialect> inbox_overflows;

  // Invokes of bridge nodes connected here (striped: every invoke, from every shard).
  By<InvokeOutcome, StripedCounter> invokes;
  Histogram invoke_duration;  // of the invokes sent to a node, whatever the outcome
  Counter invoke_late_results;

  // Dispatches this instance waits for.
  By<DispatchOutcome, StripedCounter> dispatches;
  Histogram dispatch_duration;  // submit to result or timeout, of the ones dispatched here
  By<ResultRead, StripedCounter> dispatch_result_reads;

  By<SessionEvent> session_events;  // stored
  By<TurnOutcome> session_turns;

  // Storage: one durable commit call to the backend carries a batch of transactions.
  Histogram storage_commit_duration;
  Histogram storage_batch_size;
  Counter storage_commits;          // commit calls the backend made durable
  Counter storage_commit_failures;  // commit calls that failed as a whole
  By<TxnResult> storage_transactions;
  Counter storage_queue_rejections;  // storage.queue_depth reached
  // Syncs after commits applied without one (a backend with ABI 1.4's commit_unsynced).
  Histogram storage_sync_duration;
  Counter storage_sync_failures;

  Counter log_tail_dropped;  // lines a logs.tail reader lost (its queue was full)

  By<PairingKind> pairing_requests_received;
  By<PairingKind, By<PairingDecision>> pairing_requests;
  Counter pairing_tokens_minted;
  Counter pairing_tokens_used;

  // Every instrument above, in the text format.
  void write(TextWriter& w) const;
};

Instruments& instruments() noexcept;

// Label values, as they appear in the exposition.
std::string_view name(Dialect d) noexcept;
std::string_view name(CloseReason r) noexcept;

}  // namespace vespid::metrics
