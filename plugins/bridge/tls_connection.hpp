// A bridge connection over TLS. OpenSSL runs directly on the non-blocking socket (a socket BIO),
// driven by asio readiness waits, as nginx drives it: there are no intermediate record buffers,
// decrypted input lands in the I/O thread's scratch buffer, and with SSL_MODE_RELEASE_BUFFERS an
// idle connection keeps only OpenSSL's per-connection state (boost::asio::ssl::stream would keep
// about 70 KiB of buffers per connection, idle or not).
//
// The handshake runs before the host hears of the connection; a failed or slow one is logged at
// debug and dropped. Everything here runs on the connection's I/O thread.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>

#include "connection.hpp"

namespace vespid::bridge {

class TlsConnection final : public Connection {
 public:
  TlsConnection(const ConnShared& shared, IoThread& io, boost::asio::ip::tcp::socket socket,
                boost::asio::ssl::context& tls, std::string peer, std::string local);
  ~TlsConnection() override;

 private:
  void stream_start() override;
  void stream_read() override;
  void stream_write() override;
  void stream_shutdown() override;
  void stream_close() noexcept override;

  // Runs every pending TLS activity until each is done or blocked on the socket, then waits for
  // the readiness the blocked ones need. Re-entrant calls are folded into the running one.
  void pump();
  void step();
  void step_handshake();
  void step_write();
  void step_read();
  void step_close_notify();
  void arm_waits();
  // SSL_get_error for a failed call: records what it blocks on and returns true, or returns
  // false for a real failure (then *ec says what).
  bool blocked(int ret, boost::system::error_code* ec);

  std::shared_ptr<TlsConnection> self() {
    return std::static_pointer_cast<TlsConnection>(shared_from_this());
  }

  boost::asio::ip::tcp::socket socket_;
  SSL* ssl_ = nullptr;
  std::size_t write_offset_ = 0;
  bool handshake_done_ = false;
  bool read_wanted_ = false;     // the base asked for input
  bool write_pending_ = false;   // writing()[write_offset_..] still to go
  bool notify_pending_ = false;  // close_notify still to send
  bool failed_ = false;          // a fatal TLS error: no close_notify
  bool needs_readable_ = false;  // what the blocked activities wait for
  bool needs_writable_ = false;
  bool wait_readable_armed_ = false;
  bool wait_writable_armed_ = false;
  bool in_pump_ = false;
  bool repump_ = false;
};

}  // namespace vespid::bridge
