#include "ws_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <optional>
#include <type_traits>
#include <vespid/send_queue.hpp>

#include "deadline_queue.hpp"
#include "request_facts.hpp"
#include "ws_options.hpp"

namespace vespid::ws {

namespace websocket = beast::websocket;

uint16_t close_code_for(int status) noexcept {
  if (status == VSP_OK) return websocket::close_code::normal;
  if (status == VSP_E_OVERFLOW) return websocket::close_code::too_big;
  return websocket::close_code::policy_error;
}

std::string close_reason_text(std::string_view reason) {
  constexpr std::size_t kMax = 123;
  if (reason.size() <= kMax) return std::string(reason);
  std::size_t n = kMax;
  // reason[n] is the first byte left out; if it continues a character, leave that one out too.
  while (n > 0 && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80) --n;
  return std::string(reason.substr(0, n));
}

bool ends_on_character_boundary(std::string_view text) noexcept {
  std::size_t trailing = 0;  // continuation bytes (10xxxxxx) at the end
  while (trailing < text.size() && trailing < 4 &&
         (static_cast<unsigned char>(text[text.size() - 1 - trailing]) & 0xC0) == 0x80) {
    ++trailing;
  }
  if (trailing == text.size()) return trailing == 0;
  const auto lead = static_cast<unsigned char>(text[text.size() - 1 - trailing]);
  const std::size_t length = lead < 0x80             ? 1
                             : (lead & 0xE0) == 0xC0 ? 2
                             : (lead & 0xF0) == 0xE0 ? 3
                             : (lead & 0xF8) == 0xF0 ? 4
                                                     : 0;
  return length == trailing + 1;
}

namespace {

using std::chrono::milliseconds;

// A quiet connection reads into this much; a message in progress reads in bigger steps.
constexpr std::size_t kIdleReadChunk = 512;
constexpr std::size_t kBusyReadChunk = 64 * 1024;
// A message buffer bigger than this is given back once its message is delivered.
constexpr std::size_t kKeepMessageBytes = 1024;
// At most this many queued messages go out in one gathered write.
constexpr std::size_t kWriteBatch = 64;
// How long a requested close may wait for queued output before the socket is cut.
constexpr uint64_t kCloseDrainMs = 5000;
// How long a refused handshake's answer may take to reach the peer.
constexpr uint64_t kLingerMs = 2000;

// Over either stream: FrameStream (ours), or Beast's websocket::stream where permessage-deflate
// is configured (the extension is Beast's).
template <class WsStream>
class WsSession final : public Session {
 public:
  WsSession(std::shared_ptr<Shared> sh, Stream stream, Request req, Executor ex)
      : Session(ex),
        sh_(std::move(sh)),
        ws_(std::move(stream)),
        req_(std::make_unique<Request>(std::move(req))),
        out_(sh_->cfg.send_queue_bytes) {}

  // Asks the host to admit the connection in `dialect` (only the host keeps it after this).
  void start(const std::string& dialect);
  int send(std::string_view message) noexcept override;
  void close(int code, const char* reason) noexcept override;
  void admit(int status, int http_status, std::string_view body) noexcept override;
  void begin_stop() override;
  void abort() override;

 private:
  enum class State { Admitting, Accepting, Open, Closing, Done };

  std::shared_ptr<WsSession> self() {
    return std::static_pointer_cast<WsSession>(shared_from_this());
  }
  const Config& cfg() const noexcept { return sh_->cfg; }

  // Admission.
  void on_admit(int status, int http_status, std::string body);
  void on_admit_timeout();
  static void on_deadline(void* session);
  void accept();
  void on_accept(beast::error_code ec);
  void refuse(unsigned http_status, std::string body, int status, std::string reason);

  // Input.
  void read_next();
  void on_read(beast::error_code ec, std::size_t have, std::size_t n);
  void on_read_error(beast::error_code ec);
  void frame_error(int status, const std::string& message);
  void deliver();

  // Output.
  void flush();
  void write_next();
  void on_write(beast::error_code ec, std::size_t messages);
  void on_overflow();

