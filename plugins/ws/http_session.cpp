#include "http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <vector>

#include "deadline_queue.hpp"
#include "echo_session.hpp"
#include "http_io.hpp"
#include "request_facts.hpp"
#include "rest_codec.hpp"
#include "ws_session.hpp"

namespace vespid::ws {

namespace {

using std::chrono::milliseconds;

// How long a closing connection may take to hand its last response over.
constexpr uint64_t kLingerMs = 2000;
// A read buffer that grew past this (a large request) is given back when the request is done.
constexpr std::size_t kKeepBufferBytes = 16 * 1024;

bool is_http_error(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::end_of_stream).category();
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

class HttpSession;

// One rest.v1 connection to the host, answering one request at a time. The core handles a
// connection's requests in order, so a pipelined request that should not wait for the one before
// it goes to a slot of its own; slots are opened as pipelining needs them (at most
// max_pipelined_requests) and reused for the life of the TCP connection.
class RestSlot final : public Session {
 public:
  RestSlot(HttpSession& owner, Executor ex) : Session(ex), owner(owner) {}

  // The host's calls (any thread): they take the owner's lock and post to its I/O thread.
  int send(std::string_view message) noexcept override;
  void close(int code, const char* reason) noexcept override;
  // A slot is not in the registry: the owner answers stops for it.
  void begin_stop() override {}
  void abort() override {}

  HttpSession& owner;
  vsp_host_conn* conn = nullptr;  // I/O thread
  bool busy = false;              // I/O thread: an exchange waits on it
  // Guarded by the owner's mu_.
  bool awaiting = false;  // a request went to the host and is not answered yet
  bool closed = false;    // the host closed this connection
  std::string response;
};

// A request's place in the order the answers go out.
struct Exchange {
  RestSlot* slot = nullptr;  // the rest.v1 connection that owes the answer; null once answered
  std::optional<http::message_generator> answer;
  bool keep_alive = false;  // false: the connection ends once this answer is written
  unsigned version = 11;
  bool head = false;
};

// An accepted connection before (or instead of) a WebSocket: the TLS handshake, then HTTP/1.1
// requests with keep-alive, each routed to the host (rest.v1), to a static file, to a WebSocket
// upgrade, or answered here (404, 413, 426, ...). Requests are read ahead while earlier ones wait
// for the host (up to max_pipelined_requests), and their answers are written in request order.
//
// Threads: everything but the host's calls runs on the session's I/O thread; the host's calls
// (send/close, on this session for nothing, on its RestSlots for answers) take mu_ and post.
class HttpSession final : public Session {
 public:
  HttpSession(std::shared_ptr<Shared> sh, Socket socket, Executor ex)
      : Session(ex), sh_(std::move(sh)), timer_(ex, &on_timer, this) {
    stream_.emplace(std::move(socket), sh_->tls.get());
  }

  void start();
  // This session's own handle is never given to the host (its slots' are).
  int send(std::string_view) noexcept override { return VSP_E_INVALID; }
  void close(int, const char*) noexcept override {}
  void begin_stop() override;
  void abort() override;

  std::shared_ptr<HttpSession> self() {
    return std::static_pointer_cast<HttpSession>(shared_from_this());
  }

  // RestSlot's host calls land here, under mu_ (any thread).
  int slot_send(RestSlot& slot, std::string_view message) noexcept;
  void slot_close(RestSlot& slot, int code, const char* reason) noexcept;

 private:
  // Open: requests are read and answered. Closing: the last answer is out, the TLS close_notify
  // and the linger run. Done: the socket is closed or handed to a WebSocket session.
  enum class Phase { Handshake, Open, Closing, Done };

  const Config& cfg() const noexcept { return sh_->cfg; }
  milliseconds ms(uint64_t v) const { return milliseconds(v); }

