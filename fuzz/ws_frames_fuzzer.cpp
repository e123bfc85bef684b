// The ws plugin's WebSocket side (plugins/ws/ws_session.cpp) with permessage_deflate on: frames
// a client sends after the upgrade (without the extension, WsSession reads through the plugin's
// own FrameStream, which ws_frame_stream_fuzzer drives). WsSession owns a socket and the host
// connection, so this drives the same decoder, Boost.Beast's websocket::stream, configured as
// WsSession::accept configures it (no Beast message limit, no auto-fragmenting, text,
// permessage-deflate when the input's first byte asks for it) and read the way WsSession::read_next
// / on_read read it: a chunk at a time into a message buffer that may hold one byte past
// max_message_bytes, binary refused, the message handed on when Beast says it is done. The plugin's
// close-reason cut (close_reason_text) is checked on every delivered message.
//
// Invariants: a delivered message is text, valid UTF-8 and at most max_message_bytes; reading
// ends (close, EOF or a protocol error) without an exception; close_reason_text keeps at most
// 123 bytes, is a prefix of its input, keeps UTF-8 valid and leaves a short reason alone.
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "json_util.hpp"
#include "ws_session.hpp"

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;

void check_close_reason(std::string_view reason) {
  const std::string cut = vespid::ws::close_reason_text(reason);
  FUZZ_CHECK(cut.size() <= 123, "a close reason longer than a close frame holds");
  FUZZ_CHECK(reason.substr(0, cut.size()) == cut, "a close reason that is not a prefix");
  if (reason.size() <= 123) FUZZ_CHECK(cut == reason, "a short close reason was cut");
  if (vespid::fuzz::utf8_valid(reason)) {
    FUZZ_CHECK(vespid::fuzz::utf8_valid(cut), "a close reason cut inside a character");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool deflate = (data[0] & 1) != 0;
  // A small limit (so "too big" is reachable) or the plugin's default.
  const std::size_t max = (data[0] & 2) != 0 ? 1048576 : 64 + (data[0] >> 2) * 16;
  const std::string_view client(reinterpret_cast<const char*>(data) + 1, size - 1);
  check_close_reason(client);

  boost::asio::io_context ioc;
  beast::test::stream peer(ioc);
  websocket::stream<beast::test::stream> ws(ioc);
  ws.next_layer().connect(peer);

  ws.read_message_max(0);
  ws.auto_fragment(false);
  if (deflate) {
    websocket::permessage_deflate pmd;
    pmd.server_enable = true;
    ws.set_option(pmd);
  }
  ws.text(true);
  http::request<http::empty_body> upgrade{http::verb::get, "/ws", 11};
  upgrade.set(http::field::host, "gateway");
  upgrade.set(http::field::upgrade, "websocket");
  upgrade.set(http::field::connection, "upgrade");
  upgrade.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  upgrade.set(http::field::sec_websocket_version, "13");
  if (deflate) upgrade.set(http::field::sec_websocket_extensions, "permessage-deflate");
  beast::error_code ec;
  ws.accept(upgrade, ec);
  FUZZ_CHECK(!ec, "the upgrade was refused");
  peer.clear();

  ws.next_layer().append(client);
  ws.next_layer().close_remote();

  // WsSession::read_next / on_read, synchronously.
  constexpr std::size_t kIdleReadChunk = 512, kBusyReadChunk = 64 * 1024;
  std::string msg;
  bool in_message = false;
  bool discarding = false;
  for (int reads = 0; reads < 100000; ++reads) {
    const std::size_t have = msg.size();
    const std::size_t room = max - have + 1;
    const std::size_t chunk =
        std::min(room, in_message || discarding ? kBusyReadChunk : kIdleReadChunk);
    msg.resize(have + chunk);
    const std::size_t n = ws.read_some(boost::asio::buffer(msg.data() + have, chunk), ec);
    msg.resize(have + n);
    peer.clear();      // pongs and close frames Beast wrote
    if (ec) return 0;  // closed, EOF or a protocol violation: the session ends
    if (discarding) {
      msg.clear();
      continue;
    }
    if (!in_message) {
      in_message = true;
      if (ws.got_binary()) {  // refused; the rest is read and dropped
        discarding = true;
        in_message = false;
        msg.clear();
        continue;
      }
    }
    if (msg.size() > max) {  // too big: refused, the rest dropped
      discarding = true;
      in_message = false;
      msg.clear();
      continue;
    }
    if (!ws.is_message_done()) continue;
    in_message = false;
    if (!vespid::ws::ends_on_character_boundary(msg)) {  // refused, as not UTF-8
      discarding = true;
      msg.clear();
      continue;
    }
    FUZZ_CHECK(ws.got_text(), "a binary message delivered");
    FUZZ_CHECK(vespid::fuzz::utf8_valid(msg), "a text message that is not UTF-8 delivered");
    FUZZ_CHECK(msg.size() <= max, "a message over max_message_bytes delivered");
    check_close_reason(msg);
    msg.clear();
  }
  FUZZ_CHECK(false, "reading never ended");
  return 0;
}
