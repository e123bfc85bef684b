// The ws transport instance: one listener, its I/O threads (one io_context each; a connection
// lives on one thread for its whole life), and the host's entry points.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
#include <vespid/plugin.hpp>

#include "config.hpp"
#include "listener.hpp"
#include "shared.hpp"

namespace vespid::ws {

// With `host` the instance has one listener, bound at start. With `bind` it listens wherever
// the host's bind_watch says the spec points and follows it (bind_listeners.cpp), plus a
// loopback companion.
class WsTransport {
 public:
  static std::unique_ptr<WsTransport> create(vsp::Host host, std::string_view config_json);

  WsTransport(vsp::Host host, Config cfg);
  ~WsTransport();
  WsTransport(const WsTransport&) = delete;
  WsTransport& operator=(const WsTransport&) = delete;

  void start();
  void stop(std::function<void()> done);
  int send(vsp_plugin_conn* conn, std::string_view message) noexcept;
  void close(vsp_plugin_conn* conn, int code, const char* reason) noexcept;
  void admit(vsp_plugin_conn* conn, int status, int http_status, std::string_view body);

 private:
  // Tells the host what this listener serves (listener_update), for discovery; the addresses
  // it is bound to beyond its loopback companion (none: nothing to publish).
  void announce(const std::vector<std::string>& addresses, std::uint16_t port);
  void log_listening(const boost::asio::ip::tcp::endpoint& bound, const std::string& why);

  // bind_listeners.cpp
  void start_bind_mode();
  void apply_addresses(std::vector<std::string> wanted);
  void open_bound(const std::string& address);
  void close_bound(const std::string& address);
  void release_bind_watch();
  // Every listener stops; the registry hears listener_closed() when the last one has.
  void close_listeners();
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  void load_tls();
  void run_thread(std::size_t index);
  void finish_stop();
  void halt_threads();

  vsp::Host host_;
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted host tasks check it
  std::vector<std::unique_ptr<boost::asio::io_context>> iocs_;
  std::vector<WorkGuard> work_;
  std::vector<std::thread> threads_;
  std::vector<boost::asio::io_context*> raw_iocs_;
  std::shared_ptr<Listener> listener_;  // the `host` listener, or the loopback companion of bind
  // bind mode, all on the loop thread:
  std::map<std::string, std::shared_ptr<Listener>> bound_;  // by address
  std::string companion_address_;                           // "127.0.0.1" when there is one
  std::uint16_t port_ = 0;                                  // fixed by the first bound listener
  std::vector<std::string> wanted_;                         // the last address set
  std::set<std::string> failed_;                            // wanted but not bound yet: retried
  vsp_host_bind* bind_watch_ = nullptr;
  std::unique_ptr<vsp::Timer> retry_;
  bool stopping_ = false;
  std::unique_ptr<boost::asio::steady_timer> stop_grace_;
  std::function<void()> stop_done_;
};

}  // namespace vespid::ws
