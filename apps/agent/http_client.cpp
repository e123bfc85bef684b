#include "http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <memory>

#include "dial_url.hpp"  // libs/url
#include "tls.hpp"
#include "tls_pin.hpp"

namespace vespid::agent {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kErrorBodyCap = 64 * 1024;
constexpr std::size_t kBodyCap = 16u << 20;

struct Exchange {
  HttpRequest req;
  DialUrl url;
  TlsPin pin;
  BodySink sink;
  HttpResponse out;
  Clock::time_point deadline = Clock::time_point::max();
};

void arm(beast::tcp_stream& s, const Exchange& x) {
  auto wait = std::chrono::duration_cast<Clock::duration>(x.req.idle_timeout);
  const auto now = Clock::now();
  if (x.deadline != Clock::time_point::max()) {
    if (now >= x.deadline) throw HttpError("request to " + x.req.url + " timed out");
    wait = std::min(wait, x.deadline - now);
  }
  s.expires_after(wait);
}

std::string describe(const beast::error_code& ec, const char* step, const Exchange& x) {
  if (ec == beast::error::timeout) return std::string(step) + " " + x.req.url + " timed out";
  return std::string(step) + " " + x.req.url + " failed: " + ec.message();
}

template <class Stream>
awaitable<void> talk(Stream& stream, beast::tcp_stream& lowest, Exchange* x) {
  http::request<http::string_body> r;
  r.method(http::string_to_verb(x->req.method));
  r.target(x->url.target);
  r.version(11);
  r.set(http::field::host, x->url.host_header());
  r.set(http::field::user_agent, "vespid-agent");
  for (const auto& [k, v] : x->req.headers) r.set(k, v);
  if (!x->req.body.empty() || x->req.method == "POST" || x->req.method == "PUT") {
    r.body() = x->req.body;
    r.prepare_payload();
  }

  beast::error_code ec;
  arm(lowest, *x);
  co_await http::async_write(stream, r, asio::redirect_error(use_awaitable, ec));
  if (ec) throw HttpError(describe(ec, "sending", *x));

  beast::flat_buffer buf;
  http::response_parser<http::buffer_body> p;
  p.body_limit(boost::none);
  arm(lowest, *x);
  co_await http::async_read_header(stream, buf, p, asio::redirect_error(use_awaitable, ec));
  if (ec) throw HttpError(describe(ec, "reading the answer of", *x));
  x->out.status = static_cast<int>(p.get().result_int());
  x->out.content_type = std::string(p.get()[http::field::content_type]);
  const bool ok = x->out.status >= 200 && x->out.status < 300;
  const bool to_sink = ok && x->sink;
  const std::size_t cap = ok ? kBodyCap : kErrorBodyCap;

  char chunk[8192];
  while (!p.is_done()) {
    p.get().body().data = chunk;
    p.get().body().size = sizeof chunk;
    arm(lowest, *x);
    co_await http::async_read(stream, buf, p, asio::redirect_error(use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) throw HttpError(describe(ec, "reading the body of", *x));
    const std::size_t got = sizeof chunk - p.get().body().size;
    if (got == 0) continue;
    const std::string_view piece(chunk, got);
    if (to_sink) {
      if (!x->sink(piece)) co_return;
    } else if (x->out.body.size() < cap) {
      x->out.body.append(piece.substr(0, cap - x->out.body.size()));
    }
  }
}

awaitable<void> run(Exchange* x, std::shared_ptr<asio::ssl::context> tls) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(ex);
  beast::error_code ec;
  const auto results = co_await resolver.async_resolve(x->url.host, x->url.port,
                                                       asio::redirect_error(use_awaitable, ec));
  if (ec) throw HttpError("cannot resolve " + x->url.host + ": " + ec.message());

  if (!x->url.tls) {
    beast::tcp_stream stream(ex);
    arm(stream, *x);
    co_await stream.async_connect(results, asio::redirect_error(use_awaitable, ec));
    if (ec) throw HttpError(describe(ec, "connecting to", *x));
    co_await talk(stream, stream, x);
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(ex, *tls);
  auto& lowest = beast::get_lowest_layer(stream);
  arm(lowest, *x);
  co_await lowest.async_connect(results, asio::redirect_error(use_awaitable, ec));
  if (ec) throw HttpError(describe(ec, "connecting to", *x));
  try {
    prepare_client_tls(stream.native_handle(), x->url.host, !x->pin.empty());
  } catch (const std::exception& e) {
    throw HttpError(e.what());
  }
  x->pin.apply(stream);
  arm(lowest, *x);
  co_await stream.async_handshake(asio::ssl::stream_base::client,
                                  asio::redirect_error(use_awaitable, ec));
  if (ec) {
    if (auto why = x->pin.mismatch(x->url.host_header()); !why.empty()) throw TlsPinMismatch(why);
    throw HttpError(describe(ec, "TLS handshake with", *x));
  }
  co_await talk(stream, lowest, x);
  lowest.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
}

}  // namespace

HttpResponse http_fetch(const HttpRequest& request, const BodySink& sink) {
  Exchange x;
  x.req = request;
  x.url = parse_dial_url(request.url);
  x.sink = sink;
  x.pin = TlsPin(request.tls_pin_sha256);
  if (request.total_timeout.count() > 0) x.deadline = Clock::now() + request.total_timeout;
  std::shared_ptr<asio::ssl::context> tls;
  if (x.url.tls) {
    try {
      tls = make_client_tls_context();
    } catch (const std::exception& e) {
      throw HttpError(e.what());
    }
  }

  asio::io_context ioc;
  std::exception_ptr failure;
  asio::co_spawn(ioc, run(&x, tls), [&failure](std::exception_ptr e) { failure = e; });
  if (!request.cancelled) {
    ioc.run();
  } else {
    while (!ioc.stopped()) {
      ioc.run_for(std::chrono::milliseconds(200));
      if (!ioc.stopped() && request.cancelled()) {
        throw HttpError("request to " + request.url + " cancelled");
      }
    }
  }
  if (failure) std::rethrow_exception(failure);
  return std::move(x.out);
}

}  // namespace vespid::agent
