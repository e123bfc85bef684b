// The listening socket: bound on the loop thread at start(), accepting on the first I/O thread,
// handing each new connection to the I/O threads in turn.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "session.hpp"
#include "shared.hpp"
#include "tls_stream.hpp"

namespace vespid::ws {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(std::shared_ptr<Shared> shared, std::vector<boost::asio::io_context*> iocs);

  // Loop thread, before any I/O thread runs. Throws vsp::Error (VSP_E_ADDR_IN_USE,
  // VSP_E_PERMISSION, VSP_E_IO) naming the address. Returns the bound endpoint.
  boost::asio::ip::tcp::endpoint bind(const std::string& host, uint16_t port);

  // Starts accepting (on the first I/O thread).
  void start();
  // Any thread: stops accepting; `closed` runs on its I/O thread once the socket is closed
  // (the transport counts its listeners down to the registry's listener_closed()). Connections
  // accepted on it stay.
  void stop(std::function<void()> closed = {});

 private:
  void accept();
  void on_accept(boost::system::error_code ec, Socket socket, Executor ex);
  void refused();

  std::shared_ptr<Shared> sh_;
  std::vector<boost::asio::io_context*> iocs_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_;
  std::size_t next_ = 0;
  bool closed_ = false;
  // Refusals at max_connections are logged at most every few seconds.
  std::size_t refused_ = 0;
  std::chrono::steady_clock::time_point last_refusal_log_{};
};

}  // namespace vespid::ws
