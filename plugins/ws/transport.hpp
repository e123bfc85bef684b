// The ws transport instance: one listener, its I/O threads (one io_context each; a connection
// lives on one thread for its whole life), and the host's entry points.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
#include <vespid/plugin.hpp>

#include "config.hpp"
#include "listener.hpp"
#include "shared.hpp"

namespace vespid::ws {

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
  // Tells the host what this listener serves (listener_update), for discovery.
  void announce(const std::string& address, std::uint16_t port);
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
  std::shared_ptr<Listener> listener_;
  std::unique_ptr<boost::asio::steady_timer> stop_grace_;
  std::function<void()> stop_done_;
};

}  // namespace vespid::ws
