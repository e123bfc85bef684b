// A bridge connection over plain TCP. It holds no read buffer of its own: it waits for
// readability, then reads with non-blocking recv into its I/O thread's scratch buffer, so an idle
// connection costs a socket and a few words.
#pragma once

#include "connection.hpp"

namespace vespid::bridge {

class PlainConnection final : public Connection {
 public:
  PlainConnection(const ConnShared& shared, IoThread& io, boost::asio::ip::tcp::socket socket,
                  std::string peer, std::string local);

 private:
  void stream_start() override;
  void stream_read() override;
  void stream_write() override;
  void stream_shutdown() override;
  void stream_close() noexcept override;
  int direct_fd() const noexcept override { return fd_; }

  void on_readable(const boost::system::error_code& ec);
  std::shared_ptr<PlainConnection> self() {
    return std::static_pointer_cast<PlainConnection>(shared_from_this());
  }

  boost::asio::ip::tcp::socket socket_;
  int fd_ = -1;  // socket_'s descriptor while open (read by direct writes under the base's mutex)
};

}  // namespace vespid::bridge
