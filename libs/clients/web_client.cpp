#include "web_client.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cctype>
#include <utility>
#include <variant>

namespace vespid::web {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

void set_receive_timeout(tcp::socket& s, std::chrono::milliseconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

std::unique_ptr<asio::ssl::context> make_tls_context(const WebTarget& t) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_verify_mode(asio::ssl::verify_peer);
  if (!t.ca_file.empty()) {
    ctx->load_verify_file(t.ca_file);
  } else {
    ctx->set_default_verify_paths();
  }
  return ctx;
}

json parse_or_null(const std::string& body) {
  if (body.empty()) return json();
  try {
    return json::parse(body);
  } catch (const json::parse_error&) {
    return json();
  }
}

template <class Stream>
void prepare_tls(Stream& s, const WebTarget& t) {
  std::string name = t.server_name.empty() ? t.host : t.server_name;
  s.set_verify_callback(asio::ssl::host_name_verification(name));
  SSL_set_tlsext_host_name(s.native_handle(), name.c_str());
}

}  // namespace

std::vector<std::string> HttpReply::header_values(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : headers) {
    if (n == name) out.push_back(v);
  }
  return out;
}

HttpReply http_request(const WebTarget& t, const std::string& method, const std::string& path,
                       const Headers& headers, const std::string& body) {
  HttpReply reply;
  try {
    asio::io_context io;
    tcp::socket sock(io);
    sock.connect(tcp::endpoint(asio::ip::make_address(t.host), static_cast<uint16_t>(t.port)));
    set_receive_timeout(sock, std::chrono::seconds(10));
    http::request<http::string_body> req{http::string_to_verb(method), path, 11};
    req.set(http::field::host, t.host + ":" + std::to_string(t.port));
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() && req.find(http::field::content_type) == req.end())
      req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    if (t.tls) {
      auto ctx = make_tls_context(t);
      beast::ssl_stream<tcp::socket&> s(sock, *ctx);
      prepare_tls(s, t);
      s.handshake(asio::ssl::stream_base::client);
      http::write(s, req);
      http::read(s, buf, res);
    } else {
      http::write(sock, req);
      http::read(sock, buf, res);
    }
    reply.status = static_cast<int>(res.result_int());
    reply.raw_body = res.body();
    reply.body = parse_or_null(res.body());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers.emplace_back(std::move(name), std::string(f.value()));
    }
  } catch (const std::exception& e) {
    reply.status = 0;
    reply.error = e.what();
  }
  return reply;
}

namespace {

// One asynchronous exchange driven to its end on the calling thread. Every step runs the
// io_context in slices of 50 ms so the deadline and the caller's cancel test are looked at while
// a step waits; either closes the socket, which ends the pending operation with an error.
class BoundedExchange {
 public:
  explicit BoundedExchange(const HttpOptions& o)
      : options_(o), deadline_(std::chrono::steady_clock::now() + o.timeout) {}

  asio::io_context& io() { return io_; }
  tcp::socket& socket() { return socket_; }
  tcp::resolver& resolver() { return resolver_; }
  bool timed_out() const { return abort_ == Abort::timeout; }
  bool cancelled() const { return abort_ == Abort::cancelled; }

  // `start(done)` begins one operation whose handler calls done(ec); returns that ec.
  template <class Start>
  beast::error_code step(Start&& start) {
    bool finished = false;
    beast::error_code result;
    start([&finished, &result](const beast::error_code& ec) {
      result = ec;
      finished = true;
    });
    io_.restart();
    while (!finished) {
      if (abort_ == Abort::none) {
        if (std::chrono::steady_clock::now() >= deadline_) {
          abort_ = Abort::timeout;
        } else if (options_.cancelled && options_.cancelled()) {
          abort_ = Abort::cancelled;
        }
        if (abort_ != Abort::none) {
          resolver_.cancel();
          beast::error_code ignored;
          socket_.close(ignored);
        }
      }
      io_.run_one_for(std::chrono::milliseconds(50));
    }
    return result;
  }

 private:
  enum class Abort { none, timeout, cancelled };
  const HttpOptions& options_;
  const std::chrono::steady_clock::time_point deadline_;
  asio::io_context io_;
  tcp::resolver resolver_{io_};
  tcp::socket socket_{io_};
  Abort abort_ = Abort::none;
};

// Writes the request and reads the answer on `stream` (the socket, or TLS over it).
template <class Stream>
beast::error_code exchange(BoundedExchange& x, Stream& stream,
                           http::request<http::string_body>& req,
                           http::response_parser<http::string_body>& parser) {
  beast::error_code ec = x.step([&](auto done) {
    http::async_write(stream, req, [done](const beast::error_code& e, std::size_t) { done(e); });
  });
  if (ec) return ec;
  beast::flat_buffer buf;
  return x.step([&](auto done) {
    http::async_read(stream, buf, parser,
                     [done](const beast::error_code& e, std::size_t) { done(e); });
  });
}

}  // namespace

