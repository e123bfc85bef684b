// One libpq connection driven without blocking: PQconnectStartParams/PQconnectPoll to open it,
// then pipeline mode in non-blocking mode (PQsendQueryPrepared..., PQpipelineSync, PQflush,
// PQconsumeInput, PQisBusy, PQgetResult) to run one Request at a time. It never waits itself:
// its owner polls fd()/poll_events() and calls on_poll() and on_deadline(), and each call says
// what happened as an Event.
//
// Thread: one owner at a time, every member; nothing here is shared. The pool's loop thread
// owns it while it connects or sits idle, the holder of its lease while it is leased (see
// pool.hpp): the lease's holder runs its requests and polls its socket itself.
#pragma once

#include <libpq-fe.h>
#include <poll.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vespid/plugin.hpp>

#include "request.hpp"
#include "target.hpp"

namespace vespid::postgres {

using Clock = std::chrono::steady_clock;

class Connection {
 public:
  enum class State : uint8_t { closed, connecting, idle, running };
  enum class Event : uint8_t {
    none,
    connected,       // connecting -> idle
    connect_failed,  // connecting -> closed; error() says why
    done,            // running -> idle; the request has its results
    early,           // still running; the request's first early_results results are in
    lost,            // idle or running -> closed; error() says why, a running request failed
  };

  Connection(const Target& target, vsp::Host host, std::chrono::milliseconds connect_timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  State state() const noexcept { return state_; }
  // The socket to poll and for what, or -1 when there is nothing to wait for.
  int fd() const noexcept;
  short poll_events() const noexcept;
  // When on_deadline() must be called (connecting or running), if ever.
  std::optional<Clock::time_point> deadline() const noexcept;

  // closed -> connecting. May fail at once (connect_failed).
  Event connect(Clock::time_point now);
  // idle -> running: sends `req` as one pipeline. The request must stay alive until the event
  // done or lost; `deadline` bounds the wait for its results.
  Event run(Request& req, Clock::time_point deadline);
  Event on_poll(short revents);
  Event on_deadline(Clock::time_point now);
  // Closes the connection (any state). A running request is left failed with `why`.
  void close(Failure failure, const std::string& why) noexcept;

  // Why the last connect failed or the connection was lost.
  const std::string& error() const noexcept { return error_; }
  // Bumped by every successful connect: a new session, with nothing prepared yet.
  uint64_t session() const noexcept { return session_; }
  // The server this session reached (host:port) and whether it speaks TLS, for the log.
  std::string describe() const;

 private:
  Event advance_connect();
  Event pump(short revents);
  Event lose(Failure failure, const std::string& why) noexcept;

  const Target& target_;
  const vsp::Host host_;
  const std::chrono::milliseconds connect_timeout_;

  PGconn* conn_ = nullptr;
  State state_ = State::closed;
  // While connecting: what PQconnectPoll asked to wait for.
  PostgresPollingStatusType polling_ = PGRES_POLLING_WRITING;
  std::optional<Clock::time_point> deadline_;
  // While running: the request, the statement whose results come next, and whether libpq still
  // holds unsent bytes (then the socket is also watched for writability).
  Request* request_ = nullptr;
  size_t next_result_ = 0;
  bool early_told_ = false;  // Event::early was returned for this request
  bool flushing_ = false;
  std::string error_;
  uint64_t session_ = 0;
};

}  // namespace vespid::postgres
