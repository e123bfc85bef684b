// A scripted stand-in for the gateway's /ws endpoint, for tests of the node host's link. It
// runs on the test's own thread with blocking Beast calls and time limits: accept the next
// connection, read a frame, send one, drop the connection, or refuse an upgrade.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace vespid::test {

class GatewayConn {
 public:
  explicit GatewayConn(boost::asio::ip::tcp::socket socket) : ws_(std::move(socket)) {}

  // Completes the upgrade; the request's Authorization header is kept.
  bool accept();
  std::string authorization;

  // The next frame, or nullopt when none came within `timeout` or the connection failed.
  std::optional<nlohmann::json> read(std::chrono::milliseconds timeout);
  // The next frame whose type is not "ping" (pings are answered with pong).
  std::optional<nlohmann::json> read_skipping_pings(std::chrono::milliseconds timeout);
  void send(const nlohmann::json& frame);
  // Closes the TCP connection without a close frame, as a crashed gateway would.
  void drop();

 private:
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
};

class FakeGateway {
 public:
  FakeGateway();
  std::string ws_url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/ws"; }

  // The next connection, upgraded; nullptr if none came within `timeout`.
  std::unique_ptr<GatewayConn> accept(std::chrono::milliseconds timeout);
  // Answers the next upgrade request with `status` and a JSON body; false if none came.
  bool refuse_next(int status, const nlohmann::json& body, std::chrono::milliseconds timeout);
  int connections() const { return connections_; }

 private:
  std::optional<boost::asio::ip::tcp::socket> next_socket(std::chrono::milliseconds timeout);

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  int connections_ = 0;
};

}  // namespace vespid::test
