#include "gateway_link.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "backoff.hpp"
#include "dial_url.hpp"  // libs/url
#include "link_lifecycle.hpp"
#include "tls.hpp"
#include "tls_pin.hpp"

namespace vespid::agent {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string frame_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

nlohmann::json agent_capabilities(int max_in_flight, const std::vector<std::string>& tags) {
  return {{"kinds", supported_kinds()},
          {"engines", available_engines()},
          {"connectors", available_connectors()},
          {"maxInFlight", max_in_flight},
          {"tags", tags}};
}

struct GatewayLink::Impl {
  // How one connection attempt ended.
  enum class End { failed_before_hello, closed_after_hello, refused, stopping };

  struct Outgoing {
    std::string request_id;  // empty for frames of no request (ping)
    std::string text;
    bool is_result = false;
  };

  explicit Impl(LinkOptions o)
      : opts(std::move(o)), life(static_cast<std::size_t>(std::max(1, opts.max_in_flight))) {
    opts.exec.stopping = &life.stopping;
    life.exit_code = kLinkStopped;
  }

  LinkOptions opts;
  TlsPin pin;                 // from opts.tls_pin_sha256, for the first URL; checked in main_loop
  std::vector<DialUrl> urls;  // opts.gateway_urls parsed, in order
  size_t current = 0;         // the URL being tried (urls[current])
  const std::string& current_url() const { return opts.gateway_urls[current]; }
  // The pin applies to the URL it was taken for (the first); the others verify against the CA.
  TlsPin no_pin;
  const TlsPin& active_pin() const { return current == 0 ? pin : no_pin; }
  // The event loop, engine pool, signals, stop and retry sleep (link_lifecycle.hpp); after
  // opts, which sizes its pool.
  LinkLifecycle life;

  // Everything below is touched on the I/O thread only.
  bool connected = false;  // hello sent on the current connection
  Clock::time_point last_rx;
  std::deque<Outgoing> outbox;
  std::size_t dropped_events = 0;
  // The executes running now, each with the flag session_cancel sets (read by its engine).
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> running;
  std::vector<std::pair<std::string, std::string>> unacked;  // requestId, result frame, in order

  // ---- outgoing frames ------------------------------------------------------------------

  void enqueue(Outgoing out) {
    if (!out.is_result && outbox.size() >= opts.max_queued_frames) {
      // Results are never dropped (they are kept in `unacked` too); events are, under overload.
      if (dropped_events++ % 100 == 0) {
        spdlog::warn("outgoing queue full ({} frames): dropping events ({} so far)", outbox.size(),
                     dropped_events);
      }
      return;
    }
    outbox.push_back(std::move(out));
    life.wake.cancel();
  }

  // ---- executes -------------------------------------------------------------------------

  bool has_unacked(const std::string& id) const {
    return std::any_of(unacked.begin(), unacked.end(),
                       [&](const auto& u) { return u.first == id; });
  }

  void keep_result(const std::string& id, const nlohmann::json& frame) {
    const std::string text = frame_text(frame);
    unacked.emplace_back(id, text);
    enqueue({id, text, true});
  }

  void on_execute(const nlohmann::json& msg) {
    const std::string id = msg.value("requestId", std::string());
    if (id.empty()) {
      spdlog::warn("execute without a requestId ignored");
      return;
    }
    const std::string kind = msg.value("kind", std::string());
    if (running.count(id) != 0) {
      spdlog::info("execute {} is already running; not starting it twice", id);
      enqueue({id, frame_text({{"type", "execute_received"}, {"requestId", id}})});
      return;
    }
    if (has_unacked(id)) {
      spdlog::info("execute {} already has a result; resending it", id);
      for (const auto& [rid, text] : unacked) {
        if (rid == id) enqueue({id, text, true});
      }
      return;
    }
    enqueue({id, frame_text({{"type", "execute_received"}, {"requestId", id}})});
    if (static_cast<int>(running.size()) >= opts.max_in_flight) {
      spdlog::warn("execute {} ({}) refused: {} already in flight", id, kind, running.size());
      ExecResult busy;
      busy.error = "AGENT_BUSY: this node host already runs maxInFlight=" +
                   std::to_string(opts.max_in_flight) + " executes";
      keep_result(id, busy.frame(id));
      return;
    }
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    running.emplace(id, cancel);
    spdlog::info("execute {} ({}) started", id, kind);
    nlohmann::json payload = msg.contains("payload") ? msg["payload"] : nlohmann::json::object();
    ExecutorConfig exec = opts.exec;
    exec.cancelled = cancel.get();
    asio::post(life.pool, [this, id, kind, payload = std::move(payload), exec, cancel] {
      auto on_event = [this, &id](const nlohmann::json& ev) {
        std::string text =
            frame_text({{"type", "execute_event"}, {"requestId", id}, {"event", ev}});
        asio::post(life.ioc, [this, id, text = std::move(text)]() mutable {
          enqueue({id, std::move(text)});
        });
      };
      const auto started = Clock::now();
      ExecResult r = run_execute(kind, payload, on_event, exec);
      const auto ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
      asio::post(life.ioc, [this, id, r = std::move(r), ms] {
        running.erase(id);
        if (r.ok) {
          spdlog::info("execute {} succeeded in {} ms", id, ms);
        } else {
          spdlog::warn("execute {} failed in {} ms: {}", id, ms, r.error);
        }
        keep_result(id, r.frame(id));
      });
    });
  }