HttpReply http_request(const WebTarget& t, const std::string& method, const std::string& path,
                       const Headers& headers, const std::string& body,
                       const HttpOptions& options) {
  HttpReply reply;
  BoundedExchange x(options);
  beast::error_code ec;
  try {
    tcp::resolver::results_type endpoints;
    ec = x.step([&](auto done) {
      x.resolver().async_resolve(
          t.host, std::to_string(t.port),
          [&endpoints, done](const beast::error_code& e, tcp::resolver::results_type r) {
            endpoints = std::move(r);
            done(e);
          });
    });
    if (!ec) {
      ec = x.step([&](auto done) {
        asio::async_connect(x.socket(), endpoints,
                            [done](const beast::error_code& e, const tcp::endpoint&) { done(e); });
      });
    }
    if (!ec) {
      http::request<http::string_body> req{http::string_to_verb(method), path, 11};
      const bool v6 = t.host.find(':') != std::string::npos;
      req.set(http::field::host, (v6 ? "[" + t.host + "]" : t.host) + ":" + std::to_string(t.port));
      for (const auto& [k, v] : headers) req.set(k, v);
      if (!body.empty() && req.find(http::field::content_type) == req.end())
        req.set(http::field::content_type, "application/json");
      req.body() = body;
      req.prepare_payload();
      http::response_parser<http::string_body> parser;
      parser.body_limit(options.max_body_bytes);
      parser.header_limit(64 * 1024);
      // A HEAD answer announces a length it does not send.
      if (req.method() == http::verb::head) parser.skip(true);
      if (t.tls) {
        auto ctx = make_tls_context(t);
        beast::ssl_stream<tcp::socket&> s(x.socket(), *ctx);
        prepare_tls(s, t);
        ec = x.step([&](auto done) {
          s.async_handshake(asio::ssl::stream_base::client,
                            [done](const beast::error_code& e) { done(e); });
        });
        if (!ec) ec = exchange(x, s, req, parser);
      } else {
        ec = exchange(x, x.socket(), req, parser);
      }
      if (!ec) {
        const auto& res = parser.get();
        reply.status = static_cast<int>(res.result_int());
        reply.raw_body = res.body();
        reply.body = parse_or_null(reply.raw_body);
        if (auto it = res.find(http::field::content_type); it != res.end())
          reply.content_type = std::string(it->value());
        return reply;
      }
    }
  } catch (const std::exception& e) {
    reply.error = e.what();
    return reply;
  }
  if (x.timed_out()) {
    reply.timed_out = true;
    reply.error = "no complete answer within " + std::to_string(options.timeout.count()) + " ms";
  } else if (x.cancelled()) {
    reply.cancelled = true;
    reply.error = "cancelled";
  } else if (ec == http::error::body_limit) {
    reply.body_too_large = true;
    reply.error = "the response body is over " + std::to_string(options.max_body_bytes) + " bytes";
  } else {
    reply.error = ec.message();
  }
  return reply;
}

struct WsClient::Impl {
  WebTarget target;
  asio::io_context io;
  std::unique_ptr<asio::ssl::context> tls;
  std::variant<std::monostate, websocket::stream<tcp::socket>,
               websocket::stream<beast::ssl_stream<tcp::socket>>>
      ws;
  beast::flat_buffer buf;
  // A read left pending by a timeout stays pending: the next read() waits on it, so a timeout
  // never tears the WebSocket down (cancelling a Beast read would).
  bool reading = false;
  bool read_done = false;
  beast::error_code read_ec;

  tcp::socket& socket() {
    if (auto* p = std::get_if<1>(&ws)) return p->next_layer();
    return std::get<2>(ws).next_layer().next_layer();
  }
  template <class F>
  auto with(F&& f) {
    if (auto* p = std::get_if<1>(&ws)) return f(*p);
    return f(std::get<2>(ws));
  }
};

WsClient::WsClient(WebTarget target) : impl_(std::make_unique<Impl>()) {
  impl_->target = std::move(target);
}

WsClient::~WsClient() = default;

