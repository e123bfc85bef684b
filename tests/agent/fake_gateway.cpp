#include "fake_gateway.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace vespid::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

namespace {

void set_recv_timeout(int fd, std::chrono::milliseconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<long>(t.count() / 1000);
  tv.tv_usec = static_cast<long>((t.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

}  // namespace

bool GatewayConn::accept() {
  set_recv_timeout(ws_.next_layer().native_handle(), std::chrono::seconds(5));
  beast::flat_buffer buf;
  http::request<http::string_body> req;
  beast::error_code ec;
  http::read(ws_.next_layer(), buf, req, ec);
  if (ec || !beast::websocket::is_upgrade(req)) return false;
  authorization = std::string(req[http::field::authorization]);
  ws_.accept(req, ec);
  return !ec;
}

std::optional<nlohmann::json> GatewayConn::read(std::chrono::milliseconds timeout) {
  // Asio's blocking reads wait out SO_RCVTIMEO (they poll again on EAGAIN), so a watchdog
  // shuts the socket down when the time is up; the connection is unusable after a timeout.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  const int fd = ws_.next_layer().native_handle();
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, timeout, [&] { return done; })) ::shutdown(fd, SHUT_RDWR);
  });
  beast::flat_buffer buf;
  beast::error_code ec;
  ws_.read(buf, ec);
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_one();
  watchdog.join();
  if (ec) return std::nullopt;
  return nlohmann::json::parse(beast::buffers_to_string(buf.data()));
}

std::optional<nlohmann::json> GatewayConn::read_skipping_pings(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto f = read(left);
    if (!f) return f;
    if (f->value("type", "") == "ping") {
      send({{"type", "pong"}, {"ts", (*f)["ts"]}});
      continue;
    }
    return f;
  }
}

void GatewayConn::send(const nlohmann::json& frame) {
  beast::error_code ec;
  ws_.text(true);
  ws_.write(asio::buffer(frame.dump()), ec);
}

void GatewayConn::drop() {
  beast::error_code ec;
  ws_.next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  ws_.next_layer().close(ec);
}

FakeGateway::FakeGateway() : acceptor_(ioc_) {
  const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
}

std::optional<asio::ip::tcp::socket> FakeGateway::next_socket(std::chrono::milliseconds timeout) {
  pollfd p{acceptor_.native_handle(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
  asio::ip::tcp::socket s(ioc_);
  beast::error_code ec;
  acceptor_.accept(s, ec);
  if (ec) return std::nullopt;
  ++connections_;
  return s;
}

std::unique_ptr<GatewayConn> FakeGateway::accept(std::chrono::milliseconds timeout) {
  auto s = next_socket(timeout);
  if (!s) return nullptr;
  auto conn = std::make_unique<GatewayConn>(std::move(*s));
  if (!conn->accept()) return nullptr;
  return conn;
}

bool FakeGateway::refuse_next(int status, const nlohmann::json& body,
                              std::chrono::milliseconds timeout) {
  auto s = next_socket(timeout);
  if (!s) return false;
  set_recv_timeout(s->native_handle(), std::chrono::seconds(5));
  beast::flat_buffer buf;
  http::request<http::string_body> req;
  beast::error_code ec;
  http::read(*s, buf, req, ec);
  if (ec) return false;
  http::response<http::string_body> res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "application/json");
  res.body() = body.dump();
  res.prepare_payload();
  res.keep_alive(false);
  http::write(*s, res, ec);
  s->close(ec);
  return !ec;
}

}  // namespace vespid::test