  // session_cancel {requestId, organizationId?, sessionId?}: stop that execute if it runs here
  // (the engine gives up at its next piece); unknown or finished ids are ignored.
  void on_cancel(const nlohmann::json& msg) {
    const std::string id = msg.value("requestId", std::string());
    auto it = running.find(id);
    if (it == running.end()) {
      spdlog::info("session_cancel for {}: not running here", id.empty() ? "?" : id);
      return;
    }
    it->second->store(true);
    spdlog::info("execute {} cancelled by the gateway", id);
  }

  void on_frame(const std::string& text) {
    last_rx = Clock::now();
    const auto msg = nlohmann::json::parse(text, nullptr, false);
    if (!msg.is_object() || !msg.contains("type") || !msg["type"].is_string()) {
      spdlog::warn("ignoring a frame that is not a JSON object with a type ({} bytes)",
                   text.size());
      return;
    }
    const std::string type = msg["type"].get<std::string>();
    if (type == "pong") {
      spdlog::debug("pong");
    } else if (type == "execute") {
      on_execute(msg);
    } else if (type == "session_cancel") {
      on_cancel(msg);
    } else if (type == "execute_ack") {
      const std::string id = msg.value("requestId", std::string());
      const auto before = unacked.size();
      std::erase_if(unacked, [&](const auto& u) { return u.first == id; });
      spdlog::debug("execute_ack {}{}", id, before == unacked.size() ? " (not pending)" : "");
    } else if (type == "error") {
      spdlog::error("the gateway reported an error: {}: {}", msg.value("code", std::string("?")),
                    msg.value("message", std::string()));
    } else {
      spdlog::warn("ignoring an unknown frame type \"{}\"", type);
    }
  }

  // After hello on a new connection: unacked results first, then what was queued, minus what
  // a resent result supersedes (its own earlier copies, and events of requests it finished).
  void prepare_outbox_after_hello(std::vector<std::string>& first) {
    for (const auto& [id, text] : unacked) first.push_back(text);
    std::erase_if(outbox, [&](const Outgoing& o) {
      return o.is_result || (!o.request_id.empty() && has_unacked(o.request_id)) ||
             o.request_id.empty();
    });
  }

  // ---- one connection -------------------------------------------------------------------

  template <class WS>
  awaitable<void> reader(WS& ws) {
    beast::flat_buffer buf;
    for (;;) {
      beast::error_code ec;
      co_await ws.async_read(buf, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (ec == websocket::error::closed) {
          spdlog::warn("the gateway closed the connection ({} {})", ws.reason().code,
                       std::string(ws.reason().reason.data(), ws.reason().reason.size()));
        } else if (!life.stopping) {
          spdlog::warn("connection lost: {}", ec.message());
        }
        if (life.abort_connection)
          life.abort_connection();  // a writer stuck on a dead peer ends too
        co_return;
      }
      on_frame(beast::buffers_to_string(buf.data()));
      buf.consume(buf.size());
    }
  }

  template <class WS>
  awaitable<void> writer(WS& ws) {
    for (;;) {
      while (!outbox.empty()) {
        const std::string text = std::move(outbox.front().text);
        outbox.pop_front();
        beast::error_code ec;
        co_await ws.async_write(asio::buffer(text), asio::redirect_error(use_awaitable, ec));
        if (ec) {
          if (!life.stopping) spdlog::warn("write failed: {}", ec.message());
          if (life.abort_connection) life.abort_connection();
          co_return;
        }
      }
      if (life.stopping) co_return;
      co_await life.wait_for_wake();
    }
  }