  // Closing.
  void on_host_close();
  void begin_close(int status, uint16_t ws_code, std::string reason);
  void start_close_handshake();
  void on_closed(beast::error_code ec);
  void finish(int status, const std::string& reason);
  void release(int status, const std::string& reason);
  void maybe_done();

  std::shared_ptr<Shared> sh_;
  WsStream ws_;
  std::unique_ptr<Request> req_;  // the upgrade request, until it is answered
  // The admission deadline, then (state_ Closing) the close drain's; none while open, when the
  // stream keeps the only one (its keep-alive).
  std::unique_ptr<Deadline> timer_;
  void arm_timer(milliseconds after) {
    if (!timer_) timer_ = std::make_unique<Deadline>(ex_, &on_deadline, this);
    timer_->expires_after(after);
  }
  vsp_host_conn* host_conn_ = nullptr;

  // I/O thread only.
  State state_ = State::Admitting;
  std::string msg_;  // the message being read
  bool in_message_ = false;
  bool discarding_ = false;  // after a framing error: input is read (for pongs, close) and dropped
  bool read_stopped_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool close_started_ = false;  // async_close issued
  bool close_op_ = false;       // async_close in flight
  bool lingering_ = false;
  bool closing_local_ = false;  // we are closing (host close, stop); close_text_ is set
  int close_status_ = VSP_OK;
  uint16_t close_code_ = websocket::close_code::normal;
  // Once closing_local_: what the close frame says, and what conn_closed says. Kept apart
  // because an open connection needs neither.
  struct CloseText {
    std::string reason;
    std::string log;
  };
  std::unique_ptr<CloseText> close_text_;
  bool released_ = false;  // conn_closed called (or never owed)
  bool removed_ = false;