  void on_handshake(beast::error_code ec);
  // Reading.
  void read_next();
  bool read_completed(beast::error_code ec);
  void on_header(beast::error_code ec);
  void read_body();
  void on_body(beast::error_code ec);
  void on_read_error(beast::error_code ec);
  void stop_reading(int status, std::string reason);
  // Routing one request.
  void accept(Request req);
  void route_rest(Request req, const Target& target, const Route& route);
  void route_websocket(Request req);
  RestSlot* free_slot(const Route& route, std::string* refusal);
  bool slot_available();
  // Answering, in order.
  void answer(Response res) {
    const bool keep_alive = res.keep_alive();
    answer(http::message_generator(std::move(res)), keep_alive);
  }
  void answer(http::message_generator msg, bool keep_alive);
  void pump();
  void on_written(beast::error_code ec);
  void on_host_response(RestSlot& slot);
  void on_host_close(RestSlot& slot);
  // Deadlines: the peer idle (reading with nothing owed to it) or a write stalled.
  void update_deadline();
  void arm_timer();
  static void on_timer(void* session);
  void disarm_timer();
  void on_deadline();
  // Ending.
  void close_gracefully();
  void end(int status, const std::string& reason);
  void release_host(int status, const std::string& reason);
  void done();
  std::string peer();
  std::string local();

  std::shared_ptr<Shared> sh_;
  std::optional<Stream> stream_;  // empty once handed to a WebSocket session

  // I/O thread only.
  Phase phase_ = Phase::Open;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool first_ = true;          // no request read yet: the handshake timeout applies
  bool reading_ = false;       // a header or body read is outstanding
  bool writing_ = false;       // an answer (or a 100 Continue) is being written
  bool read_stopped_ = false;  // no more requests: the connection ends once the answers are out
  bool cancelling_ = false;    // the outstanding read was cancelled so the connection can close
  bool stopping_ = false;
  bool removed_ = false;
  bool continue_owed_ = false;            // a 100 Continue waits for the answers before it
  std::optional<Request> upgrade_;        // an upgrade waits for the answers before it
  const Route* upgrade_route_ = nullptr;  // its route (routes live as long as the instance)
  std::deque<Exchange> exchanges_;        // in request order; the front is written next
  std::vector<std::unique_ptr<RestSlot>> slots_;
  // Slots beyond the first are the registry's extra slots (take_extra_slot): taken before a
  // request is read ahead, held while the slot exists, all given back at release_host (those
  // in slots_ beyond the first, and these).
  std::size_t reserved_extra_ = 0;  // taken, not yet opened
  int end_status_ = VSP_OK;         // why the connection ends, for conn_closed
  std::string end_reason_;
  // The deadline is a time kept here; the one timer runs lazily behind it (update_deadline).
  enum class Deadline { None, Idle, Write } deadline_kind_ = Deadline::None;
  std::chrono::steady_clock::time_point deadline_at_ = std::chrono::steady_clock::time_point::max();
  vespid::ws::Deadline timer_;  // armed to deadline_at_ or earlier (lazily: update_deadline)