  awaitable<void> heartbeat() {
    co_await life.heartbeat(opts.ping_interval, opts.idle_timeout, last_rx, [this] {
      enqueue({"", frame_text({{"type", "ping"}, {"ts", now_ms()}})});
    });
  }

  nlohmann::json hello() const {
    return {{"type", "hello"},
            {"agentVersion", opts.agent_version},
            {"name", opts.name},
            {"capabilities", agent_capabilities(opts.max_in_flight, opts.tags)}};
  }

  // Handshake done: hello, resends, then read/write/heartbeat until one of them ends.
  template <class WS>
  awaitable<End> converse(WS& ws) {
    ws.text(true);
    last_rx = Clock::now();
    std::vector<std::string> first;
    first.push_back(frame_text(hello()));
    prepare_outbox_after_hello(first);
    for (const auto& text : first) {
      beast::error_code ec;
      co_await ws.async_write(asio::buffer(text), asio::redirect_error(use_awaitable, ec));
      if (ec) {
        spdlog::warn("write failed right after connecting: {}", ec.message());
        co_return End::failed_before_hello;
      }
    }
    connected = true;
    spdlog::info("connected to the gateway as {} ({}); {} unacknowledged result(s) resent",
                 opts.name, opts.creds.agent_id, first.size() - 1);
    if (opts.on_connected) opts.on_connected(current_url());
    co_await (reader(ws) || writer(ws) || heartbeat());
    connected = false;
    if (opts.on_disconnected) opts.on_disconnected();
    co_return life.stopping ? End::stopping : End::closed_after_hello;
  }

  // A refused upgrade: print the gateway's {code, message}; 401/403 are final.
  End refused(const websocket::response_type& res) {
    const int status = static_cast<int>(res.result_int());
    const auto body = nlohmann::json::parse(res.body(), nullptr, false);
    std::string code = "HTTP_" + std::to_string(status), message = res.body().substr(0, 300);
    if (body.is_object()) {
      code = body.value("code", code);
      message = body.value("message", message);
    }
    if (status == 401 || status == 403) {
      spdlog::error(
          "the gateway refused this node host: HTTP {} {}: {}. Not retrying; if the agent was "
          "revoked, pair again with `vespid-agent connect`.",
          status, code, message);
      return End::refused;
    }
    spdlog::warn("the gateway refused the WebSocket upgrade: HTTP {} {}: {}", status, code,
                 message);
    return End::failed_before_hello;
  }

  template <class WS>
  awaitable<End> handshake_and_converse(WS& ws, const DialUrl& url) {
    beast::get_lowest_layer(ws).expires_never();
    websocket::stream_base::timeout to{};
    to.handshake_timeout = opts.connect_timeout;
    to.idle_timeout = websocket::stream_base::none();
    to.keep_alive_pings = false;
    ws.set_option(to);
    const std::string auth = "Bearer " + opts.creds.agent_token;
    const std::string ua = "vespid-agent/" + opts.agent_version;
    ws.set_option(websocket::stream_base::decorator([auth, ua](websocket::request_type& req) {
      req.set(http::field::authorization, auth);
      req.set(http::field::user_agent, ua);
    }));
    websocket::response_type res;
    beast::error_code ec;
    co_await ws.async_handshake(res, url.host_header(), url.target,
                                asio::redirect_error(use_awaitable, ec));
    if (ec == websocket::error::upgrade_declined) co_return refused(res);
    if (ec) {
      if (!life.stopping)
        spdlog::warn("WebSocket handshake with {} failed: {}", current_url(), ec.message());
      co_return End::failed_before_hello;
    }
    co_return co_await converse(ws);
  }

