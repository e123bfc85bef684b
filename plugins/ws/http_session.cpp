#include "http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <limits>
#include <mutex>
#include <optional>

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

class HttpSession final : public Session {
 public:
  HttpSession(std::shared_ptr<Shared> sh, tcp::socket socket, Executor ex)
      : Session(ex), sh_(std::move(sh)) {
    stream_.emplace(std::move(socket), sh_->tls.get());
  }

  void start();
  int send(std::string_view message) noexcept override;
  void close(int code, const char* reason) noexcept override;
  void begin_stop() override;
  void abort() override;

 private:
  enum class State { Handshake, Reading, Waiting, Writing, Closing, Done };

  std::shared_ptr<HttpSession> self() {
    return std::static_pointer_cast<HttpSession>(shared_from_this());
  }
  const Config& cfg() const noexcept { return sh_->cfg; }
  milliseconds ms(uint64_t v) const { return milliseconds(v); }

  void on_handshake(beast::error_code ec);
  void read_request();
  void on_header(beast::error_code ec);
  void read_body();
  void on_body(beast::error_code ec);
  void on_read_error(beast::error_code ec);
  void dispatch(Request req);
  void route_rest(Request req, const Target& target, const Route& route);
  void route_websocket(Request req, const Route& route, const std::string& path);
  void respond(http::message_generator msg, bool keep_alive);
  void respond(Response res) {
    const bool keep_alive = res.keep_alive();
    respond(http::message_generator(std::move(res)), keep_alive);
  }
  void on_written(beast::error_code ec, bool keep_alive);
  void on_host_response();
  void on_host_close();
  void close_gracefully(int status, const std::string& reason);
  void end(int status, const std::string& reason);
  void release_host(int status, const std::string& reason);
  void done();
  std::string peer();
  std::string local();

  std::shared_ptr<Shared> sh_;
  std::optional<Stream> stream_;  // empty once handed to a WebSocket session
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  State state_ = State::Reading;
  bool first_ = true;
  bool stopping_ = false;
  bool removed_ = false;
  vsp_host_conn* rest_conn_ = nullptr;  // I/O thread only
  // The request the host is answering.
  unsigned req_version_ = 11;
  bool req_keep_alive_ = false;
  bool req_head_ = false;

  // Shared with the host's send()/close(), guarded by mu_.
  std::mutex mu_;
  bool awaiting_host_ = false;  // a request went to the host and is not answered yet
  std::string host_response_;
  bool host_close_ = false;
  int host_close_code_ = VSP_OK;
  std::string host_close_reason_;
  bool dead_ = false;
};

void HttpSession::start() {
  if (!stream_->is_tls()) {
    read_request();
    return;
  }
  state_ = State::Handshake;
  stream_->expires_after(ms(cfg().handshake_timeout_ms));
  stream_->tls().async_handshake(TlsStream::server,
                                 [self = self()](beast::error_code ec) { self->on_handshake(ec); });
}

void HttpSession::on_handshake(beast::error_code ec) {
  if (state_ != State::Handshake) return;
  if (ec) {
    // Scanners and plain-HTTP clients on a TLS port end up here; not worth more than debug.
    sh_->host.debug("TLS handshake with " + peer() + " failed: " + ec.message());
    end(VSP_E_IO, "TLS handshake failed");
    return;
  }
  read_request();
}

