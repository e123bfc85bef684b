// The registry of open connections and the path every frame takes into the core:
// transport thread -> conn_recv -> the connection's shard's Sequencer -> the connection's inbox
// -> its dialect, one frame at a time per connection. A hot frame that finds its shard idle and
// nothing of its connection ahead of it goes straight to the dialect's on_message_now, with no
// copy and no task.
//
// Shards (docs/design.md, "A core on more than one thread", step 2): the hub keeps a table of
// connections per shard, and tags each connection with its shard at open (ShardAssignment: the
// opening transport thread's). Everything of a connection then runs in its shard's Sequencer
// and uses its shard's Deadlines, so two shards' connections are handled at once on their own
// threads. The gateway makes one shard (the loop's Sequencer) until the rest of the core is
// partitioned too; a hub of several shards is what the later steps build on.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "host/connections/connection.hpp"
#include "host/connections/dialect.hpp"
#include "host/connections/shard_assignment.hpp"
#include "host/plugins/connection_services.hpp"
#include "runtime/task.hpp"
#include "vespid/host.h"

namespace vespid::core {

class Deadlines;
class Loop;
class PluginInstance;
class Sequencer;

class ConnectionHub final : public ConnectionServices {
 public:
  struct Limits {
    int max_connections = 20000;
    int queue_depth = 1024;
    int max_anonymous_per_peer = 64;  // connections of one IP not yet authenticated
  };

  // One shard of the core: the Sequencer its connections' work runs in, and the Deadlines that
  // fire into it (none: no credential expiry is watched).
  struct Shard {
    Sequencer* sequencer = nullptr;
    Deadlines* deadlines = nullptr;
  };

  // A core of one shard: the loop's Sequencer (the gateway's today).
  ConnectionHub(Loop& loop, Limits limits);
  // A core of shards.size() shards (at least one), each with its own Sequencer.
  ConnectionHub(std::vector<Shard> shards, Limits limits);

  void add_dialect(std::unique_ptr<Dialect> dialect);

  // ConnectionServices: the host table's connection calls land here directly (any thread).
  int open(PluginInstance& transport, const vsp_conn_info& info, vsp_plugin_conn* pc,
           vsp_host_conn** out, vsp_error* err) override;
  int recv(vsp_host_conn* c, const char* data, size_t len) override;
  void closed(vsp_host_conn* c, int status, const char* reason) override;
  void protocol_error(vsp_host_conn* c, int status, const char* message) override;
  // A queue that was above its high-water mark drained: senders parked on the connection's
  // writable() resume (replay pages, fan-out held for a slow reader).
  void writable(vsp_host_conn* c) override;
  Sequencer& sequencer_of_this_thread(PluginInstance& transport) override {
    return *shards_[assignment_.for_this_thread(&transport)].sequencer;
  }

  // The timers that close connections of shard 0 whose credential expires (a core of one
  // shard); set before any connection.
  void use_deadlines(Deadlines& d) { shards_.front().deadlines = &d; }

  // Refuse new connections (shutdown).
  void refuse_new() noexcept { refusing_.store(true); }
  // Inside a shard's Sequencer: asks every connection of that shard to close.
  void close_all(const char* reason);

  int open_count() const noexcept { return count_.load(); }
  size_t shard_count() const noexcept { return shards_.size(); }
  // The connections of the shard whose Sequencer runs on this thread (none outside every
  // shard's). In a core of one shard that is every connection; gathering across shards is for
  // the control shard (design.md's step 7), which asks each shard by message.
  template <class F>
  void for_each(F&& f) {
    ShardState* s = current_shard();
    if (s == nullptr) return;
    for (auto& [id, c] : s->conns) f(*c);
  }

 private:
  // A frame for `conn`, inside the Sequencer: handled now when nothing of the connection is ahead
  // of it, else queued in its inbox. `owned` is the frame's own copy when it has one (moved
  // from, never copied again); without it, `frame` is the transport's, copied only if kept.
  void deliver(const std::shared_ptr<Connection>& conn, std::string_view frame, std::string* owned);
  // Offers the frame to the dialect's on_message_now; true when it was handled there.
  bool handled_now(const std::shared_ptr<Connection>& c, std::string_view frame);
  void pump(const std::shared_ptr<Connection>& c);
  // Hands one frame to the connection's dialect (busy until its handler ends).
  void run_frame(const std::shared_ptr<Connection>& c, std::string msg);
  // Runs a frame's handler to its end, answers a failure in the dialect's form, then lets the
  // connection's next frame go. Starts at once; frees itself when done.
  detail::Detached handle_frame(std::shared_ptr<Connection> c, Task<void> handler);
  std::string known_dialects() const;
  // A connection its handshake left unauthenticated counts against its peer address until its
  // dialect gives it a principal (REST, whose requests carry their own credentials, never
  // counts). False when that address already holds limits.max_anonymous_per_peer of them.
  bool count_anonymous(Connection& c);
  void settle_anonymous(Connection& c);
  // After a handler ran: a principal whose credential expires gets a deadline that closes the
  // connection then (revocation closes it at once: CredentialEvents).
  void watch_expiry(const std::shared_ptr<Connection>& c);
  void after_handler(const std::shared_ptr<Connection>& c) {
    settle_anonymous(*c);
    watch_expiry(c);
  }

  struct ShardState : Shard {
    std::unordered_map<uint64_t, std::shared_ptr<Connection>> conns;  // this shard's Sequencer
  };
  ShardState& shard_of(const Connection& c) noexcept { return shards_[c.shard()]; }
  Sequencer& sequencer_of(const Connection& c) noexcept { return *shards_[c.shard()].sequencer; }
  ShardState* current_shard() noexcept;

  Limits limits_;
  std::vector<ShardState> shards_;  // fixed at construction (the hub's lifetime)
  ShardAssignment assignment_;
  std::map<std::string, std::unique_ptr<Dialect>, std::less<>> dialects_;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<int> count_{0};
  std::atomic<bool> refusing_{false};
  // Per peer address, across shards: taken at a handshake's end and when a principal is given,
  // never for an authenticated connection's frames.
  std::mutex anonymous_mutex_;
  std::unordered_map<std::string, int> anonymous_by_peer_;  // guarded by anonymous_mutex_
};

}  // namespace vespid::core
