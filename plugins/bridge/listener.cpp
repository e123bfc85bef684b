#include "listener.hpp"

#include "net_util.hpp"

namespace vespid::bridge {

namespace {

using namespace std::chrono_literals;

constexpr auto kWarnInterval = 10s;  // at most one refusal (or accept error) warning per this
constexpr auto kAcceptBackoff = 100ms;

int status_for(const boost::system::error_code& ec) {
  if (ec == boost::asio::error::address_in_use) return VSP_E_ADDR_IN_USE;
  if (ec == boost::asio::error::access_denied ||
      ec == boost::system::errc::operation_not_permitted) {
    return VSP_E_PERMISSION;
  }
  return VSP_E_IO;
}

}  // namespace

Listener::Listener(vsp::Host host, IoPool& pool, IoThread& home, AcceptFn on_accept)
    : host_(host),
      pool_(pool),
      home_(home),
      on_accept_(std::move(on_accept)),
      acceptor_(home.ctx),
      backoff_(home.ctx),
      last_refusal_warning_(std::chrono::steady_clock::now() - kWarnInterval),
      last_error_warning_(last_refusal_warning_) {}

void Listener::open(const boost::asio::ip::tcp::endpoint& ep) {
  const std::string where = format_endpoint(ep);
  boost::system::error_code ec;
  auto fail = [&](const char* step) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    throw vsp::Error(status_for(ec),
                     "bridge: cannot listen on " + where + ": " + step + ": " + ec.message());
  };
  acceptor_.open(ep.protocol(), ec);
  if (ec) fail("socket");
  acceptor_.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (ec) fail("SO_REUSEADDR");
  acceptor_.bind(ep, ec);
  if (ec) fail("bind");
  acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) fail("listen");
  const auto bound = acceptor_.local_endpoint(ec);
  if (ec) fail("getsockname");
  address_ = format_endpoint(bound);
  port_ = bound.port();
}

void Listener::start_accepting() {
  accept_next();
}

void Listener::accept_next() {
  if (!acceptor_.is_open()) return;
  IoThread& target = pool_.next();
  acceptor_.async_accept(target.ctx, [this, &target](const boost::system::error_code& ec,
                                                     boost::asio::ip::tcp::socket socket) {
    on_accept(ec, std::move(socket), target);
  });
}

void Listener::on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket,
                         IoThread& target) {
  if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (!ec) {
    try {
      on_accept_(std::move(socket), target, *this);
    } catch (const std::exception& e) {
      // Out of memory, most likely: that peer is dropped; the listener carries on.
      host_.warn("could not take a connection on " + address_ + ": " + e.what());
    }
    accept_next();
    return;
  }
  if (ec == boost::asio::error::connection_aborted || ec == boost::asio::error::interrupted) {
    accept_next();  // that peer gave up before we got to it
    return;
  }
  // Out of descriptors or memory (or worse): pause instead of spinning on a ready socket.
  const auto now = std::chrono::steady_clock::now();
  if (now - last_error_warning_ >= kWarnInterval) {
    last_error_warning_ = now;
    host_.warn("accept on " + address_ + " failed, pausing briefly: " + ec.message());
  }
  backoff_.expires_after(kAcceptBackoff);
  backoff_.async_wait([this](const boost::system::error_code& wait_ec) {
    if (!wait_ec) accept_next();
  });
}

void Listener::note_refused(const std::string& peer, std::size_t max_connections) {
  ++refused_since_warning_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_warning_ < kWarnInterval) return;
  std::string msg = "refused a connection from " + peer + " on " + address_ +
                    ": max_connections (" + std::to_string(max_connections) + ") reached";
  if (refused_since_warning_ > 1) {
    msg += " (" + std::to_string(refused_since_warning_) + " refused since the last warning)";
  }
  host_.warn(msg);
  last_refusal_warning_ = now;
  refused_since_warning_ = 0;
}

void Listener::close() noexcept {
  boost::system::error_code ec;
  backoff_.cancel();
  acceptor_.close(ec);
}

}  // namespace vespid::bridge
