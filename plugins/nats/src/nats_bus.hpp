// The bus over one libnats connection.
//
// libnats does the protocol, the reconnecting (forever, with the backoff of reconnect_delay)
// and the re-subscribing after a reconnect; its threads deliver connection events (one thread,
// in order) and the replies to requests (the inbox's own thread). The socket, and the handing
// out of the subscriptions' messages, are the plugin's own SocketLoop's.
// This class adds what the ABI asks beyond that: nothing is queued while the connection is down
// (publish says VSP_E_CLOSED at once), a bounded outgoing buffer, requests over one inbox
// subscription that fail fast when the connection is lost, and the state callback.
#pragma once

#include <nats/nats.h>
#include <vespid/bus.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vespid/plugin.hpp>

#include "config.hpp"
#include "options.hpp"
#include "requests.hpp"
#include "socket_loop.hpp"

namespace vespid::natsbus {

class Subscription;

class NatsBus {
 public:
  NatsBus(vsp::Host host, Config cfg);
  ~NatsBus();
  NatsBus(const NatsBus&) = delete;
  NatsBus& operator=(const NatsBus&) = delete;

  // Loop thread. Connects (or, without connect_required, begins connecting in the background)
  // and subscribes the reply inbox. Throws vsp::Error: "nats: cannot connect to ...: ...".
  void start();
  // Loop thread. Fails waiting requests, ends every subscription, closes the connection and
  // waits for libnats to let go of this object.
  void stop();

  // vespid/bus.h; each throws vsp::Error to refuse.
  void publish(std::string_view subject, std::string_view reply_to, std::string_view data);
  uint64_t subscribe(std::string_view pattern, std::string_view group, vsp_bus_msg_fn fn,
                     void* ctx);
  void unsubscribe(uint64_t handle);
  // Returns normally also when the connection was lost while sending: `fn` then already ran
  // with VSP_E_CLOSED, so the request counts as made.
  void request(std::string_view subject, std::string_view data, uint32_t timeout_ms,
               vsp_bus_reply_fn fn, void* ctx);
  void set_state_callback(vsp_bus_state_fn fn, void* ctx);
  bool is_up() const;

 private:
  // libnats callbacks; `closure` is this.
  static void on_connected(natsConnection* nc, void* closure);
  static void on_disconnected(natsConnection* nc, void* closure);
  static void on_reconnected(natsConnection* nc, void* closure);
  static void on_closed(natsConnection* nc, void* closure);
  static void on_error(natsConnection* nc, natsSubscription* sub, natsStatus err, void* closure);
  static void on_reply(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* closure);
  static void on_inbox_done(void* closure);
  static int64_t reconnect_delay(natsConnection* nc, int attempts, void* closure);

  void subscribe_inbox();
  // Why natsConnection_Connect failed, as precisely as can be found out.
  std::string connect_failure(natsStatus s);
  // Stops calls to the host's callback, unsubscribes and frees `sub`.
  void end_subscription(Subscription* sub);
  // Publishes with an optional reply subject, or throws (not connected, too large, buffer
  // full, refused by libnats).
  void send(const std::string& subject, const char* reply, std::string_view data);
  // Calls the host's state callback when `up` differs from what it last heard.
  void report(bool up, const std::string& reason);
  std::string servers_text() const;
  std::string connected_url();
  std::string last_connection_error();
  void wait_flag(bool& flag, const char* what);

  LibraryUse library_;  // first: libnats stays open until every other member is gone
  const vsp::Host host_;
  const Config cfg_;
  OptionsPtr opts_;
  natsConnection* nc_ = nullptr;  // set in start, before started_
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};

  std::string inbox_;  // "_INBOX.<nuid>"; replies come to "<inbox_>.<request id>"
  natsSubscription* inbox_sub_ = nullptr;
  std::unique_ptr<Requests> requests_;

  std::mutex publish_mu_;  // the buffer check and the write it allows happen together
  // Made in start before the connection; ended after the connection is destroyed.
  std::unique_ptr<SocketLoop> loop_;

  std::mutex subs_mu_;
  uint64_t next_sub_ = 0;
  std::map<uint64_t, Subscription*> subs_;  // owned; freed by end_subscription

  std::mutex state_mu_;  // held while the host's state callback runs: calls stay in order
  vsp_bus_state_fn state_fn_ = nullptr;
  void* state_ctx_ = nullptr;
  bool reported_up_ = false;
  std::string url_;  // the server last connected to

  std::mutex done_mu_;  // libnats letting go: the connection closed, the inbox finished
  std::condition_variable done_cv_;
  bool closed_ = false;
  bool inbox_done_ = false;
};

}  // namespace vespid::natsbus