int WsClient::connect(const std::string& path, const Headers& headers, json* refusal) {
  const WebTarget& t = impl_->target;
  auto decorate = [&](websocket::request_type& req) {
    for (const auto& [k, v] : headers) req.set(k, v);
  };
  auto upgrade = [&](auto& ws) -> int {
    ws.set_option(websocket::stream_base::decorator(decorate));
    websocket::response_type res;
    beast::error_code ec;
    ws.handshake(res, t.host + ":" + std::to_string(t.port), path, ec);
    if (!ec) return 101;
    if (refusal) *refusal = parse_or_null(res.body());
    closed_ = true;
    return res.result_int() == 0 ? 0 : static_cast<int>(res.result_int());
  };
  try {
    tcp::endpoint ep(asio::ip::make_address(t.host), static_cast<uint16_t>(t.port));
    if (t.tls) {
      impl_->tls = make_tls_context(t);
      auto& ws = impl_->ws.emplace<2>(impl_->io, *impl_->tls);
      ws.next_layer().next_layer().connect(ep);
      set_receive_timeout(impl_->socket(), std::chrono::seconds(10));
      prepare_tls(ws.next_layer(), t);
      ws.next_layer().handshake(asio::ssl::stream_base::client);
      return upgrade(ws);
    }
    auto& ws = impl_->ws.emplace<1>(impl_->io);
    ws.next_layer().connect(ep);
    set_receive_timeout(impl_->socket(), std::chrono::seconds(10));
    return upgrade(ws);
  } catch (const std::exception& e) {
    closed_ = true;
    close_reason_ = e.what();
    return 0;
  }
}

void WsClient::send(const json& message) {
  send_text(message.dump());
}

void WsClient::send_text(const std::string& text) {
  write_frame(text, false, true);
}

void WsClient::send_binary(const std::string& data) {
  write_frame(data, true, true);
}

void WsClient::send_fragmented(const std::vector<std::string>& parts, bool binary) {
  for (std::size_t i = 0; i < parts.size(); ++i)
    write_frame(parts[i], binary, i + 1 == parts.size());
}

void WsClient::write_frame(const std::string& data, bool binary, bool fin) {
  if (closed_) return;
  // Asynchronous (a read may be pending on the same stream), driven to completion here.
  beast::error_code ec;
  bool done = false;
  impl_->with([&](auto& ws) {
    ws.binary(binary);
    ws.async_write_some(fin, asio::buffer(data), [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
  });
  impl_->io.restart();
  while (!done) {
    if (impl_->io.run_one_for(std::chrono::seconds(10)) == 0) {
      ec = beast::errc::make_error_code(beast::errc::timed_out);
      break;
    }
  }
  if (ec) {
    closed_ = true;
    close_reason_ = ec.message();
  }
}

std::optional<json> WsClient::read(std::chrono::milliseconds timeout) {
  auto m = read_message(timeout);
  if (!m) return std::nullopt;
  return parse_or_null(m->data);
}

std::optional<WsClient::Message> WsClient::read_message(std::chrono::milliseconds timeout) {
  if (closed_) return std::nullopt;
  Impl& im = *impl_;
  if (!im.reading) {
    im.reading = true;
    im.read_done = false;
    im.buf.clear();
    im.with([&](auto& ws) {
      ws.async_read(im.buf, [&im](beast::error_code ec, std::size_t) {
        im.read_done = true;
        im.read_ec = ec;
      });
    });
  }
  im.io.restart();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!im.read_done && std::chrono::steady_clock::now() < deadline) {
    im.io.run_one_until(deadline);
  }
  if (!im.read_done) return std::nullopt;  // timed out; the read stays pending
  im.reading = false;
  if (im.read_ec) {
    closed_ = true;
    close_reason_ = im.read_ec.message();
    im.with([&](auto& ws) {
      close_code_ = ws.reason().code;
      if (ws.reason().reason.size()) close_reason_ = std::string(ws.reason().reason.c_str());
    });
    return std::nullopt;
  }
  Message m;
  im.with([&](auto& ws) { m.binary = ws.got_binary(); });
  m.data = beast::buffers_to_string(im.buf.data());
  return m;
}

std::optional<json> WsClient::read_type(const std::string& type,
                                        std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto m = read(std::max(left, std::chrono::milliseconds(1)));
    if (!m) {
      if (closed_) return std::nullopt;
      continue;
    }
    if (m->is_object() && m->value("type", "") == type) return m;
  }
  return std::nullopt;
}

void WsClient::close() {
  if (closed_) return;
  closed_ = true;
  // Closing the socket ends any pending read too; a clean close handshake is not needed here.
  beast::error_code ec;
  impl_->socket().shutdown(tcp::socket::shutdown_both, ec);
  impl_->socket().close(ec);
  impl_->io.restart();
  impl_->io.run_for(std::chrono::milliseconds(100));
}

}  // namespace vespid::web
