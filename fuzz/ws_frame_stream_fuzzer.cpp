// The ws plugin's own WebSocket framing (plugins/ws/frame_stream.*, what WsSession reads through
// unless permessage_deflate is on): the frames a client sends after the upgrade, over a real
// socket pair (FrameStream reads its socket itself), read the way
// WsSession::read_next / on_read read them: appended to a message that may hold one byte past
// max_message_bytes, binary refused, the message handed on when the stream says it is done,
// one that ends inside a character refused. The client's half close ends the input; what the
// server writes back (the 101, pongs, its close frame) is read and dropped.
//
// Input: the first byte picks max_message_bytes (bit 1: the plugin's default, else
// 64 + 16 * (byte >> 2)), as in ws_frames_fuzzer, so the two share their seeds; the rest is
// what the client sends.
//
// Invariants: a delivered message is text, valid UTF-8 and at most max_message_bytes; the
// stream's reads end (close, EOF or a protocol error) and every operation completes, so the
// io_context runs out of work; nothing throws.
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/field.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "check.hpp"
#include "frame_stream.hpp"
#include "json_util.hpp"
#include "ws_session.hpp"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using vespid::ws::Socket;

// WsSession's reading (ws_session.cpp, the FrameStream branch of read_next and on_read).
class Reader {
 public:
  Reader(vespid::ws::FrameStream& ws, std::size_t max) : ws_(ws), max_(max) {}

  void next() {
    const std::size_t have = msg_.size();
    const std::size_t room = max_ - have + 1;
    ws_.async_read_some(
        msg_, std::min<std::size_t>(room, 64 * 1024),
        [this, have](beast::error_code ec, std::size_t n) { on_read(ec, have, n); });
  }

  bool ended() const { return ended_; }

 private:
  void on_read(beast::error_code ec, std::size_t have, std::size_t n) {
    FUZZ_CHECK(msg_.size() == have + n, "the message grew by other than what the read says");
    if (ec) {  // closed, EOF or a protocol violation: the session ends and closes the socket
      ended_ = true;
      ws_.next_layer().close();
      return;
    }
    if (discarding_) {
      msg_.clear();
      return next();
    }
    if (!in_message_) {
      in_message_ = true;
      if (ws_.got_binary()) {  // refused; the rest is read and dropped
        discarding_ = true;
        in_message_ = false;
        msg_.clear();
        return next();
      }
    }
    if (msg_.size() > max_) {  // too big: refused, the rest dropped
      discarding_ = true;
      in_message_ = false;
      msg_.clear();
      return next();
    }
    if (!ws_.is_message_done()) return next();
    in_message_ = false;
    if (!vespid::ws::ends_on_character_boundary(msg_)) {  // refused, as not UTF-8
      discarding_ = true;
      msg_.clear();
      return next();
    }
    FUZZ_CHECK(!ws_.got_binary(), "a binary message delivered");
    FUZZ_CHECK(vespid::fuzz::utf8_valid(msg_), "a text message that is not UTF-8 delivered");
    FUZZ_CHECK(msg_.size() <= max_, "a message over max_message_bytes delivered");
    msg_.clear();
    next();
  }

  vespid::ws::FrameStream& ws_;
  const std::size_t max_;
  std::string msg_;
  bool in_message_ = false;
  bool discarding_ = false;
  bool ended_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::size_t max = (data[0] & 2) != 0 ? 1048576 : 64 + (data[0] >> 2) * 16;
  const std::string client_bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  // A connected pair of stream sockets (Unix ones: a TCP connect could be interrupted by
  // libFuzzer's timer after the kernel has made the connection, which pairs the next accept with
  // the wrong peer); the plugin's Stream takes the descriptor as it would a TCP one.
  static net::io_context ioc;
  ioc.restart();
  int fds[2];
  FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0, "no socket pair");
  Socket client(ioc);
  Socket server(ioc);
  beast::error_code ec;
  client.assign(tcp::v4(), fds[0], ec);
  FUZZ_CHECK(!ec, "cannot adopt the client's socket");
  server.assign(tcp::v4(), fds[1], ec);
  FUZZ_CHECK(!ec, "cannot adopt the server's socket");

  // The client: its bytes, then its half close; everything the server writes is drained.
  net::async_write(client, net::buffer(client_bytes), [&](beast::error_code ec, std::size_t) {
    if (!ec) client.shutdown(Socket::shutdown_send, ec);
  });
  std::string sink(4096, '\0');
  std::function<void()> drain = [&] {
    client.async_read_some(net::buffer(sink), [&](beast::error_code ec, std::size_t) {
      if (!ec) drain();
    });
  };
  drain();

  vespid::ws::FrameStream ws{vespid::ws::Stream(std::move(server), nullptr)};
  beast::websocket::stream_base::timeout opt{};
  opt.handshake_timeout = std::chrono::seconds(2);  // bounds a closing handshake gone quiet
  opt.idle_timeout = beast::websocket::stream_base::none();
  opt.keep_alive_pings = false;
  ws.set_option(opt);

  vespid::ws::Request upgrade{http::verb::get, "/ws", 11};
  upgrade.set(http::field::host, "gateway");
  upgrade.set(http::field::upgrade, "websocket");
  upgrade.set(http::field::connection, "upgrade");
  upgrade.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  upgrade.set(http::field::sec_websocket_version, "13");
  Reader reader(ws, max);
  bool accepted = false;
  ws.async_accept(upgrade, [&](beast::error_code ec) {
    FUZZ_CHECK(!ec, "the upgrade was refused");
    accepted = true;
    reader.next();
  });
  ioc.run();  // returns once every operation, the stream's and the client's, has completed
  FUZZ_CHECK(accepted && reader.ended(), "reading never ended");
  return 0;
}
