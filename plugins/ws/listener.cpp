#include "listener.hpp"

#include <boost/asio/post.hpp>
#include <vespid/plugin.hpp>

#include "http_session.hpp"
#include "stream.hpp"

namespace vespid::ws {

namespace {

constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
constexpr auto kRefusalLogEvery = std::chrono::seconds(10);

}  // namespace

Listener::Listener(std::shared_ptr<Shared> shared, std::vector<net::io_context*> iocs)
    : sh_(std::move(shared)),
      iocs_(std::move(iocs)),
      acceptor_(*iocs_.front()),
      backoff_(*iocs_.front()) {}

tcp::endpoint Listener::bind(const std::string& host, uint16_t port) {
  beast::error_code ec;
  const auto addr = net::ip::make_address(host, ec);
  if (ec) throw vsp::Error(VSP_E_INVALID, "ws: \"" + host + "\" is not an IP address");
  const tcp::endpoint ep(addr, port);
  const std::string where = endpoint_text(ep);
  auto fail = [&](const char* what) {
    int status = VSP_E_IO;
    if (ec == net::error::address_in_use) status = VSP_E_ADDR_IN_USE;
    if (ec == net::error::access_denied) status = VSP_E_PERMISSION;
    throw vsp::Error(status, std::string("ws: cannot ") + what + " " + where + ": " + ec.message());
  };
  acceptor_.open(ep.protocol(), ec);
  if (ec) fail("open a socket for");
  acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) fail("set SO_REUSEADDR for");
  acceptor_.bind(ep, ec);
  if (ec) fail("bind");
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) fail("listen on");
  auto bound = acceptor_.local_endpoint(ec);
  if (ec) fail("read the bound address of");
  return bound;
}

void Listener::start() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
}

void Listener::stop(std::function<void()> closed) {
  net::post(acceptor_.get_executor(), [self = shared_from_this(), closed = std::move(closed)] {
    if (std::exchange(self->closed_, true)) return;
    beast::error_code ec;
    self->backoff_.cancel();
    self->acceptor_.close(ec);
    if (closed) closed();
  });
}

void Listener::accept() {
  if (closed_) return;
  net::io_context& target = *iocs_[next_];
  next_ = (next_ + 1) % iocs_.size();
  acceptor_.async_accept(
      target.get_executor(),
      [self = shared_from_this(), ex = target.get_executor()](beast::error_code ec, Socket socket) {
        self->on_accept(ec, std::move(socket), ex);
      });
}

void Listener::on_accept(beast::error_code ec, Socket socket, Executor ex) {
  if (closed_) return;
  if (ec) {
    if (ec == net::error::operation_aborted) return;
    if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
        ec == net::error::no_memory || ec.value() == ENFILE) {
      // Out of file descriptors: pause instead of spinning on the same error.
      sh_->host.warn("accept paused: " + ec.message());
      backoff_.expires_after(kAcceptBackoff);
      backoff_.async_wait([self = shared_from_this()](beast::error_code tec) {
        if (!tec) self->accept();
      });
      return;
    }
    sh_->host.debug("accept failed: " + ec.message());
    accept();
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // small frames must not wait for Nagle
  if (!start_http_session(sh_, std::move(socket), ex)) refused();
  accept();
}

void Listener::refused() {
  ++refused_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_log_ < kRefusalLogEvery) return;
  last_refusal_log_ = now;
  sh_->host.warn("refused " + std::to_string(refused_) + " connection(s): max_connections (" +
                 std::to_string(sh_->cfg.max_connections) + ") reached");
  refused_ = 0;
}

}  // namespace vespid::ws
