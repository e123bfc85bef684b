#include "http_io.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_generator.hpp>
#include <boost/beast/http/field.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

namespace vespid::ws {

namespace {

constexpr std::size_t kLingerDiscardMax = 4 * 1024 * 1024;

// Reads and drops the peer's remaining bytes until EOF, an error, the deadline (the stream's
// timer closes the socket) or the discard cap.
struct Drain : std::enable_shared_from_this<Drain> {
  Stream& stream;
  std::shared_ptr<void> keep;
  std::function<void()> done;
  std::size_t discarded = 0;
  char buf[2048];

  Drain(Stream& s, std::shared_ptr<void> k, std::function<void()> d)
      : stream(s), keep(std::move(k)), done(std::move(d)) {}

  void read() {
    stream.async_read_some(net::buffer(buf),
                           [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                             self->discarded += n;
                             if (!ec && self->discarded < kLingerDiscardMax) {
                               self->read();
                               return;
                             }
                             self->finish();
                           });
  }

  void finish() {
    stream.expires_never();
    stream.close();
    auto d = std::move(done);
    keep.reset();
    if (d) d();
  }
};

}  // namespace

std::string error_json(std::string_view code, std::string_view message) {
  nlohmann::json j = {{"code", code}, {"message", message}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Response json_response(http::status status, unsigned version, bool keep_alive, std::string body) {
  Response res{status, version};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

Response json_error(http::status status, unsigned version, bool keep_alive, std::string_view code,
                    std::string_view message) {
  return json_response(status, version, keep_alive, error_json(code, message));
}

void write_message(Stream& stream, http::message_generator message,
                   std::function<void(beast::error_code)> done) {
  beast::async_write(stream, std::move(message),
                     [done = std::move(done)](beast::error_code ec, std::size_t) { done(ec); });
}

void write_continue(Stream& stream, std::function<void(beast::error_code)> done) {
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  net::async_write(stream, net::buffer(kContinue.data(), kContinue.size()),
                   [done = std::move(done)](beast::error_code ec, std::size_t) { done(ec); });
}

void linger_close(Stream& stream, std::shared_ptr<void> keep, uint64_t linger_ms,
                  std::function<void()> done) {
  auto drain = std::make_shared<Drain>(stream, std::move(keep), std::move(done));
  stream.expires_after(std::chrono::milliseconds(linger_ms));
  auto half_close_and_drain = [drain] {
    beast::error_code ec;
    drain->stream.socket().shutdown(Socket::shutdown_send, ec);
    if (ec) {
      drain->finish();
      return;
    }
    drain->read();
  };
  if (stream.is_tls()) {
    // close_notify first (sent, not awaited: the drain below reads until the peer's end); a
    // peer that does not take it is cut off by the stream's deadline.
    stream.tls().async_shutdown([drain, half_close_and_drain](beast::error_code ec) {
      if (ec == beast::error::timeout) {
        drain->finish();
        return;
      }
      half_close_and_drain();
    });
    return;
  }
  half_close_and_drain();
}

}  // namespace vespid::ws
