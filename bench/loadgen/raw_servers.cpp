#include "raw_servers.hpp"

#include <sys/prctl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <memory>
#include <thread>

#include "stream_conn.hpp"

namespace vespid::bench {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

asio::generic::stream_protocol::socket to_generic(asio::io_context& io, tcp::socket s) {
  const int family = s.local_endpoint().protocol().family();
  return asio::generic::stream_protocol::socket(
      io, asio::generic::stream_protocol(family, IPPROTO_TCP), s.release());
}

// Everything up to and including the last newline: whole lines only cross a hop.
std::size_t whole_lines(std::string_view data) {
  const std::size_t nl = data.rfind('\n');
  return nl == std::string_view::npos ? 0 : nl + 1;
}

template <typename OnAccept>
int listen(asio::io_context& io, int port, OnAccept on_accept) {
  auto acceptor = std::make_shared<tcp::acceptor>(
      io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  acceptor->listen(4096);
  auto loop = std::make_shared<std::function<void()>>();
  *loop = [&io, acceptor, loop, on_accept] {
    acceptor->async_accept(
        [&io, acceptor, loop, on_accept](const boost::system::error_code& ec, tcp::socket s) {
          if (!ec) on_accept(to_generic(io, std::move(s)));
          if (ec != asio::error::operation_aborted) (*loop)();
        });
  };
  (*loop)();
  return acceptor->local_endpoint().port();
}

}  // namespace

int start_echo_listener(asio::io_context& io, int port) {
  return listen(io, port, [&io](asio::generic::stream_protocol::socket s) {
    auto c = std::make_shared<StreamConn>(io);
    c->adopt(std::move(s));
    std::weak_ptr<StreamConn> weak = c;
    c->start(
        [weak](std::string_view data) -> std::size_t {
          const std::size_t n = whole_lines(data);
          if (auto self = weak.lock(); self && n > 0) self->send(data.substr(0, n));
          return n;
        },
        [c](const boost::system::error_code&) mutable { c.reset(); });
  });
}

int start_relay_listener(asio::io_context& io, int port, int upstream_port) {
  return listen(io, port, [&io, upstream_port](asio::generic::stream_protocol::socket s) {
    auto down = std::make_shared<StreamConn>(io);
    down->adopt(std::move(s));
    auto up = std::make_shared<StreamConn>(io);
    up->connect(tcp_endpoint("127.0.0.1", upstream_port),
                [down, up](const boost::system::error_code& ec) {
                  if (ec) return down->close();
                  std::weak_ptr<StreamConn> wd = down, wu = up;
                  auto pump = [](std::weak_ptr<StreamConn> to) {
                    return [to](std::string_view data) -> std::size_t {
                      const std::size_t n = whole_lines(data);
                      if (auto t = to.lock(); t && n > 0) t->send(data.substr(0, n));
                      return n;
                    };
                  };
                  // Each side holds the other until it closes; then both go.
                  down->start(pump(wu), [up](const boost::system::error_code&) { up->close(); });
                  up->start(pump(wd), [down](const boost::system::error_code&) { down->close(); });
                });
  });
}

int serve_raw(int echo_port, int relay_port, int upstream_port) {
  // Started as /proc/self/exe, so its threads would be called "exe" in the per-thread figures;
  // named before any starts, so they inherit it.
  ::prctl(PR_SET_NAME, "vsp-raw-server");
  asio::io_context echo_io(1), relay_io(1);
  start_echo_listener(echo_io, echo_port);
  start_relay_listener(relay_io, relay_port, upstream_port);
  asio::signal_set signals(relay_io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) {
    echo_io.stop();
    relay_io.stop();
  });
  std::thread echo_thread([&] { echo_io.run(); });
  relay_io.run();
  echo_thread.join();
  return 0;
}

}  // namespace vespid::bench
