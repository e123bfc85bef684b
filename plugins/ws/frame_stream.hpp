// The server side of RFC 6455 framing, written for this plugin, for connections that negotiate no
// extension (permessage_deflate off, the default; with it on, sessions keep Beast's
// websocket::stream, which implements the extension).
//
// Why not Beast's stream everywhere: an idle connection of ours should cost what it must and no
// more. Beast's stream keeps 2.5 KiB of its own per connection (a fixed 1.5 KiB read buffer among
// it) and an idle read holds a chain of composed operations. Here an idle connection is a
// readiness wait on its socket and nothing else: no read buffer, no operation state beyond the
// wait; bytes are read only once the socket (or OpenSSL) has some. The API is the part of Beast's
// websocket::stream that WsSession uses, with Beast's error codes, so the session's logic is the
// same code over either stream.
//
// Behaviour, as Beast's server stream behaves:
//   - input: client frames must be masked; reserved bits, unknown opcodes, fragmented or
//     oversized control frames, a continuation with no message or a new message inside one,
//     non-minimal lengths, bad close frames and text that is not UTF-8 fail the connection:
//     a close frame (1002, or 1007 for the text), the teardown, then the read completes with the
//     websocket::error naming it; a text message that merely ends inside a character is
//     delivered as read, for the session to refuse in the host's dialect;
//   - a ping is answered with a pong carrying its payload; pongs count as input;
//   - the peer's close is answered with the same code, then the teardown, then the read
//     completes with websocket::error::closed (reason() says what the peer sent);
//   - our close (async_close) goes out after the write in progress; input is then read and
//     dropped until the peer's close frame, within the handshake timeout;
//   - keep-alive: with an idle timeout, a ping after half of it without input, and the end of
//     the connection (beast::error::timeout) after the whole;
//   - output: each message is one unmasked text frame; messages queued together go out in one
//     gathered write.
//
// Threads: everything runs on the connection's I/O thread (the session's executor); one read,
// one write and one close outstanding at most, as with Beast's stream.
#pragma once

#include <boost/beast/websocket/detail/utf8_checker.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream_base.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http_io.hpp"
#include "stream.hpp"

namespace vespid::ws {

class FrameStream {
 public:
  using ReadHandler = std::function<void(beast::error_code, std::size_t)>;
  using WriteHandler = std::function<void(beast::error_code, std::size_t)>;
  using Handler = std::function<void(beast::error_code)>;

  explicit FrameStream(Stream stream);
  ~FrameStream();
  FrameStream(const FrameStream&) = delete;
  FrameStream& operator=(const FrameStream&) = delete;

  Stream& next_layer() noexcept;

  // Beast's timeout option: handshake_timeout bounds the 101's write and the closing handshake;
  // idle_timeout with keep_alive_pings gives the keep-alive above (none(): no idle limit).
  void set_option(const beast::websocket::stream_base::timeout& opt);

  // Answers the upgrade request with 101 (or, for an upgrade request that is not a valid one,
  // with 400 or 426 and the error that says why).
  void async_accept(const Request& req, Handler done);

  // Appends up to `max` bytes of the current message to `out`, and completes with how many; see
  // got_binary / is_message_done. `out` grows only once bytes are there: an idle connection
  // keeps no buffer.
  void async_read_some(std::string& out, std::size_t max, ReadHandler done);
  // Whether the message the last read belongs to came as binary frames.
  bool got_binary() const noexcept;
  // Whether the last read completed its message.
  bool is_message_done() const noexcept;
  // The peer's close frame, once a read has completed with websocket::error::closed.
  const beast::websocket::close_reason& reason() const noexcept;

  // `count` whole messages, each one text frame, in one gathered write (one TLS record for as
  // many as fit); `done` gets the payload bytes written. The messages must stay valid until
  // `done`.
  void async_write(const std::string* messages, std::size_t count, WriteHandler done);

  // Sends our close frame (after the write in progress), waits for the peer's, then tears the
  // connection down.
  void async_close(const beast::websocket::close_reason& why, Handler done);

  struct Impl;  // shared with the operations in flight (a handler may outlive the stream's owner)

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace vespid::ws