  // Shared with the host's calls on the slots, guarded by mu_.
  std::mutex mu_;
  bool dead_ = false;  // conn_closed is being called: the host's calls are refused
};

// ---- The host's calls on a slot -------------------------------------------------------------

int RestSlot::send(std::string_view message) noexcept {
  return owner.slot_send(*this, message);
}

void RestSlot::close(int code, const char* reason) noexcept {
  owner.slot_close(*this, code, reason);
}

int HttpSession::slot_send(RestSlot& slot, std::string_view message) noexcept {
  try {
    std::shared_ptr<HttpSession> keep;
    {
      std::lock_guard lock(mu_);
      if (dead_ || slot.closed) return VSP_E_CLOSED;
      if (!slot.awaiting) return VSP_E_INVALID;  // one response per request, no more
      slot.awaiting = false;
      slot.response.assign(message);
      keep = self();  // alive: the I/O thread has not passed release_host
    }
    net::post(ex_, [keep = std::move(keep), &slot] { keep->on_host_response(slot); });
    return VSP_OK;
  } catch (...) {
    return VSP_E_NOMEM;
  }
}

void HttpSession::slot_close(RestSlot& slot, int code, const char* reason) noexcept {
  try {
    std::shared_ptr<HttpSession> keep;
    std::string why = reason != nullptr ? reason : "closed by the gateway";
    {
      std::lock_guard lock(mu_);
      if (dead_ || slot.closed) return;
      slot.closed = true;
      keep = self();
    }
    net::post(ex_, [keep = std::move(keep), &slot, code, why = std::move(why)] {
      keep->stop_reading(code, why);
      keep->on_host_close(slot);
    });
  } catch (...) {
    // Only allocation can fail; the stop grace is the backstop.
  }
}

// ---- Handshake and reading ------------------------------------------------------------------

void HttpSession::start() {
  if (!stream_->is_tls()) {
    read_next();
    return;
  }
  phase_ = Phase::Handshake;
  stream_->expires_after(ms(cfg().handshake_timeout_ms));
  stream_->tls().async_handshake(TlsStream::server,
                                 [self = self()](beast::error_code ec) { self->on_handshake(ec); });
}

void HttpSession::on_handshake(beast::error_code ec) {
  if (phase_ != Phase::Handshake) return;
  if (ec) {
    // Scanners and plain-HTTP clients on a TLS port end up here; not worth more than debug.
    sh_->host.debug("TLS handshake with " + peer() + " failed: " + ec.message());
    end(VSP_E_IO, "TLS handshake failed");
    return;
  }
  phase_ = Phase::Open;
  // From here the session keeps its own deadlines (deadline_at_): a read may be outstanding for as
  // long as earlier requests wait for the host, which no stream deadline can express.
  stream_->expires_never();
  read_next();
}

void HttpSession::read_next() {
  if (phase_ != Phase::Open || reading_ || read_stopped_ || upgrade_ || continue_owed_) return;
  if (!exchanges_.empty()) {
    // Reading ahead: only as far as max_pipelined_requests, and with a rest.v1 connection
    // for the request in sight (the instance's max_connections counts them).
    if (exchanges_.size() >= cfg().max_pipelined_requests) return;  // on_written reads again
    if (!slot_available()) return;  // on_host_response or on_written reads again
  }
  if (buf_.capacity() > kKeepBufferBytes && buf_.size() == 0) buf_.shrink_to_fit();
  reading_ = true;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(cfg().max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser_->body_limit(cfg().max_body_bytes);
  update_deadline();
  http::async_read_header(
      *stream_, buf_, *parser_,
      [self = self()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

// Where every read's completion starts. False when it ends there: a close was waiting for the
// read, the session is past Open, or the read failed (answered or ended by on_read_error).
bool HttpSession::read_completed(beast::error_code ec) {
  reading_ = false;
  if (cancelling_) {
    cancelling_ = false;
    close_gracefully();
    return false;
  }
  if (phase_ != Phase::Open) return false;
  if (ec) {
    on_read_error(ec);
    return false;
  }
  return true;
}

void HttpSession::on_header(beast::error_code ec) {
  if (!read_completed(ec)) return;
  first_ = false;
  if (parser_->is_done()) {
    accept(parser_->release());
    return;
  }
  if (iequals(parser_->get()[http::field::expect], "100-continue")) {
    // The 100 goes out in order too: after the answers owed before it.
    continue_owed_ = true;
    pump();
    return;
  }
  read_body();
}

void HttpSession::read_body() {
  reading_ = true;
  deadline_kind_ = Deadline::None;  // the body gets a window of its own
  update_deadline();
  http::async_read(*stream_, buf_, *parser_,
                   [self = self()](beast::error_code ec, std::size_t) { self->on_body(ec); });
}

void HttpSession::on_body(beast::error_code ec) {
  if (!read_completed(ec)) return;
  accept(parser_->release());
}

void HttpSession::on_read_error(beast::error_code ec) {
  const unsigned version = parser_ && parser_->got_some() ? parser_->get().version() : 11;
  if (ec == http::error::end_of_stream) {
    // A peer may send its requests and half-close: what it asked for is still answered.
    stop_reading(VSP_OK, "peer closed the connection");
    if (exchanges_.empty() && !writing_) end(end_status_, end_reason_);
    return;
  }
  if (ec == beast::error::timeout) {
    end(VSP_OK, "idle timeout");
    return;
  }
  if (ec == http::error::body_limit) {
    answer(json_error(
        http::status::payload_too_large, version, false, "PAYLOAD_TOO_LARGE",
        "request body exceeds max_body_bytes (" + std::to_string(cfg().max_body_bytes) + ")"));
  } else if (ec == http::error::header_limit) {
    answer(json_error(http::status::request_header_fields_too_large, version, false,
                      "HEADERS_TOO_LARGE",
                      "request header exceeds max_header_bytes (" +
                          std::to_string(cfg().max_header_bytes) + ")"));
  } else if (is_http_error(ec)) {
    answer(json_error(http::status::bad_request, version, false, "BAD_REQUEST",
                      "malformed HTTP request: " + ec.message()));
  } else {
    end(VSP_E_IO, "read failed: " + ec.message());
    return;
  }
  pump();
}

void HttpSession::stop_reading(int status, std::string reason) {
  if (read_stopped_) return;
  read_stopped_ = true;
  end_status_ = status;
  end_reason_ = std::move(reason);
}

// ---- Routing --------------------------------------------------------------------------------

void HttpSession::accept(Request req) {
  const bool keep_alive = req.keep_alive() && !stopping_;
  const auto target = split_target(req.target());
  if (read_stopped_) {
    // Read by the read that was outstanding when the connection began to close (a stop, the
    // host's close): not handled, but answered, after the answers owed before it.
    answer(json_error(http::status::service_unavailable, req.version(), false, "UNAVAILABLE",
                      stopping_ ? "the gateway is stopping" : "the gateway closed the connection"));
  } else if (!target) {
    answer(json_error(http::status::bad_request, req.version(), keep_alive, "BAD_REQUEST",
                      "the request target must be a path (origin-form)"));
  } else if (const Route* route = sh_->routes.match(target->path); route == nullptr) {
    Response res = json_error(http::status::not_found, req.version(), keep_alive, "NOT_FOUND",
                              "no route for " + std::string(target->path));
    if (req.method() == http::verb::head) res.body().clear();
    answer(std::move(res));
  } else {
    switch (route->kind) {
      case Route::Kind::WebSocket:
      case Route::Kind::Echo:
        if (!beast::websocket::is_upgrade(req)) {
          Response res = json_error(
              http::status::upgrade_required, req.version(), keep_alive, "UPGRADE_REQUIRED",
              std::string(target->path) +
                  " is a WebSocket endpoint; send a WebSocket upgrade request");
          res.set(http::field::upgrade, "websocket");
          answer(std::move(res));
        } else if (stopping_) {
          answer(json_error(http::status::service_unavailable, req.version(), false, "UNAVAILABLE",
                            "the gateway is stopping"));
        } else {
          // The bytes after an upgrade are not HTTP: reading stops, and the upgrade waits for
          // the answers owed before it.
          upgrade_.emplace(std::move(req));
          upgrade_route_ = route;
        }
        break;
      case Route::Kind::Static: {
        http::message_generator msg = sh_->files.serve(req, target->path);
        answer(std::move(msg), keep_alive);
        break;
      }
      case Route::Kind::Http: {
        // The views point into req; the envelope is built before req moves anywhere.
        const Target t = *target;
        route_rest(std::move(req), t, *route);
        break;
      }
    }
  }
  read_next();
  pump();
}

// A free slot, or the right to open one: with no answer owed every slot is free (or none is
// open yet, and the first needs no extra).
bool HttpSession::slot_available() {
  if (slots_.empty() || reserved_extra_ > 0) return true;
  for (auto& s : slots_) {
    if (!s->busy) return true;
  }
  if (!sh_->registry.take_extra_slot()) return false;
  ++reserved_extra_;
  return true;
}

RestSlot* HttpSession::free_slot(const Route& route, std::string* refusal) {
  for (auto& s : slots_) {
    if (!s->busy) return s.get();
  }
  // A request read while nothing was owed finds a free slot or none open; one read ahead found
  // its extra slot reserved (read_next). Should neither hold, the instance is at its limit.
  if (!slots_.empty() && reserved_extra_ == 0 && !slot_available()) {
    *refusal =
        "too many connections (max_connections = " + std::to_string(cfg().max_connections) + ")";
    return nullptr;
  }
  const bool extra = !slots_.empty();
  const std::string peer_text = peer(), local_text = local();
  vsp_conn_info info{};
  info.struct_size = sizeof info;
  info.dialect = route.dialect.c_str();
  info.peer_address = peer_text.c_str();
  info.local_address = local_text.c_str();
  // Neither side escapes a body into a JSON string for the other: decode_response takes a JSON
  // body as itself, and make_envelope passes the request's body as its bytes.
  info.flags =
      (stream_->is_tls() ? VSP_CONN_TLS : 0u) | VSP_CONN_REST_JSON_BODY | VSP_CONN_REST_RAW_BODY;
  vsp_error err{};
  err.struct_size = sizeof err;
  auto slot = std::make_unique<RestSlot>(*this, ex_);
  const int rc =
      sh_->host.api()->conn_open(sh_->host.instance(), &info, slot->handle(), &slot->conn, &err);
  if (rc != VSP_OK) {
    sh_->host.warn("the gateway refused a " + route.dialect + " connection from " + peer_text +
                   ": " + err.message);
    *refusal = err.message;
    return nullptr;
  }
  if (extra) --reserved_extra_;  // now held by the slot
  slots_.push_back(std::move(slot));
  return slots_.back().get();
}

void HttpSession::route_rest(Request req, const Target& target, const Route& route) {
  const bool keep_alive = req.keep_alive() && !stopping_;
  const std::string envelope = make_envelope(req, target);
  std::string refusal;
  RestSlot* slot = free_slot(route, &refusal);
  if (slot == nullptr) {
    answer(json_error(http::status::service_unavailable, req.version(), false, "UNAVAILABLE",
                      refusal));
    return;
  }
  {
    std::lock_guard lock(mu_);
    slot->awaiting = true;
  }
  slot->busy = true;
  Exchange& ex = exchanges_.emplace_back();
  ex.slot = slot;
  ex.keep_alive = keep_alive;
  ex.version = req.version();
  ex.head = req.method() == http::verb::head;
  if (!keep_alive) stop_reading(VSP_OK, "request asked to close the connection");
  const int rc = sh_->host.api()->conn_recv(slot->conn, envelope.data(), envelope.size());
  if (rc != VSP_OK && rc != VSP_E_CLOSED) {
    // VSP_E_CLOSED means the host is closing this connection: its close() answers the request.
    {
      std::lock_guard lock(mu_);
      slot->awaiting = false;
    }
    slot->busy = false;
    ex.slot = nullptr;
    ex.keep_alive = false;
    ex.answer.emplace(json_error(http::status::service_unavailable, ex.version, false,
                                 "UNAVAILABLE", "the gateway could not take the request"));
    stop_reading(VSP_OK, "the gateway could not take a request");
  }
}

void HttpSession::route_websocket(Request req) {
  // This TCP connection stops being HTTP: its rest.v1 connections (if any) end here.
  release_host(VSP_OK, "upgraded to WebSocket");
  disarm_timer();
  phase_ = Phase::Done;
  removed_ = true;  // the WebSocket session takes this session's place in the registry
  const Route& route = *std::exchange(upgrade_route_, nullptr);
  Stream stream = std::move(*stream_);
  stream_.reset();
  if (route.kind == Route::Kind::Echo) {
    start_echo_session(sh_, std::move(stream), std::move(req), ex_, this);
  } else {
    start_ws_session(sh_, std::move(stream), std::move(req), route, ex_, this);
  }
}

// ---- Answering ------------------------------------------------------------------------------

void HttpSession::answer(http::message_generator msg, bool keep_alive) {
  Exchange& ex = exchanges_.emplace_back();
  ex.answer.emplace(std::move(msg));
  ex.keep_alive = keep_alive;
  if (!keep_alive) stop_reading(VSP_OK, "request asked to close the connection");
}

// Writes the front answer when it is there; once nothing is owed, runs what waited for that (an
// upgrade, a 100 Continue, the close).
void HttpSession::pump() {
  if (phase_ != Phase::Open || writing_) return;
  if (!exchanges_.empty()) {
    Exchange& front = exchanges_.front();
    if (!front.answer) {
      update_deadline();
      return;
    }
    writing_ = true;
    update_deadline();
    write_message(*stream_, std::move(*front.answer),
                  [self = self()](beast::error_code ec) { self->on_written(ec); });
    return;
  }
  if (upgrade_) {
    Request req = std::move(*upgrade_);
    upgrade_.reset();
    if (stopping_) {
      // The stop came while the upgrade waited for the answers before it.
      answer(json_error(http::status::service_unavailable, req.version(), false, "UNAVAILABLE",
                        "the gateway is stopping"));
      pump();
      return;
    }
    route_websocket(std::move(req));
    return;
  }
  if (continue_owed_ && !read_stopped_) {
    writing_ = true;
    update_deadline();
    write_continue(*stream_, [self = self()](beast::error_code ec) {
      self->writing_ = false;
      if (self->phase_ != Phase::Open) return;
      if (ec) {
        self->end(VSP_E_IO, "write failed: " + ec.message());
        return;
      }
      self->continue_owed_ = false;
      if (self->read_stopped_) {
        self->close_gracefully();
        return;
      }
      self->read_body();
    });
    return;
  }
  if (read_stopped_) {
    close_gracefully();
    return;
  }
  update_deadline();
}

void HttpSession::on_written(beast::error_code ec) {
  writing_ = false;
  if (phase_ != Phase::Open) return;
  if (ec) {
    end(VSP_E_IO, "write failed: " + ec.message());
    return;
  }
  const bool keep_alive = exchanges_.front().keep_alive;
  exchanges_.pop_front();
  if (!keep_alive) {
    // Whatever was read after a closing answer is not answered.
    stop_reading(VSP_OK, "request asked to close the connection");
    exchanges_.clear();
    close_gracefully();
    return;
  }
  read_next();
  pump();
}

void HttpSession::on_host_response(RestSlot& slot) {
  if (phase_ != Phase::Open) return;
  std::string text;
  {
    std::lock_guard lock(mu_);
    text.swap(slot.response);
  }
  for (Exchange& ex : exchanges_) {
    if (ex.slot != &slot) continue;
    std::string problem;
    Response res;
    try {
      res = decode_response(text, ex.version, ex.keep_alive, ex.head, &problem);
    } catch (const std::exception& e) {
      problem = std::string("rest.v1 response could not be encoded: ") + e.what();
      res = json_error(http::status::internal_server_error, ex.version, ex.keep_alive, "INTERNAL",
                       "the gateway produced a malformed response");
    }
    if (!problem.empty()) sh_->host.error(problem);
    ex.keep_alive = res.keep_alive();
    ex.answer.emplace(std::move(res));
    ex.slot = nullptr;
    break;
  }
  slot.busy = false;
  read_next();  // a read ahead may have waited for a free slot
  pump();
}

void HttpSession::on_host_close(RestSlot& slot) {
  if (phase_ == Phase::Handshake || phase_ == Phase::Open) {
    bool owed = false;
    {
      std::lock_guard lock(mu_);
      owed = std::exchange(slot.awaiting, false);
    }
    for (Exchange& ex : exchanges_) {
      if (ex.slot != &slot) continue;
      if (owed) {
        // Closed instead of answered: the peer still gets an answer, and the connection ends
        // once the answers owed after it (from other slots) are out too.
        ex.keep_alive = &ex != &exchanges_.back();
        ex.answer.emplace(json_error(http::status::service_unavailable, ex.version, ex.keep_alive,
                                     "UNAVAILABLE", "the gateway closed the connection"));
        ex.slot = nullptr;
      }
      break;
    }
  }
  switch (phase_) {
    case Phase::Handshake:
      end(end_status_, end_reason_);
      return;
    case Phase::Open:
      if (exchanges_.empty() && !writing_) {
        end(end_status_, end_reason_);
      } else {
        pump();
      }
      return;
    case Phase::Closing:
    case Phase::Done:
      return;
  }
}

// ---- Deadlines ------------------------------------------------------------------------------

// A write in progress has idle_timeout_ms to finish; a read with nothing owed to the peer (it is
// the peer's turn) has the handshake timeout before the first request and idle_timeout_ms
// after. A read while answers are pending has none: the peer waits for us.
//
// Moving the deadline only sets deadline_at_. The timer is re-armed only when the new deadline
// is earlier than its expiry; one that expires first finds the deadline moved and waits the rest
// (on_timer). A busy connection's requests then cost nothing in the I/O thread's deadline queue.
void HttpSession::update_deadline() {
  Deadline want = Deadline::None;
  if (writing_) {
    want = Deadline::Write;
  } else if (reading_ && exchanges_.empty()) {
    want = Deadline::Idle;
  }
  if (want == deadline_kind_ && want != Deadline::Write) return;  // an idle wait keeps its start
  deadline_kind_ = want;
  if (want == Deadline::None) {
    deadline_at_ = std::chrono::steady_clock::time_point::max();
    return;  // a wait outstanding finds nothing due and lapses
  }
  deadline_at_ =
      std::chrono::steady_clock::now() +
      ms(want == Deadline::Idle && first_ ? cfg().handshake_timeout_ms : cfg().idle_timeout_ms);
  arm_timer();
}

void HttpSession::arm_timer() {
  // An earlier expiry goes first, then waits again for the rest (on_timer).
  if (timer_.armed() && timer_.expiry() <= deadline_at_) return;
  timer_.expires_at(deadline_at_);
}

void HttpSession::on_timer(void* session) {
  const std::shared_ptr<HttpSession> self = static_cast<HttpSession*>(session)->self();
  if (self->phase_ != Phase::Open || self->deadline_kind_ == Deadline::None) return;
  if (std::chrono::steady_clock::now() >= self->deadline_at_) {
    self->on_deadline();
  } else {
    self->arm_timer();
  }
}

void HttpSession::disarm_timer() {
  timer_.cancel();
}

void HttpSession::on_deadline() {
  if (phase_ != Phase::Open) return;
  if (deadline_kind_ == Deadline::Write) {
    end(VSP_E_IO, "write timed out (idle_timeout_ms)");
  } else {
    end(VSP_OK, "idle timeout");
  }
}

// ---- Stopping and ending --------------------------------------------------------------------

void HttpSession::begin_stop() {
  stopping_ = true;
  if (phase_ == Phase::Handshake) {
    end(VSP_E_CLOSED, "gateway stopping");
    return;
  }
  if (phase_ != Phase::Open) return;
  stop_reading(VSP_E_CLOSED, "gateway stopping");
  // Nothing owed: close now. Otherwise the answers owed are written first, then the close.
  if (exchanges_.empty() && !writing_ && !upgrade_) {
    end(end_status_, end_reason_);
  } else {
    pump();
  }
}

void HttpSession::abort() {
  stopping_ = true;
  if (phase_ == Phase::Done) return;
  end(VSP_E_CLOSED, "gateway stopping");
}

// Every answer owed is written. A read still outstanding is cancelled first (its handler comes
// back here); then close_notify under TLS, a half close, and the linger.
void HttpSession::close_gracefully() {
  if (phase_ != Phase::Open) return;
  if (reading_) {
    if (!cancelling_) {
      cancelling_ = true;
      beast::error_code ignored;
      stream_->socket().cancel(ignored);
    }
    return;
  }
  phase_ = Phase::Closing;
  disarm_timer();
  release_host(end_status_, end_reason_);
  linger_close(*stream_, self(), kLingerMs, [self = self()] {
    self->phase_ = Phase::Done;
    self->done();
  });
}

void HttpSession::end(int status, const std::string& reason) {
  phase_ = Phase::Done;
  disarm_timer();
  if (stream_) stream_->close();
  release_host(status, reason);
  done();
}

void HttpSession::release_host(int status, const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    if (dead_) return;
    dead_ = true;
    for (auto& s : slots_) s->awaiting = false;
  }
  for (auto& s : slots_) {
    if (vsp_host_conn* conn = std::exchange(s->conn, nullptr)) {
      sh_->host.api()->conn_closed(conn, status, reason.c_str());
    }
  }
  const std::size_t opened_extra = slots_.empty() ? 0 : slots_.size() - 1;
  sh_->registry.return_extra_slots(opened_extra + std::exchange(reserved_extra_, 0));
}

void HttpSession::done() {
  if (std::exchange(removed_, true)) return;
  sh_->registry.remove(this);
}

std::string HttpSession::peer() {
  beast::error_code ec;
  auto ep = stream_->socket().remote_endpoint(ec);
  return ec ? std::string("unknown") : endpoint_text(ep);
}

std::string HttpSession::local() {
  beast::error_code ec;
  auto ep = stream_->socket().local_endpoint(ec);
  return ec ? std::string("unknown") : endpoint_text(ep);
}

}  // namespace

bool start_http_session(const std::shared_ptr<Shared>& shared, Socket socket, Executor ex) {
  auto session = std::make_shared<HttpSession>(shared, std::move(socket), ex);
  switch (shared->registry.add(session)) {
    case Registry::Added::Ok:
      net::post(ex, [session] { session->start(); });
      return true;
    case Registry::Added::Full:
    case Registry::Added::Stopping:
      return false;  // never started: dropping it closes the socket
  }
  return false;
}

}  // namespace vespid::ws