void HttpSession::read_request() {
  state_ = State::Reading;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(cfg().max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser_->body_limit(cfg().max_body_bytes);
  stream_->expires_after(ms(first_ ? cfg().handshake_timeout_ms : cfg().idle_timeout_ms));
  http::async_read_header(
      *stream_, buf_, *parser_,
      [self = self()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void HttpSession::on_header(beast::error_code ec) {
  if (state_ != State::Reading) return;
  if (ec) {
    on_read_error(ec);
    return;
  }
  first_ = false;
  if (parser_->is_done()) {
    dispatch(parser_->release());
    return;
  }
  stream_->expires_after(ms(cfg().idle_timeout_ms));
  if (iequals(parser_->get()[http::field::expect], "100-continue")) {
    write_continue(*stream_, [self = self()](beast::error_code wec) {
      if (self->state_ != State::Reading) return;
      if (wec) {
        self->end(VSP_E_IO, "write failed: " + wec.message());
        return;
      }
      self->read_body();
    });
    return;
  }
  read_body();
}

void HttpSession::read_body() {
  http::async_read(*stream_, buf_, *parser_,
                   [self = self()](beast::error_code ec, std::size_t) { self->on_body(ec); });
}

void HttpSession::on_body(beast::error_code ec) {
  if (state_ != State::Reading) return;
  if (ec) {
    on_read_error(ec);
    return;
  }
  dispatch(parser_->release());
}

void HttpSession::on_read_error(beast::error_code ec) {
  const unsigned version = parser_ && parser_->got_some() ? parser_->get().version() : 11;
  if (ec == http::error::end_of_stream) {
    end(VSP_OK, "peer closed the connection");
  } else if (ec == beast::error::timeout) {
    end(VSP_OK, "idle timeout");
  } else if (ec == http::error::body_limit) {
    respond(json_error(
        http::status::payload_too_large, version, false, "PAYLOAD_TOO_LARGE",
        "request body exceeds max_body_bytes (" + std::to_string(cfg().max_body_bytes) + ")"));
  } else if (ec == http::error::header_limit) {
    respond(json_error(http::status::request_header_fields_too_large, version, false,
                       "HEADERS_TOO_LARGE",
                       "request header exceeds max_header_bytes (" +
                           std::to_string(cfg().max_header_bytes) + ")"));
  } else if (is_http_error(ec)) {
    respond(json_error(http::status::bad_request, version, false, "BAD_REQUEST",
                       "malformed HTTP request: " + ec.message()));
  } else {
    end(VSP_E_IO, "read failed: " + ec.message());
  }
}

void HttpSession::dispatch(Request req) {
  const bool keep_alive = req.keep_alive() && !stopping_;
  const auto target = split_target(req.target());
  if (!target) {
    respond(json_error(http::status::bad_request, req.version(), keep_alive, "BAD_REQUEST",
                       "the request target must be a path (origin-form)"));
    return;
  }
  const Route* route = sh_->routes.match(target->path);
  if (route == nullptr) {
    Response res = json_error(http::status::not_found, req.version(), keep_alive, "NOT_FOUND",
                              "no route for " + std::string(target->path));
    if (req.method() == http::verb::head) res.body().clear();
    respond(std::move(res));
    return;
  }
  switch (route->kind) {
    case Route::Kind::WebSocket:
    case Route::Kind::Echo:
      route_websocket(std::move(req), *route, std::string(target->path));
      return;
    case Route::Kind::Static: {
      http::message_generator msg = sh_->files.serve(req, target->path);
      respond(std::move(msg), keep_alive);
      return;
    }
    case Route::Kind::Http: {
      // The views point into req; the envelope is built before req moves anywhere.
      const Target t = *target;
      route_rest(std::move(req), t, *route);
      return;
    }
  }
}

void HttpSession::route_rest(Request req, const Target& target, const Route& route) {
  const bool keep_alive = req.keep_alive() && !stopping_;
  auto envelope = make_envelope(req, target);
  if (!envelope) {
    respond(json_error(http::status::bad_request, req.version(), keep_alive, "BAD_REQUEST",
                       "the request body is not UTF-8 text"));
    return;
  }
  if (rest_conn_ == nullptr) {
    const std::string peer_text = peer(), local_text = local();
    vsp_conn_info info{};
    info.struct_size = sizeof info;
    info.dialect = route.dialect.c_str();
    info.peer_address = peer_text.c_str();
    info.local_address = local_text.c_str();
    info.flags = stream_->is_tls() ? VSP_CONN_TLS : 0u;
    vsp_error err{};
    err.struct_size = sizeof err;
    vsp_host_conn* conn = nullptr;
    const int rc = sh_->host.api()->conn_open(sh_->host.instance(), &info, handle(), &conn, &err);
    if (rc != VSP_OK) {
      sh_->host.warn("the gateway refused a " + route.dialect + " connection from " + peer_text +
                     ": " + err.message);
      respond(json_error(http::status::service_unavailable, req.version(), false, "UNAVAILABLE",
                         err.message));
      return;
    }
    rest_conn_ = conn;
  }
  req_version_ = req.version();
  req_keep_alive_ = keep_alive;
  req_head_ = req.method() == http::verb::head;
  {
    std::lock_guard lock(mu_);
    awaiting_host_ = true;
  }
  state_ = State::Waiting;
  // Waiting for the core is not the peer idling: no deadline until the answer is written.
  stream_->expires_never();
  const int rc = sh_->host.api()->conn_recv(rest_conn_, envelope->data(), envelope->size());
  if (rc != VSP_OK && rc != VSP_E_CLOSED) {
    // VSP_E_CLOSED means the host is closing this connection: its close() answers the request.
    {
      std::lock_guard lock(mu_);
      awaiting_host_ = false;
    }
    respond(json_error(http::status::service_unavailable, req_version_, false, "UNAVAILABLE",
                       "the gateway could not take the request"));
  }
}

void HttpSession::route_websocket(Request req, const Route& route, const std::string& path) {
  if (!beast::websocket::is_upgrade(req)) {
    Response res = json_error(http::status::upgrade_required, req.version(),
                              req.keep_alive() && !stopping_, "UPGRADE_REQUIRED",
                              path + " is a WebSocket endpoint; send a WebSocket upgrade request");
    res.set(http::field::upgrade, "websocket");
    respond(std::move(res));
    return;
  }
  if (stopping_) {
    respond(json_error(http::status::service_unavailable, req.version(), false, "UNAVAILABLE",
                       "the gateway is stopping"));
    return;
  }
  // This TCP connection stops being HTTP: its rest.v1 connection (if any) ends here.
  release_host(VSP_OK, "upgraded to WebSocket");
  state_ = State::Done;
  removed_ = true;  // the WebSocket session takes this session's place in the registry
  stream_->expires_never();
  Stream stream = std::move(*stream_);
  stream_.reset();
  if (route.kind == Route::Kind::Echo) {
    start_echo_session(sh_, std::move(stream), std::move(req), ex_, this);
  } else {
    start_ws_session(sh_, std::move(stream), std::move(req), route, ex_, this);
  }
}

void HttpSession::respond(http::message_generator msg, bool keep_alive) {
  state_ = State::Writing;
  stream_->expires_after(ms(cfg().idle_timeout_ms));
  write_message(*stream_, std::move(msg), [self = self(), keep_alive](beast::error_code ec) {
    self->on_written(ec, keep_alive);
  });
}

void HttpSession::on_written(beast::error_code ec, bool keep_alive) {
  if (state_ != State::Writing) return;
  if (ec) {
    end(VSP_E_IO, "write failed: " + ec.message());
    return;
  }
  int code = VSP_OK;
  std::string reason;
  bool host_closed = false;
  {
    std::lock_guard lock(mu_);
    host_closed = host_close_;
    code = host_close_code_;
    reason = host_close_reason_;
  }
  if (host_closed) {
    close_gracefully(code, reason);
  } else if (stopping_) {
    close_gracefully(VSP_E_CLOSED, "gateway stopping");
  } else if (!keep_alive) {
    close_gracefully(VSP_OK, "request asked to close the connection");
  } else {
    if (buf_.capacity() > kKeepBufferBytes && buf_.size() == 0) buf_.shrink_to_fit();
    read_request();
  }
}

int HttpSession::send(std::string_view message) noexcept {
  try {
    {
      std::lock_guard lock(mu_);
      if (dead_ || host_close_) return VSP_E_CLOSED;
      if (!awaiting_host_) return VSP_E_INVALID;  // one response per request, no more
      awaiting_host_ = false;
      host_response_.assign(message);
    }
    net::post(ex_, [self = self()] { self->on_host_response(); });
    return VSP_OK;
  } catch (...) {
    return VSP_E_NOMEM;
  }
}

void HttpSession::on_host_response() {
  if (state_ != State::Waiting) return;
  std::string text;
  {
    std::lock_guard lock(mu_);
    text.swap(host_response_);
  }
  std::string problem;
  Response res;
  try {
    res = decode_response(text, req_version_, req_keep_alive_, req_head_, &problem);
  } catch (const std::exception& e) {
    problem = std::string("rest.v1 response could not be encoded: ") + e.what();
    res = json_error(http::status::internal_server_error, req_version_, req_keep_alive_, "INTERNAL",
                     "the gateway produced a malformed response");
  }
  if (!problem.empty()) sh_->host.error(problem);
  respond(std::move(res));
}

void HttpSession::close(int code, const char* reason) noexcept {
  try {
    {
      std::lock_guard lock(mu_);
      if (dead_ || host_close_) return;
      host_close_ = true;
      host_close_code_ = code;
      host_close_reason_ = reason != nullptr ? reason : "closed by the gateway";
    }
    net::post(ex_, [self = self()] { self->on_host_close(); });
  } catch (...) {
    // Only allocation can fail; the stop grace is the backstop.
  }
}

void HttpSession::on_host_close() {
  int code = VSP_OK;
  std::string reason;
  {
    std::lock_guard lock(mu_);
    code = host_close_code_;
    reason = host_close_reason_;
  }
  switch (state_) {
    case State::Handshake:
    case State::Reading:
      end(code, reason);
      return;
    case State::Waiting: {
      // Closed instead of answered: the peer still gets an answer, then the connection ends.
      {
        std::lock_guard lock(mu_);
        awaiting_host_ = false;
      }
      respond(json_error(http::status::service_unavailable, req_version_, false, "UNAVAILABLE",
                         "the gateway closed the connection"));
      return;
    }
    case State::Writing:  // on_written closes after this response
    case State::Closing:
    case State::Done:
      return;
  }
}

void HttpSession::begin_stop() {
  stopping_ = true;
  if (state_ == State::Handshake || state_ == State::Reading) end(VSP_E_CLOSED, "gateway stopping");
  // Waiting and Writing finish their response and then close (stopping_ forbids keep-alive).
}

void HttpSession::abort() {
  stopping_ = true;
  if (state_ == State::Done) return;
  end(VSP_E_CLOSED, "gateway stopping");
}

void HttpSession::close_gracefully(int status, const std::string& reason) {
  state_ = State::Closing;
  release_host(status, reason);
  linger_close(*stream_, self(), kLingerMs, [self = self()] { self->done(); });
}

void HttpSession::end(int status, const std::string& reason) {
  state_ = State::Done;
  if (stream_) stream_->close();
  release_host(status, reason);
  done();
}

void HttpSession::release_host(int status, const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    dead_ = true;
    awaiting_host_ = false;
  }
  if (vsp_host_conn* conn = std::exchange(rest_conn_, nullptr)) {
    sh_->host.api()->conn_closed(conn, status, reason.c_str());
  }
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

bool start_http_session(const std::shared_ptr<Shared>& shared, tcp::socket socket, Executor ex) {
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
