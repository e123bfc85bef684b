// The unix transport instance: one listening socket in the state directory, operator.v1 over
// newline-delimited JSON, every accepted peer vouched for as the local admin.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vespid/plugin.hpp>

#include "config.hpp"
#include "connection.hpp"
#include "socket_file.hpp"

namespace vespid::unix_transport {

class UnixTransport {
 public:
  static std::unique_ptr<UnixTransport> create(vsp::Host host, std::string_view config_json);

  UnixTransport(vsp::Host host, Config cfg);
  ~UnixTransport();
  UnixTransport(const UnixTransport&) = delete;
  UnixTransport& operator=(const UnixTransport&) = delete;

  void start();
  void stop(std::function<void()> done);
  int send(vsp_plugin_conn* conn, std::string_view message) noexcept;
  int send_batch(vsp_plugin_conn* conn, const vsp_msg* msgs, std::size_t count) noexcept;
  void close(vsp_plugin_conn* conn, int code, const char* reason) noexcept;

 private:
  void on_listener_ready();
  void accept_one(int fd);
  void on_connection_finished(Connection* c);
  void close_listener();

  vsp::Host host_;
  const Config cfg_;
  ListeningSocket listener_;
  std::unique_ptr<vsp::Watch> listen_watch_;
  // Out of file descriptors: pause accepting for a moment instead of spinning on the
  // level-triggered watch.
  std::unique_ptr<vsp::Timer> accept_backoff_;
  // Loop thread only. Owning references; posted tasks hold their own while they are pending.
  std::unordered_map<Connection*, std::shared_ptr<Connection>> conns_;
  bool stopping_ = false;
  std::function<void()> stop_done_;
};

}  // namespace vespid::unix_transport
