#include "clients.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <functional>
#include <future>
#include <thread>

#include "stream.hpp"

namespace vespid::ws::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;

constexpr milliseconds kTimeout{5000};

std::shared_ptr<ssl::context> client_tls(const std::string& ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_verify_mode(ssl::verify_peer);
  if (!ca_file.empty()) ctx->load_verify_file(ca_file);
  return ctx;
}

struct Peer::Impl {
  uint16_t port;
  std::shared_ptr<ssl::context> tls;
  int rcvbuf;
  net::io_context ioc{1};
  net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
  std::thread thread;
  std::optional<Stream> stream;
  std::optional<websocket::stream<Stream>> ws;
  beast::flat_buffer buf;

  Impl(uint16_t p, std::shared_ptr<ssl::context> t, int r)
      : port(p), tls(std::move(t)), rcvbuf(r), thread([this] { ioc.run(); }) {}

  ~Impl() {
    net::post(ioc, [this] {
      if (ws) ws->next_layer().close();
      if (stream) stream->close();
    });
    work.reset();
    ioc.stop();
    thread.join();
  }

  Stream& lowest() { return ws ? ws->next_layer() : *stream; }

  // Runs one asynchronous operation on the peer's thread and waits for it; on timeout the
  // socket is closed (which ends the operation) and the result is beast::error::timeout.
  beast::error_code run(std::function<void(std::function<void(beast::error_code)>)> initiate,
                        milliseconds timeout = kTimeout) {
    auto p = std::make_shared<std::promise<beast::error_code>>();
    auto f = p->get_future();
    net::post(ioc, [initiate, p] { initiate([p](beast::error_code ec) { p->set_value(ec); }); });
    if (f.wait_for(timeout) == std::future_status::ready) return f.get();
    net::post(ioc, [this] { lowest().close(); });
    f.wait();
    return beast::error::timeout;
  }
};

Peer::Peer(uint16_t port, std::shared_ptr<ssl::context> tls, int rcvbuf)
    : impl_(std::make_unique<Impl>(port, std::move(tls), rcvbuf)) {}

Peer::~Peer() = default;

boost::system::error_code Peer::connect() {
  auto& d = *impl_;
  Socket socket(d.ioc);
  beast::error_code ec;
  socket.open(tcp::v4(), ec);
  if (ec) return last_error_ = ec;
  if (d.rcvbuf > 0) socket.set_option(net::socket_base::receive_buffer_size(d.rcvbuf), ec);
  d.stream.emplace(std::move(socket), d.tls.get());
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), d.port);
  ec = d.run([&d, ep](auto done) {
    d.stream->socket().async_connect(ep, [done](beast::error_code e) { done(e); });
  });
  if (ec || !d.tls) return last_error_ = ec;
  // SNI, and the certificate must be valid for the name (verification is on in client_tls).
  ec = d.stream->tls().set_host_name("localhost");
  if (ec) return last_error_ = ec;
  ec = d.run([&d](auto done) {
    d.stream->tls().async_handshake(TlsStream::client, [done](beast::error_code e) { done(e); });
  });
  return last_error_ = ec;
}

boost::system::error_code Peer::write_raw(const std::string& bytes) {
  auto& d = *impl_;
  auto data = std::make_shared<std::string>(bytes);
  return last_error_ = d.run([&d, data](auto done) {
    net::async_write(*d.stream, net::buffer(*data),
                     [done, data](beast::error_code e, std::size_t) { done(e); });
  });
}

boost::system::error_code Peer::write_request(const std::string& method, const std::string& target,
                                              const Headers& headers, const std::string& body) {
  auto& d = *impl_;
  auto req = std::make_shared<http::request<http::string_body>>();
  req->method_string(method);
  req->target(target);
  req->version(11);
  req->set(http::field::host, "localhost");
  for (const auto& [k, v] : headers) req->insert(k, v);
  req->body() = body;
  if (!body.empty() || method == "POST" || method == "PUT") req->prepare_payload();
  return last_error_ = d.run([&d, req](auto done) {
    http::async_write(*d.stream, *req, [done, req](beast::error_code e, std::size_t) { done(e); });
  });
}

