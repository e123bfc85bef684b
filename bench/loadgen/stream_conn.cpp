#include "stream_conn.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "tls_client.hpp"

namespace vespid::bench {

namespace asio = boost::asio;

namespace {
// Small to start with (10,000 idle nodes must not cost the bench a GiB), doubled whenever a
// read leaves less than a quarter free, so busy sockets soon read in large chunks.
constexpr std::size_t kFirstRead = 4 * 1024;

void set_nodelay(asio::generic::stream_protocol::socket& s) {
  if (s.local_endpoint().protocol().family() == AF_UNIX) return;
  int one = 1;
  ::setsockopt(s.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}
}  // namespace

StreamConn::Endpoint tcp_endpoint(const std::string& ip, int port) {
  return StreamConn::Endpoint(
      asio::ip::tcp::endpoint(asio::ip::make_address(ip), static_cast<unsigned short>(port)));
}

StreamConn::Endpoint unix_endpoint(const std::string& path) {
  return StreamConn::Endpoint(asio::local::stream_protocol::endpoint(path));
}

// The TLS stream runs over the connection's own socket (by reference), so closing socket_ ends
// it as it ends a plain connection: at once, without close_notify, as a network drop would.
struct StreamConn::Tls {
  Tls(asio::generic::stream_protocol::socket& s, asio::ssl::context& ctx) : stream(s, ctx) {}
  asio::ssl::stream<asio::generic::stream_protocol::socket&> stream;
};

StreamConn::StreamConn(asio::io_context& io) : io_(io), socket_(io) {}

StreamConn::~StreamConn() = default;

void StreamConn::use_tls(std::shared_ptr<TlsClient> tls) {
  tls_client_ = std::move(tls);
}

void StreamConn::connect(const Endpoint& ep,
                         std::function<void(const boost::system::error_code&)> done) {
  if (rcvbuf_ > 0) {
    // Before the connect, so the window the peer is offered is the small one.
    boost::system::error_code ec;
    socket_.open(ep.protocol(), ec);
    if (!ec) {
      ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVBUF, &rcvbuf_, sizeof rcvbuf_);
    }
  }
  socket_.async_connect(ep, [self = shared_from_this(),
                             done = std::move(done)](const boost::system::error_code& ec) mutable {
    if (ec) return done(ec);
    self->open_ = true;
    set_nodelay(self->socket_);
    if (!self->tls_client_) return done(ec);
    self->tls_ = std::make_unique<Tls>(self->socket_, self->tls_client_->context());
    self->tls_->stream.async_handshake(
        asio::ssl::stream_base::client,
        [self, done = std::move(done)](const boost::system::error_code& hec) {
          if (hec) {
            self->open_ = false;
            boost::system::error_code ignored;
            self->socket_.close(ignored);
          }
          done(hec);
        });
  });
}

void StreamConn::adopt(asio::generic::stream_protocol::socket socket) {
  socket_ = std::move(socket);
  open_ = true;
  set_nodelay(socket_);
}

void StreamConn::start(OnData on_data, OnClose on_close) {
  on_data_ = std::move(on_data);
  on_close_ = std::move(on_close);
  in_.resize(kFirstRead);
  read_more();
  if (!pending_.empty()) flush_soon();
}

void StreamConn::read_more() {
  if (paused_) {
    read_parked_ = true;
    return;
  }
  if (in_.size() - in_used_ < in_.size() / 4) in_.resize(in_.size() * 2);
  std::size_t room = in_.size() - in_used_;
  if (max_read_ > 0) room = std::min(room, max_read_);
  auto on_read = [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
    if (ec) return self->finish(ec);
    self->in_used_ += n;
    const std::size_t used =
        self->on_data_ ? self->on_data_(std::string_view(self->in_.data(), self->in_used_))
                       : self->in_used_;
    if (!self->open_) return;
    if (used > 0) {
      std::memmove(self->in_.data(), self->in_.data() + used, self->in_used_ - used);
      self->in_used_ -= used;
    }
    self->read_more();
  };
  const auto buf = asio::buffer(in_.data() + in_used_, room);
  if (tls_) {
    tls_->stream.async_read_some(buf, std::move(on_read));
  } else {
    socket_.async_read_some(buf, std::move(on_read));
  }
}

void StreamConn::resume_reading() {
  paused_ = false;
  if (!read_parked_ || !open_) return;
  read_parked_ = false;
  read_more();
}

void StreamConn::send(std::string_view bytes) {
  pending_.append(bytes);
  flush_soon();
}

void StreamConn::flush_soon() {
  if (writing_now_ || flush_posted_ || !open_) return;
  flush_posted_ = true;
  // Posted, not written now: the rest of this loop turn's frames join the same write.
  asio::post(io_, [self = shared_from_this()] {
    self->flush_posted_ = false;
    self->write_now();
  });
}

void StreamConn::write_now() {
  if (writing_now_ || pending_.empty() || !open_) return;
  writing_.swap(pending_);
  pending_.clear();
  writing_now_ = true;
  auto on_written = [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
    self->writing_now_ = false;
    self->writing_.clear();
    if (ec) return self->finish(ec);
    self->write_now();
  };
  if (tls_) {
    asio::async_write(tls_->stream, asio::buffer(writing_), std::move(on_written));
  } else {
    asio::async_write(socket_, asio::buffer(writing_), std::move(on_written));
  }
}

void StreamConn::close() {
  if (!open_) return;
  finish(asio::error::operation_aborted);
}

void StreamConn::finish(const boost::system::error_code& ec) {
  open_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (finished_) return;
  finished_ = true;
  if (auto cb = std::move(on_close_)) cb(ec);
  on_data_ = nullptr;
}

}  // namespace vespid::bench
