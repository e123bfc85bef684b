// One listening socket. It accepts on its own I/O thread and hands each socket, already placed on
// the I/O thread that will own the connection (round robin), to the transport.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vespid/plugin.hpp>

#include "io_pool.hpp"

namespace vespid::bridge {

class Listener {
 public:
  // Listener thread. Takes the accepted socket and the I/O thread it belongs to.
  using AcceptFn = std::function<void(boost::asio::ip::tcp::socket, IoThread&, Listener&)>;

  Listener(vsp::Host host, IoPool& pool, IoThread& home, AcceptFn on_accept);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Loop thread, before the pool runs. Binds (SO_REUSEADDR) and listens. Throws vsp::Error:
  // VSP_E_ADDR_IN_USE, VSP_E_PERMISSION or VSP_E_IO, the message naming address:port.
  void open(const boost::asio::ip::tcp::endpoint& ep);
  // Before the pool runs, or on the home thread.
  void start_accepting();
  // On the home thread, or after the pool was joined. Idempotent.
  void close() noexcept;

  IoThread& home() noexcept { return home_; }
  // What it is bound to ("127.0.0.1:18790"), valid after open().
  const std::string& address() const noexcept { return address_; }
  std::uint16_t port() const noexcept { return port_; }

  // Listener thread: a connection over max_connections was closed at once. Warns, at most once
  // per interval, with the count since the last warning.
  void note_refused(const std::string& peer, std::size_t max_connections);

 private:
  void accept_next();
  void on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket,
                 IoThread& target);

  vsp::Host host_;
  IoPool& pool_;
  IoThread& home_;
  AcceptFn on_accept_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_;
  std::string address_;
  std::uint16_t port_ = 0;
  // Rate limit for warnings (home thread only).
  std::chrono::steady_clock::time_point last_refusal_warning_;
  std::chrono::steady_clock::time_point last_error_warning_;
  std::size_t refused_since_warning_ = 0;
};

}  // namespace vespid::bridge