std::optional<HttpResponse> Peer::read_response(bool head) {
  auto& d = *impl_;
  auto parser = std::make_shared<http::response_parser<http::string_body>>();
  parser->skip(head);
  last_error_ = d.run([&d, parser](auto done) {
    http::async_read(*d.stream, d.buf, *parser,
                     [done, parser](beast::error_code e, std::size_t) { done(e); });
  });
  if (last_error_) return std::nullopt;
  const auto res = &parser->get();
  HttpResponse out;
  out.status = static_cast<int>(res->result_int());
  for (const auto& f : *res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
    out.lines.emplace_back(name, std::string(f.value()));
  }
  out.body = res->body();
  out.keep_alive = res->keep_alive();
  return out;
}

std::optional<HttpResponse> Peer::request(const std::string& method, const std::string& target,
                                          const Headers& headers, const std::string& body) {
  if (write_request(method, target, headers, body)) return std::nullopt;
  return read_response(method == "HEAD");
}

bool Peer::wait_closed(milliseconds timeout) {
  auto& d = *impl_;
  auto buf = std::make_shared<std::array<char, 4096>>();
  for (;;) {
    auto ec = d.run(
        [&d, buf](auto done) {
          d.lowest().async_read_some(net::buffer(*buf),
                                     [done](beast::error_code e, std::size_t) { done(e); });
        },
        timeout);
    if (ec == beast::error::timeout) return false;
    if (ec) return true;  // EOF, reset, stream truncated...
  }
}

HttpResponse Peer::ws_handshake(const std::string& target, const Headers& headers) {
  auto& d = *impl_;
  d.ws.emplace(std::move(*d.stream));
  d.stream.reset();
  d.ws->set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [k, v] : headers) req.set(k, v);
  }));
  if (deflate_) {
    websocket::permessage_deflate pmd;
    pmd.client_enable = true;
    d.ws->set_option(pmd);
  }
  auto res = std::make_shared<websocket::response_type>();
  last_error_ = d.run([&d, res, target](auto done) {
    d.ws->async_handshake(*res, "localhost", target, [done](beast::error_code e) { done(e); });
  });
  HttpResponse out;
  out.status = static_cast<int>(res->result_int());
  for (const auto& f : *res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  out.body = res->body();
  return out;
}

boost::system::error_code Peer::ws_send(const std::string& message, bool binary) {
  auto& d = *impl_;
  auto data = std::make_shared<std::string>(message);
  return last_error_ = d.run([&d, data, binary](auto done) {
    d.ws->binary(binary);
    d.ws->async_write(net::buffer(*data),
                      [done, data](beast::error_code e, std::size_t) { done(e); });
  });
}

std::optional<std::string> Peer::ws_read(milliseconds timeout) {
  auto& d = *impl_;
  auto buf = std::make_shared<beast::flat_buffer>();
  last_error_ = d.run(
      [&d, buf](auto done) {
        d.ws->async_read(*buf, [done, buf](beast::error_code e, std::size_t) { done(e); });
      },
      timeout);
  if (last_error_) return std::nullopt;
  last_binary_ = d.ws->got_binary();
  return beast::buffers_to_string(buf->data());
}

boost::system::error_code Peer::ws_close(uint16_t code) {
  auto& d = *impl_;
  return last_error_ = d.run([&d, code](auto done) {
    d.ws->async_close(websocket::close_reason(code), [done](beast::error_code e) { done(e); });
  });
}

uint16_t Peer::close_code() const {
  return impl_->ws ? impl_->ws->reason().code : 0;
}

std::string Peer::close_reason() const {
  if (!impl_->ws) return {};
  const auto& r = impl_->ws->reason().reason;
  return std::string(r.data(), r.size());
}

}  // namespace vespid::ws::testing