  // Any thread, under the queue's own mutex (see send_queue.hpp): the host's send() and close(),
  // the limits, the busy/writable accounting; whole messages, each one WebSocket text message.
  vsp::MessageQueue out_;
};

// ---- Admission ------------------------------------------------------------------------------

template <class WsStream>
void WsSession<WsStream>::start(const std::string& dialect) {
  const auto target = split_target(req_->target());
  const std::string path(target ? target->path : std::string_view("/"));
  const std::string query(target ? target->query : std::string_view());
  beast::error_code ec;
  const auto peer_ep = ws_.next_layer().socket().remote_endpoint(ec);
  const std::string peer = ec ? std::string("unknown") : endpoint_text(peer_ep);
  const auto local_ep = ws_.next_layer().socket().local_endpoint(ec);
  const std::string local = ec ? std::string("unknown") : endpoint_text(local_ep);
  const auto bearer = bearer_token(*req_);
  std::optional<std::string> org;
  if (auto it = req_->find("x-org-id"); it != req_->end() && !it->value().empty()) {
    org = std::string(it->value());
  } else {
    org = query_param(query, "orgId");
  }
  const std::string headers = headers_json(*req_);

  vsp_conn_info info{};
  info.struct_size = sizeof info;
  info.dialect = dialect.c_str();
  info.peer_address = peer.c_str();
  info.local_address = local.c_str();
  info.flags = VSP_CONN_ADMISSION | (ws_.next_layer().is_tls() ? VSP_CONN_TLS : 0u);
  info.bearer_token = bearer ? bearer->c_str() : nullptr;
  info.org_hint = org ? org->c_str() : nullptr;
  info.path = path.c_str();
  info.query = query.c_str();
  info.headers_json = headers.c_str();

  vsp_error err{};
  err.struct_size = sizeof err;
  vsp_host_conn* conn = nullptr;
  // The host may call admit() before this returns (even on this thread); admit only posts.
  const int rc = sh_->host.api()->conn_open(sh_->host.instance(), &info, handle(), &conn, &err);
  if (rc != VSP_OK) {
    sh_->host.warn("the gateway refused a " + dialect + " connection from " + peer + ": " +
                   err.message);
    released_ = true;  // the host never knew it: no conn_closed
    refuse(503, error_json("UNAVAILABLE", err.message), rc, err.message);
    return;
  }
  host_conn_ = conn;
  out_.attach(sh_->host.api(), conn);
  arm_timer(milliseconds(cfg().handshake_timeout_ms));
}

template <class WsStream>
void WsSession<WsStream>::admit(int status, int http_status, std::string_view body) noexcept {
  try {
    if (out_.finished()) return;
    // The decision travels with the post: the first to reach the I/O thread wins (on_admit).
    net::post(ex_, [self = self(), status, http_status, body = std::string(body)]() mutable {
      self->on_admit(status, http_status, std::move(body));
    });
  } catch (...) {
    // Only allocation can fail; the admission deadline answers the peer.
  }
}

template <class WsStream>
void WsSession<WsStream>::on_admit(int status, int http_status, std::string body) {
  // Whichever comes first on this thread wins: the host's decision, the deadline, or a stop.
  // A late decision finds the handshake already answered and conn_closed already called.
  if (state_ != State::Admitting) return;
  timer_.reset();
  if (status == VSP_OK) {
    accept();
    return;
  }
  if (http_status < 400 || http_status > 599) http_status = 403;
  if (body.empty()) body = error_json("FORBIDDEN", "connection refused");
  refuse(static_cast<unsigned>(http_status), std::move(body), status,
         "handshake refused by the gateway (HTTP " + std::to_string(http_status) + ")");
}

template <class WsStream>
void WsSession<WsStream>::on_deadline(void* session) {
  // Armed only while the registry holds the session (release() disarms it).
  const std::shared_ptr<WsSession> self = static_cast<WsSession*>(session)->self();
  if (self->state_ == State::Admitting) {
    self->on_admit_timeout();
  } else if (!self->released_ && self->close_text_) {  // the drain after begin_close
    self->ws_.next_layer().close();
    self->finish(self->close_status_, self->close_text_->log + " (output not drained in time)");
  }
}

template <class WsStream>
void WsSession<WsStream>::on_admit_timeout() {
  const std::string why =
      "the gateway did not answer the WebSocket handshake within "
      "handshake_timeout_ms (" +
      std::to_string(cfg().handshake_timeout_ms) + ")";
  refuse(503, error_json("UNAVAILABLE", why), VSP_E_CLOSED, why);
}

template <class WsStream>
void WsSession<WsStream>::refuse(unsigned http_status, std::string body, int status,
                                 std::string reason) {
  state_ = State::Closing;
  out_.finish();  // the host's sends are VSP_E_CLOSED from here on
  timer_.reset();
  const unsigned version = req_ ? req_->version() : 11;
  req_.reset();
  Response res =
      json_response(static_cast<http::status>(http_status), version, false, std::move(body));
  ws_.next_layer().expires_after(milliseconds(cfg().handshake_timeout_ms));
  lingering_ = true;
  write_message(ws_.next_layer(), http::message_generator(std::move(res)),
                [self = self(), status, reason = std::move(reason)](beast::error_code ec) {
                  self->release(status, reason);
                  self->state_ = State::Done;
                  if (ec) {
                    self->ws_.next_layer().close();
                    self->lingering_ = false;
                    self->maybe_done();
                    return;
                  }
                  linger_close(self->ws_.next_layer(), self, kLingerMs, [self] {
                    self->lingering_ = false;
                    self->maybe_done();
                  });
                });
}

template <class WsStream>
void WsSession<WsStream>::accept() {
  state_ = State::Accepting;
  apply_server_options(ws_, cfg());
  if constexpr (std::is_same_v<WsStream, websocket::stream<Stream>>) {
    // Message size is enforced here, not by Beast: Beast would fail the connection at once, but
    // the host must get to answer in its dialect first.
    ws_.read_message_max(0);
    ws_.text(true);
  }
  ws_.async_accept(*req_, [self = self()](beast::error_code ec) { self->on_accept(ec); });
}

template <class WsStream>
void WsSession<WsStream>::on_accept(beast::error_code ec) {
  req_.reset();
  if (state_ != State::Accepting) return;
  if (ec) {
    finish(VSP_E_IO, "WebSocket handshake failed: " + ec.message());
    return;
  }
  state_ = State::Open;
  read_next();
  if (closing_local_) {
    // Closed (or stopped) while the 101 was on its way.
    state_ = State::Closing;
    read_stopped_ = true;
  }
  write_next();
}

// ---- Input ----------------------------------------------------------------------------------

template <class WsStream>
void WsSession<WsStream>::read_next() {
  if (read_stopped_ || released_) return;
  const std::size_t max = cfg().max_message_bytes;
  const std::size_t have = msg_.size();
  // One byte past the limit is enough to know a message is too big.
  const std::size_t room = max - have + 1;
  reading_ = true;
  if constexpr (std::is_same_v<WsStream, FrameStream>) {
    // FrameStream appends to msg_ once input is there: no buffer while the peer is quiet.
    ws_.async_read_some(
        msg_, std::min(room, kBusyReadChunk),
        [self = self(), have](beast::error_code ec, std::size_t n) { self->on_read(ec, have, n); });
  } else {
    const std::size_t chunk =
        std::min(room, in_message_ || discarding_ ? kBusyReadChunk : kIdleReadChunk);
    msg_.resize(have + chunk);
    ws_.async_read_some(
        net::buffer(msg_.data() + have, chunk),
        [self = self(), have](beast::error_code ec, std::size_t n) { self->on_read(ec, have, n); });
  }
}

template <class WsStream>
void WsSession<WsStream>::on_read(beast::error_code ec, std::size_t have, std::size_t n) {
  reading_ = false;
  msg_.resize(have + n);
  if (ec) {
    msg_ = std::string();
    on_read_error(ec);
    maybe_done();
    return;
  }
  if (read_stopped_ || released_) {
    msg_ = std::string();  // closing: input has nobody to go to
    maybe_done();
    return;
  }
  if (discarding_) {
    msg_ = std::string();
    read_next();
    return;
  }
  if (!in_message_) {
    in_message_ = true;
    if (ws_.got_binary()) {
      frame_error(VSP_E_INVALID, "binary frames are not supported; send JSON text");
      return;
    }
  }
  if (msg_.size() > cfg().max_message_bytes) {
    frame_error(VSP_E_OVERFLOW, "message exceeds max_message_bytes (" +
                                    std::to_string(cfg().max_message_bytes) + ")");
    return;
  }
  if (!ws_.is_message_done()) {
    read_next();
    return;
  }
  in_message_ = false;
  if (!ends_on_character_boundary(msg_)) {
    frame_error(VSP_E_INVALID, "text message is not valid UTF-8 (it ends inside a character)");
    return;
  }
  deliver();
  read_next();
}

template <class WsStream>
void WsSession<WsStream>::deliver() {
  if (!out_.closing() && host_conn_ != nullptr) {
    // The host may answer (send) or close inline, on this thread; both only post.
    sh_->host.api()->conn_recv(host_conn_, msg_.data(), msg_.size());
  }
  if (msg_.capacity() > kKeepMessageBytes) {
    msg_ = std::string();
  } else {
    msg_.clear();
  }
}

template <class WsStream>
void WsSession<WsStream>::frame_error(int status, const std::string& message) {
  // From here on input is dropped: the rest of this message is never buffered and nothing more
  // reaches the host. Reading goes on, so pings, a peer's close and a dead peer are still
  // noticed. The host answers in its dialect and calls close().
  discarding_ = true;
  in_message_ = false;
  msg_ = std::string();
  if (host_conn_ != nullptr) {
    sh_->host.api()->conn_protocol_error(host_conn_, status, message.c_str());
  }
  read_next();
}

template <class WsStream>
void WsSession<WsStream>::on_read_error(beast::error_code ec) {
  if (released_) return;
  if (ec == websocket::error::closed) {
    if (closing_local_) {
      finish(close_status_, close_text_->log);
      return;
    }
    const auto& r = ws_.reason();
    std::string why = "peer closed the WebSocket (code " + std::to_string(r.code);
    if (!r.reason.empty()) why += ": " + std::string(r.reason.data(), r.reason.size());
    finish(VSP_OK, why + ")");
  } else if (ec == beast::error::timeout) {
    if (closing_local_) {
      finish(close_status_, close_text_->log + " (the closing handshake timed out)");
      return;
    }
    finish(VSP_E_IO,
           "no frame or pong from the peer within two ping intervals "
           "(ping_interval_ms = " +
               std::to_string(cfg().ping_interval_ms) + ")");
  } else if (ec == websocket::condition::protocol_violation) {
    // Beast has already failed the connection (close frame 1002 or 1007): the peer is gone, so
    // the host's answer to the protocol error has nowhere to go.
    const std::string why = ec == websocket::error::bad_frame_payload
                                ? "text message is not valid UTF-8"
                                : "WebSocket protocol violation: " + ec.message();
    out_.finish();
    if (!discarding_ && !closing_local_ && host_conn_ != nullptr) {
      sh_->host.api()->conn_protocol_error(host_conn_, VSP_E_INVALID, why.c_str());
    }
    finish(VSP_E_INVALID, why);
  } else if (closing_local_) {
    finish(close_status_, close_text_->log);
  } else {
    finish(VSP_E_IO, "connection lost: " + ec.message());
  }
}

// ---- Output ---------------------------------------------------------------------------------

template <class WsStream>
int WsSession<WsStream>::send(std::string_view message) noexcept {
  const vsp::Queued q = out_.send(message);
  try {
    if (q.status == VSP_E_OVERFLOW) {
      net::post(ex_, [self = self()] { self->on_overflow(); });
    } else if (q.post_flush) {
      // Coalescing: whatever is sent before this task runs is written back to back.
      net::post(ex_, [self = self()] { self->flush(); });
    }
  } catch (...) {
    if (q.status != VSP_E_OVERFLOW) out_.retry_post();
    return VSP_E_NOMEM;
  }
  return q.status;
}

template <class WsStream>
void WsSession<WsStream>::flush() {
  out_.flush_running();
  if (state_ != State::Open && state_ != State::Closing) return;  // on_accept starts writing
  if (writing_ || released_ || close_started_) return;
  write_next();
}

template <class WsStream>
void WsSession<WsStream>::write_next() {
  if (writing_ || released_ || close_started_) return;
  if (state_ != State::Open && state_ != State::Closing) return;
  if constexpr (std::is_same_v<WsStream, FrameStream>) {
    // Everything queued meanwhile (up to kWriteBatch messages) in one gathered write.
    const vsp::MessageQueue::Batch batch = out_.next_batch(kWriteBatch);
    if (batch.count == 0) {
      // Drained. A requested close goes out after everything queued before it.
      if (closing_local_) start_close_handshake();
      return;
    }
    writing_ = true;
    ws_.async_write(batch.messages, batch.count,
                    [self = self(), count = batch.count](beast::error_code ec, std::size_t) {
                      self->on_write(ec, count);
                    });
  } else {
    const std::string* message = out_.next();
    if (message == nullptr) {
      if (closing_local_) start_close_handshake();
      return;
    }
    writing_ = true;
    // Beast allows one write at a time, so messages go out back to back, in order.
    ws_.async_write(net::buffer(*message),
                    [self = self()](beast::error_code ec, std::size_t) { self->on_write(ec, 1); });
  }
}

template <class WsStream>
void WsSession<WsStream>::on_write(beast::error_code ec, std::size_t messages) {
  writing_ = false;
  if (released_) {
    maybe_done();
    return;
  }
  if (ec) {
    finish(closing_local_ ? close_status_ : VSP_E_IO,
           closing_local_ ? close_text_->log : "write failed: " + ec.message());
    return;
  }
  out_.written(messages);  // frees them; conn_writable once a busy queue is down to a quarter
  write_next();
}

template <class WsStream>
void WsSession<WsStream>::on_overflow() {
  if (released_) return;
  // The peer does not read, so a close frame would only queue behind the rest: cut it off.
  ws_.next_layer().close();
  finish(VSP_E_OVERFLOW, out_.overflow_reason());
}

// ---- Closing --------------------------------------------------------------------------------

template <class WsStream>
void WsSession<WsStream>::close(int code, const char* reason) noexcept {
  try {
    if (!out_.request_close(code, reason)) return;  // closing already
    net::post(ex_, [self = self()] { self->on_host_close(); });
  } catch (...) {
    // Only allocation can fail; the stop grace is the backstop.
  }
}

template <class WsStream>
void WsSession<WsStream>::on_host_close() {
  vsp::CloseRequest req = out_.close_request();
  begin_close(req.code, close_code_for(req.code), std::move(req.reason));
}

template <class WsStream>
void WsSession<WsStream>::begin_close(int status, uint16_t ws_code, std::string reason) {
  if (closing_local_ || released_) return;
  close_text_ = std::make_unique<CloseText>(CloseText{
      close_reason_text(reason), reason.empty() ? std::string("closed by the gateway") : reason});
  closing_local_ = true;
  close_status_ = status;
  close_code_ = ws_code;
  out_.request_close(status, reason.c_str());  // from here on every send is VSP_E_CLOSED
  switch (state_) {
    case State::Admitting:
      // Only a stop gets here (the host closes nothing it has not admitted).
      refuse(503, error_json("UNAVAILABLE", reason), status, close_text_->log);
      return;
    case State::Accepting:  // on_accept goes on from here
      return;
    case State::Open:
      state_ = State::Closing;
      read_stopped_ = true;
      arm_timer(milliseconds(kCloseDrainMs));
      write_next();  // starts the closing handshake at once when nothing is queued
      return;
    case State::Closing:
    case State::Done:
      return;
  }
}

template <class WsStream>
void WsSession<WsStream>::start_close_handshake() {
  if (close_started_) return;
  close_started_ = true;
  close_op_ = true;
  ws_.async_close(
      websocket::close_reason(static_cast<websocket::close_code>(close_code_), close_text_->reason),
      [self = self()](beast::error_code ec) { self->on_closed(ec); });
}

template <class WsStream>
void WsSession<WsStream>::on_closed(beast::error_code ec) {
  close_op_ = false;
  if (ec && ec != websocket::error::closed && !released_) {
    sh_->host.debug("closing handshake ended with: " + ec.message());
  }
  finish(close_status_, close_text_->log);
}

template <class WsStream>
void WsSession<WsStream>::begin_stop() {
  if (released_ || state_ == State::Done) return;
  begin_close(VSP_E_CLOSED, websocket::close_code::going_away, "gateway stopping");
}

template <class WsStream>
void WsSession<WsStream>::abort() {
  ws_.next_layer().close();
  if (released_) return;
  finish(VSP_E_CLOSED, "gateway stopping");
}

template <class WsStream>
void WsSession<WsStream>::finish(int status, const std::string& reason) {
  release(status, reason);
  if (!close_op_ && !lingering_) ws_.next_layer().close();
  if (!lingering_) state_ = State::Done;
  maybe_done();
}

template <class WsStream>
void WsSession<WsStream>::release(int status, const std::string& reason) {
  if (released_) return;
  released_ = true;
  out_.finish();
  timer_.reset();
  if (vsp_host_conn* conn = std::exchange(host_conn_, nullptr)) {
    sh_->host.api()->conn_closed(conn, status, reason.c_str());
  }
}

template <class WsStream>
void WsSession<WsStream>::maybe_done() {
  if (!released_ || reading_ || writing_ || close_op_ || lingering_ || removed_) return;
  removed_ = true;
  sh_->registry.remove(this);
}

}  // namespace

void start_ws_session(const std::shared_ptr<Shared>& shared, Stream stream, Request req,
                      const Route& route, Executor ex, Session* replaces) {
  auto run = [&](auto session) {
    const bool stopping = shared->registry.replace(replaces, session);
    session->start(route.dialect);
    if (stopping) session->begin_stop();
  };
  if (shared->cfg.permessage_deflate) {
    run(std::make_shared<WsSession<websocket::stream<Stream>>>(shared, std::move(stream),
                                                               std::move(req), ex));
  } else {
    run(std::make_shared<WsSession<FrameStream>>(shared, std::move(stream), std::move(req), ex));
  }
}

}  // namespace vespid::ws
