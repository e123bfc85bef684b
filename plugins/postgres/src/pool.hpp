// The plugin's own I/O thread and the connections it drives. The storage thread (the host's,
// which may block) asks for a connection (acquire), runs pipelines on it (run) and gives it back
// when the Lease goes. A connection belongs to whoever holds it: the lease's holder drives its
// request itself (sends, polls its socket, reads the answer), so a round trip costs no hand-off
// between threads; the loop thread opens connections and watches the ones nobody holds, so an
// idle connection that the server closes (a restart, pg_terminate_backend) is noticed and logged
// when it happens, and reopened when next needed. Acquire and release pass through the loop
// thread, which is what orders one owner's use of a connection before the next one's.
//
// Pooling: `size` slots. acquire() hands out an idle connection, or opens a closed slot; with
// every slot leased it waits for a release. The host makes one storage call at a time, so today
// one slot is in use at once; the others are warm spares (see README.md).
#pragma once

#include <poll.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <vespid/plugin.hpp>

#include "connection.hpp"
#include "request.hpp"
#include "target.hpp"

namespace vespid::postgres {

class Pool {
 public:
  // Reserves one connection for its holder until it is destroyed (moved-from leases hold none).
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept : pool_(o.pool_), slot_(o.slot_), session_(o.session_) {
      o.pool_ = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    size_t slot() const noexcept { return slot_; }
    // Which session of the slot this is; a new one after every reconnect (see Connection).
    uint64_t session() const noexcept { return session_; }

   private:
    friend class Pool;
    Lease(Pool* pool, size_t slot, uint64_t session)
        : pool_(pool), slot_(slot), session_(session) {}
    Pool* pool_ = nullptr;
    size_t slot_ = 0;
    uint64_t session_ = 0;
  };

  Pool(const Target& target, vsp::Host host, unsigned size,
       std::chrono::milliseconds connect_timeout);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Storage thread. Starts the loop thread; throws vsp::Error(VSP_E_IO) if it cannot.
  void start();
  // Storage thread. Closes every connection, fails whatever waits, joins the loop thread.
  void stop() noexcept;

  unsigned size() const noexcept { return static_cast<unsigned>(slots_.size()); }

  // Storage thread; blocks. A connection reserved for the caller, opened first if none is idle.
  // Throws vsp::Error(VSP_E_IO) naming the server and libpq's reason when it cannot connect,
  // VSP_E_CLOSED when stopping.
  Lease acquire(Clock::time_point deadline);
  // The lease's holder; blocks until `req` completed or failed (req.failure, req.message):
  // `ended`. With req.early_results, it may instead return as soon as those results are in:
  // `early`; finish_run must then collect the rest before the lease goes or the slot is run
  // again (nothing reads the socket meanwhile: the answer waits in it).
  enum class Ran { ended, early };
  Ran run(Lease& lease, Request& req, Clock::time_point deadline);
  // The lease's holder; blocks until the request that run() left early has ended.
  void finish_run(Lease& lease);
  // The lease's holder. Closes the leased connection: its session is in a state the caller
  // cannot vouch for. The lease still has to go; the slot reconnects when next needed.
  void discard(Lease& lease);

 private:
  // A blocked storage-thread call, completed by the loop thread.
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;  // under mu
    void finish();
    void wait();
  };
  struct Acquire {
    Waiter waiter;
    Clock::time_point deadline;
    // Written by the loop thread before it finishes the waiter.
    size_t slot = 0;
    uint64_t session = 0;
    int status = VSP_OK;
    std::string error;
  };
  // Loop thread only, but `conn`: set in the constructor, and the connection it points to is
  // the loop thread's while the slot is not leased and the lease holder's while it is.
  struct Slot {
    std::unique_ptr<Connection> conn;
    bool leased = false;
    bool was_connected = false;  // for the log: "connected" the first time, then "reconnected"
  };

  // Any thread. Queues fn for the loop thread; false once stopping.
  bool post(std::function<void()> fn);
  void release(size_t slot);

  // Loop thread.
  void loop();
  // One poll and what it reported; false once stopping.
  bool turn(std::vector<pollfd>& fds, std::vector<size_t>& fd_slot);
  void handle(size_t slot, Connection::Event ev);
  // The lease's holder: waits on the connection's socket (and its deadline) until `ev` says
  // the request ended or its early results are in.
  static Ran drive(Connection& conn, Connection::Event ev);
  void dispatch();
  void fail_acquirers(int status, const std::string& error);
  void expire_acquirers(Clock::time_point now);
  void shutdown_loop();

  const Target& target_;
  const vsp::Host host_;

  // Loop thread only (created in the constructor, before the thread exists).
  std::vector<Slot> slots_;
  std::deque<Acquire*> acquirers_;

  // Any thread, under inbox_mu_: work for the loop thread and the stop flag.
  std::mutex inbox_mu_;
  std::deque<std::function<void()>> inbox_;
  bool stopping_ = false;
  // The eventfd whose write wakes the loop's poll. Made by start() before the loop thread
  // exists and closed by stop() after it is joined (storage thread); in between every thread
  // only writes or reads it.
  int wake_fd_ = -1;

  std::thread thread_;  // storage thread: started by start(), joined by stop()
};

}  // namespace vespid::postgres