  awaitable<End> connect_once(DialUrl url) {
    auto ex = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(ex);
    beast::error_code ec;
    const auto results = co_await resolver.async_resolve(url.host, url.port,
                                                         asio::redirect_error(use_awaitable, ec));
    if (ec) {
      spdlog::warn("cannot resolve {}: {}", url.host, ec.message());
      co_return End::failed_before_hello;
    }
    // A stop during the lookup found no connection to abort (abort_connection is set only
    // below): without this check the link would go on to connect and wait out a gateway that
    // accepts but never answers the handshake.
    if (life.stopping) co_return End::stopping;
    if (!url.tls) {
      websocket::stream<beast::tcp_stream> ws(ex);
      auto& low = beast::get_lowest_layer(ws);
      life.abort_connection = [&low] { low.socket().close(); };
      low.expires_after(opts.connect_timeout);
      co_await low.async_connect(results, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (!life.stopping) spdlog::warn("cannot connect to {}: {}", current_url(), ec.message());
        life.abort_connection = nullptr;
        co_return End::failed_before_hello;
      }
      const End end = co_await handshake_and_converse(ws, url);
      life.abort_connection = nullptr;
      co_return end;
    }
    std::shared_ptr<asio::ssl::context> tls = make_client_tls_context();
    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(ex, *tls);
    auto& low = beast::get_lowest_layer(ws);
    life.abort_connection = [&low] { low.socket().close(); };
    low.expires_after(opts.connect_timeout);
    co_await low.async_connect(results, asio::redirect_error(use_awaitable, ec));
    if (!ec) {
      const TlsPin& pinned = active_pin();
      prepare_client_tls(ws.next_layer().native_handle(), url.host, !pinned.empty());
      pinned.apply(ws.next_layer());
      co_await ws.next_layer().async_handshake(asio::ssl::stream_base::client,
                                               asio::redirect_error(use_awaitable, ec));
      if (ec && !life.stopping) {
        // A pin mismatch is an error, not a hiccup: someone else answers at that address (or
        // the gateway's certificate changed). The link keeps trying, so the real gateway is
        // found again when it comes back, but it never talks to this one.
        if (auto why = active_pin().mismatch(current_url()); !why.empty()) {
          spdlog::error("refusing the gateway: {}", why);
        } else {
          spdlog::warn("TLS handshake with {} failed: {}", current_url(), ec.message());
        }
      }
    } else if (!life.stopping) {
      spdlog::warn("cannot connect to {}: {}", current_url(), ec.message());
    }
    if (ec) {
      life.abort_connection = nullptr;
      co_return End::failed_before_hello;
    }
    const End end = co_await handshake_and_converse(ws, url);
    life.abort_connection = nullptr;
    co_return end;
  }

  awaitable<void> main_loop() {
    try {
      if (opts.gateway_urls.empty()) throw std::invalid_argument("no gateway URL to connect to");
      pin = TlsPin(opts.tls_pin_sha256);
      for (const auto& text : opts.gateway_urls) {
        DialUrl url = parse_dial_url(text);
        if (url.scheme != "ws" && url.scheme != "wss") {
          throw std::invalid_argument("the gateway URL must be ws:// or wss://: " + text);
        }
        if (url.tls) (void)make_client_tls_context();  // a bad CA file fails now, not per attempt
        urls.push_back(std::move(url));
      }
      if (!pin.empty() && !urls.front().tls) {
        throw std::invalid_argument(
            "a TLS pin is saved for this gateway but its URL is not wss://: " +
            opts.gateway_urls.front() + " (pair again, or pass a wss:// --gateway)");
      }
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      life.exit_code = 3;
      co_return;
    }
    Backoff backoff(opts.reconnect_min, opts.reconnect_max);
    while (!life.stopping) {
      spdlog::info("connecting to {}", current_url());
      const auto started = Clock::now();
      const End end = co_await connect_once(urls[current]);
      if (end == End::refused) {
        life.exit_code = kLinkRefused;
        co_return;
      }
      if (life.stopping || end == End::stopping) break;
      reset_backoff_if_held(backoff, end == End::closed_after_hello, started);
      if (urls.size() == 1) {
        co_await life.back_off(backoff);  // "reconnecting in N ms (attempt K)"
      } else {
        // The next URL gets a try at once (its instance may be fine); a full round of failures
        // waits as one gateway would.
        const size_t next = (current + 1) % urls.size();
        const std::chrono::milliseconds delay = next == 0 ? backoff.next() : opts.reconnect_min;
        spdlog::info("trying the next gateway URL, {}, in {} ms", opts.gateway_urls[next],
                     delay.count());
        current = next;
        co_await life.sleep_before_retry(delay);
      }
    }
  }

  int run() { return life.run(main_loop(), "gateway link failed"); }
};

GatewayLink::GatewayLink(LinkOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
GatewayLink::~GatewayLink() = default;

int GatewayLink::run() {
  return impl_->run();
}

}  // namespace vespid::agent
