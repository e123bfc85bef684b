// The bridge transport instance: TCP (optionally TLS) listeners speaking one JSONL dialect
// (bridge.v1), a pool of I/O threads, and the registry of live connections.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
#include <vespid/plugin.hpp>

#include "config.hpp"
#include "connection.hpp"
#include "io_pool.hpp"
#include "listener.hpp"

namespace vespid::bridge {

class BridgeTransport {
 public:
  static std::unique_ptr<BridgeTransport> create(vsp::Host host, std::string_view config_json);

  BridgeTransport(vsp::Host host, Config cfg);
  ~BridgeTransport();
  BridgeTransport(const BridgeTransport&) = delete;
  BridgeTransport& operator=(const BridgeTransport&) = delete;

  void start();
  void stop(std::function<void()> done);
  int send(vsp_plugin_conn* conn, std::string_view message) noexcept;
  int send_batch(vsp_plugin_conn* conn, const vsp_msg* msgs, std::size_t count) noexcept;
  void close(vsp_plugin_conn* conn, int code, const char* reason) noexcept;

 private:
  void load_tls();
  void open_listener(const boost::asio::ip::tcp::endpoint& ep);
  // Starts the I/O threads (with the configured busy-poll window) once the accepts are armed.
  void start_pool();
  // Listener thread: a new socket, already on the I/O thread `io`.
  void adopt(boost::asio::ip::tcp::socket socket, IoThread& io, Listener& from);
  // I/O thread: the connection is gone (conn_closed reported, or never opened).
  void connection_gone(Connection* c);
  // Loop thread: every connection is gone; join the threads, then tell the host.
  void complete_stop();

  // ---- Bind mode (config "bind", bind_listeners.cpp), loop thread only ----
  void start_bind_mode();
  // The gateway's current address set for the spec: open what is new, close what went away.
  void apply_addresses(std::vector<std::string> wanted);
  void open_bound(const std::string& address);
  void close_bound(const std::string& address, const char* why);
  // Tells the host what is bound now (listener_update), for discovery.
  void announce();
  void release_bind_watch();

  std::string mode_text() const;
  vsp::Host host_;
  const Config cfg_;
  ConnShared shared_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  // Declared after what connections use and before what uses the io_contexts, so that members
  // are destroyed in a safe order once the threads are joined.
  IoPool pool_;
  std::vector<std::unique_ptr<Listener>> listeners_;  // fixed ones: host, loopback companion
  // Bind mode: listeners by address, and the closed ones (kept until the threads are joined).
  std::map<std::string, std::unique_ptr<Listener>> bound_;
  std::vector<std::unique_ptr<Listener>> retired_;
  std::vector<std::string> wanted_;
  std::set<std::string> failed_;  // wanted but could not bind; retried by retry_
  std::unique_ptr<vsp::Timer> retry_;
  vsp_host_bind* bind_watch_ = nullptr;
  std::string companion_address_;  // "127.0.0.1" when the companion listens
  std::uint16_t port_ = 0;         // the port every listener of this instance uses
  bool pool_started_ = false;

  std::mutex mu_;  // guards conns_, stopping_, stop_scheduled_
  std::unordered_map<Connection*, std::shared_ptr<Connection>> conns_;
  bool stopping_ = false;
  bool stop_scheduled_ = false;

  // Loop thread only.
  std::function<void()> stop_done_;
  // Lets a task posted to the loop thread find out that the instance was destroyed meanwhile.
  std::shared_ptr<BridgeTransport*> alive_;
};

}  // namespace vespid::bridge
