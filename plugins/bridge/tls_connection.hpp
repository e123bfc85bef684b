// A bridge connection over TLS (OpenSSL through boost::asio::ssl). The handshake runs before the
// host hears of the connection; a failed or slow one is logged at debug and dropped. Idle TLS
// connections cost more than plain ones: asio keeps a 17 KiB record buffer each way per stream,
// plus the small read buffer here.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "connection.hpp"

namespace vespid::bridge {

class TlsConnection final : public Connection {
 public:
  TlsConnection(const ConnShared& shared, IoThread& io, boost::asio::ip::tcp::socket socket,
                boost::asio::ssl::context& tls, std::string peer, std::string local);

 private:
  void stream_start() override;
  void stream_read() override;
  void stream_write() override;
  void stream_shutdown() override;
  void stream_close() noexcept override;
  // The TLS shutdown does the lingering read itself (it waits for the peer's close_notify).
  bool reads_while_lingering() const noexcept override { return false; }

  void on_read(const boost::system::error_code& ec, std::size_t n);
  void send_close_notify();
  std::shared_ptr<TlsConnection> self() {
    return std::static_pointer_cast<TlsConnection>(shared_from_this());
  }

  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  std::unique_ptr<char[]> rbuf_;
  bool shutdown_waits_for_read_ = false;
};

}  // namespace vespid::bridge
