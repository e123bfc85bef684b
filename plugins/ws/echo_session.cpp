#include "echo_session.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "ws_options.hpp"
#include "ws_session.hpp"

namespace vespid::ws {

namespace {

namespace websocket = beast::websocket;

// A read buffer that grew past this (a large message) is given back once it has been echoed.
constexpr std::size_t kKeepBufferBytes = 64 * 1024;
const websocket::close_reason kStopping(websocket::close_code::going_away, "gateway stopping");

// One message in, the same message out, then the next: the peer's reading pace bounds what is
// held to one message of at most max_message_bytes.
class EchoSession final : public Session {
 public:
  EchoSession(std::shared_ptr<Shared> sh, Stream stream, Request req, Executor ex)
      : Session(ex),
        sh_(std::move(sh)),
        ws_(std::move(stream)),
        req_(std::make_unique<Request>(std::move(req))) {}

  void start();
  // The host never knows this connection, so it has nothing to send or close.
  int send(std::string_view) noexcept override { return VSP_E_CLOSED; }
  void close(int, const char*) noexcept override {}
  void begin_stop() override;
  void abort() override;

 private:
  std::shared_ptr<EchoSession> self() {
    return std::static_pointer_cast<EchoSession>(shared_from_this());
  }

  void on_accept(beast::error_code ec);
  void read_next();
  void on_read(beast::error_code ec);
  void on_write(beast::error_code ec);
  void start_close(websocket::close_reason reason);
  void on_closed(beast::error_code ec);
  void end(const beast::error_code& ec);
  void maybe_done();

  std::shared_ptr<Shared> sh_;
  websocket::stream<Stream> ws_;
  std::unique_ptr<Request> req_;  // the upgrade request, until it is answered
  beast::flat_buffer buf_;

  // I/O thread only.
  bool accepting_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;  // async_close in flight
  bool stopping_ = false;
  bool ended_ = false;
  bool removed_ = false;
};

void EchoSession::start() {
  apply_server_options(ws_, sh_->cfg);
  // Beast enforces the limit itself here: past it the connection is closed with 1009, which is
  // what a conformance suite expects (no dialect has to answer first).
  ws_.read_message_max(sh_->cfg.max_message_bytes);
  accepting_ = true;
  ws_.async_accept(*req_, [self = self()](beast::error_code ec) { self->on_accept(ec); });
}

void EchoSession::on_accept(beast::error_code ec) {
  accepting_ = false;
  req_.reset();
  if (ec) {
    end(ec);
    return;
  }
  if (stopping_) {
    start_close(kStopping);
    return;
  }
  read_next();
}

void EchoSession::read_next() {
  reading_ = true;
  ws_.async_read(buf_, [self = self()](beast::error_code ec, std::size_t) { self->on_read(ec); });
}

void EchoSession::on_read(beast::error_code ec) {
  reading_ = false;
  if (ec || ended_ || closing_) {
    // Beast has already answered what ended the read: the peer's close, 1009 for a message
    // over max_message_bytes, 1007 for text that is not UTF-8, 1002 for a framing violation.
    end(ec);
    return;
  }
  const std::string_view message(static_cast<const char*>(buf_.data().data()), buf_.size());
  if (ws_.got_text() && !ends_on_character_boundary(message)) {
    start_close(websocket::close_reason(websocket::close_code::bad_payload,
                                        "text message is not valid UTF-8"));
    return;
  }
  ws_.binary(ws_.got_binary());
  writing_ = true;
  ws_.async_write(buf_.data(),
                  [self = self()](beast::error_code wec, std::size_t) { self->on_write(wec); });
}

void EchoSession::on_write(beast::error_code ec) {
  writing_ = false;
  buf_.consume(buf_.size());
  if (buf_.capacity() > kKeepBufferBytes) buf_.shrink_to_fit();
  if (ec || ended_) {
    end(ec);
    return;
  }
  if (stopping_) {
    start_close(kStopping);
    return;
  }
  read_next();
}

void EchoSession::begin_stop() {
  stopping_ = true;
  // Waiting for a message: close now (the pending read ends with it). Accepting or echoing: the
  // close follows when that is done.
  if (reading_) start_close(kStopping);
}

void EchoSession::start_close(websocket::close_reason reason) {
  if (closing_ || ended_) return;
  closing_ = true;
  ws_.async_close(reason, [self = self()](beast::error_code ec) { self->on_closed(ec); });
}

void EchoSession::on_closed(beast::error_code ec) {
  closing_ = false;
  end(ec);
}

void EchoSession::abort() {
  ws_.next_layer().close();  // every pending operation completes with an error
  end(beast::error_code());
}

void EchoSession::end(const beast::error_code& ec) {
  if (!ended_) {
    ended_ = true;
    if (ec && ec != websocket::error::closed) {
      sh_->host.debug("conformance echo connection ended: " + ec.message());
    }
  }
  if (!closing_) ws_.next_layer().close();
  maybe_done();
}

void EchoSession::maybe_done() {
  if (accepting_ || reading_ || writing_ || closing_ || removed_) return;
  removed_ = true;
  sh_->registry.remove(this);
}

}  // namespace

void start_echo_session(const std::shared_ptr<Shared>& shared, Stream stream, Request req,
                        Executor ex, Session* replaces) {
  auto session = std::make_shared<EchoSession>(shared, std::move(stream), std::move(req), ex);
  const bool stopping = shared->registry.replace(replaces, session);
  session->start();
  if (stopping) session->begin_stop();
}

}  // namespace vespid::ws
