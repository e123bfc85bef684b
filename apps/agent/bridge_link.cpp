#include "bridge_link.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>

#include "backoff.hpp"
#include "link_lifecycle.hpp"
#include "tls.hpp"
#include "tls_pin.hpp"

namespace vespid::agent {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
using namespace asio::experimental::awaitable_operators;

namespace {

std::string line_of(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace

struct BridgeLink::Impl {
  // How one connection ended.
  enum class End { failed, closed, refused, stopping };

  explicit Impl(BridgeLinkOptions o)
      : opts(std::move(o)),
        session(opts.identity, opts.token),
        life(static_cast<std::size_t>(std::max(1, opts.max_concurrent_invokes))) {
    opts.invoke.stop = &life.stopping;
    life.exit_code = kNodeStopped;
  }

  BridgeLinkOptions opts;
  NodeSession session;
  TlsPin pin;
  // The event loop, invoke pool, signals, stop and retry sleep (link_lifecycle.hpp); after
  // opts, which sizes its pool.
  LinkLifecycle life;

  // I/O thread only.
  std::deque<std::string> outbox;
  Clock::time_point last_rx;
  std::uint64_t generation = 0;  // of the connection: answers for an older one are dropped
  bool end_requested = false;    // a frame asked to end this connection
  End requested_end = End::closed;
  int running_invokes = 0;
  std::uint64_t pings = 0;

  std::string where() const {
    return std::string(opts.tls ? "tls://" : "tcp://") + opts.host + ":" +
           std::to_string(opts.port);
  }

  void enqueue(std::string line) {
    outbox.push_back(std::move(line));
    life.wake.cancel();
  }

  void end_connection(End how) {
    end_requested = true;
    requested_end = how;
    if (life.abort_connection) life.abort_connection();
  }

  void pairing_hint() const {
    spdlog::warn(
        "waiting for an operator to approve node {} (\"{}\"): on the gateway's machine run "
        "`vespid nodes pending` to see the request, then `vespid nodes approve <requestId> "
        "--org ORG`",
        opts.identity.node_id, opts.identity.display_name);
  }

  void run_invoke(json frame) {
    const json id = frame.contains("id") ? frame["id"] : json();
    const std::string command = frame.value("command", std::string());
    if (running_invokes >= opts.max_concurrent_invokes) {
      spdlog::warn("invoke {} refused: {} already running", command, running_invokes);
      enqueue(line_of(invoke_error(
          id, "UNAVAILABLE",
          "node busy: " + std::to_string(running_invokes) + " invokes already running")));
      return;
    }
    ++running_invokes;
    const std::uint64_t gen = generation;
    asio::post(life.pool, [this, frame = std::move(frame), gen] {
      auto emit = [this, gen](json ev) {
        asio::post(life.ioc, [this, gen, text = line_of(ev)]() mutable {
          if (gen == generation) enqueue(std::move(text));
        });
      };
      std::string answer = handle_invoke(frame, opts.invoke, emit) + "\n";
      asio::post(life.ioc, [this, gen, answer = std::move(answer)]() mutable {
        --running_invokes;
        // The gateway failed this invoke when its connection dropped; nobody waits for it.
        if (gen == generation) enqueue(std::move(answer));
      });
    });
  }

  void on_line(std::string_view text) {
    last_rx = Clock::now();
    if (text.empty() || text == "\r") return;
    const json frame = json::parse(text, nullptr, false);
    if (!frame.is_object() || !frame.contains("type") || !frame["type"].is_string()) {
      spdlog::warn("ignoring a line from the gateway that is not a JSON object with a type");
      return;
    }
    const std::string type = frame["type"].get<std::string>();
    SessionStep step = session.on_frame(frame);
    if (step.save_token) {
      if (opts.on_token) opts.on_token(*step.save_token);
      spdlog::info("paired: the gateway approved node {}; token saved", opts.identity.node_id);
    }
    if (step.forget_token) {
      if (opts.on_forget_token) opts.on_forget_token();
      spdlog::warn("the gateway does not know this node ({}); pairing again",
                   frame.value("message", std::string()));
    }
    for (const auto& f : step.send) enqueue(line_of(f));
    if (step.pairing) pairing_hint();
    if (step.authenticated) {
      spdlog::info("connected to {} as node {} (\"{}\"); serving {}", where(),
                   opts.identity.node_id, opts.identity.display_name, fmt_commands());
      if (opts.on_connected) opts.on_connected(where());
    }
    if (step.invoke) run_invoke(std::move(*step.invoke));
    if (type == "event") {
      spdlog::debug("event {}", frame.value("event", std::string("?")));
    } else if (type == "pong") {
      spdlog::debug("pong");
    }
    if (step.after == SessionStep::After::Stop) {
      spdlog::error("{}", step.message);
      life.exit_code = kNodeRefused;
      end_connection(End::refused);
    } else if (step.after == SessionStep::After::Reconnect) {
      spdlog::warn("{}; reconnecting", step.message);
      end_connection(End::closed);
    }
  }

  std::string fmt_commands() const {
    std::string out;
    for (const auto& c : opts.identity.commands) out += (out.empty() ? "" : ", ") + c;
    const auto& allow = opts.invoke.allow.entries();
    out += allow.empty() ? " (allowlist empty: system.run refuses everything)" : " (allowed:";
    for (const auto& a : allow) out += " " + a;
    if (!allow.empty()) out += ")";
    return out;
  }

  template <class Stream>
  awaitable<void> reader(Stream& s) {
    std::string buf;
    for (;;) {
      beast::error_code ec;
      auto dyn = asio::dynamic_buffer(buf, opts.max_line_bytes);
      const std::size_t n =
          co_await asio::async_read_until(s, dyn, '\n', asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (!life.stopping && !end_requested) {
          if (ec == asio::error::not_found) {
            spdlog::warn("a line from the gateway exceeds {} bytes; reconnecting",
                         opts.max_line_bytes);
          } else if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
            spdlog::warn("the gateway closed the connection");
          } else {
            spdlog::warn("connection lost: {}", ec.message());
          }
        }
        if (life.abort_connection) life.abort_connection();
        co_return;
      }
      on_line(std::string_view(buf.data(), n - 1));
      buf.erase(0, n);
      if (end_requested) co_return;
    }
  }

  template <class Stream>
  awaitable<void> writer(Stream& s) {
    for (;;) {
      while (!outbox.empty()) {
        const std::string text = std::move(outbox.front());
        outbox.pop_front();
        beast::error_code ec;
        co_await asio::async_write(s, asio::buffer(text), asio::redirect_error(use_awaitable, ec));
        if (ec) {
          if (!life.stopping) spdlog::warn("write failed: {}", ec.message());
          if (life.abort_connection) life.abort_connection();
          co_return;
        }
      }
      if (life.stopping || end_requested) co_return;
      co_await life.wait_for_wake();
    }
  }

  awaitable<void> heartbeat() {
    co_await life.heartbeat(
        opts.ping_interval, opts.idle_timeout, last_rx,
        [this] {
          enqueue(line_of({{"type", "ping"}, {"id", "node-" + std::to_string(++pings)}}));
        },
        [this] { return end_requested; });
  }

  template <class Stream>
  awaitable<End> converse(Stream& s) {
    ++generation;
    end_requested = false;
    outbox.clear();
    last_rx = Clock::now();
    for (const auto& f : session.on_open()) enqueue(line_of(f));
    co_await (reader(s) || writer(s) || heartbeat());
    if (session.authenticated() && opts.on_disconnected) opts.on_disconnected();
    if (life.stopping) co_return End::stopping;
    co_return end_requested ? requested_end : End::closed;
  }

  awaitable<End> connect_once() {
    auto ex = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(ex);
    beast::error_code ec;
    const auto results = co_await resolver.async_resolve(opts.host, std::to_string(opts.port),
                                                         asio::redirect_error(use_awaitable, ec));
    if (ec) {
      spdlog::warn("cannot resolve {}: {}", opts.host, ec.message());
      co_return End::failed;
    }
    // A stop during the lookup found no connection to abort (abort_connection is set only
    // below): do not go on to connect.
    if (life.stopping) co_return End::stopping;
    if (!opts.tls) {
      beast::tcp_stream s(ex);
      life.abort_connection = [&s] { s.socket().close(); };
      s.expires_after(opts.connect_timeout);
      co_await s.async_connect(results, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (!life.stopping) spdlog::warn("cannot connect to {}: {}", where(), ec.message());
        life.abort_connection = nullptr;
        co_return End::failed;
      }
      s.expires_never();
      s.socket().set_option(asio::ip::tcp::no_delay(true));
      const End end = co_await converse(s);
      life.abort_connection = nullptr;
      co_return end;
    }
    std::shared_ptr<asio::ssl::context> ctx = make_client_tls_context(opts.tls_ca_file);
    beast::ssl_stream<beast::tcp_stream> s(ex, *ctx);
    auto& low = beast::get_lowest_layer(s);
    life.abort_connection = [&low] { low.socket().close(); };
    low.expires_after(opts.connect_timeout);
    co_await low.async_connect(results, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (!life.stopping) spdlog::warn("cannot connect to {}: {}", where(), ec.message());
      life.abort_connection = nullptr;
      co_return End::failed;
    }
    low.socket().set_option(asio::ip::tcp::no_delay(true));
    prepare_client_tls(s.native_handle(), opts.host, !pin.empty());
    pin.apply(s);
    co_await s.async_handshake(asio::ssl::stream_base::client,
                               asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (!life.stopping) {
        // Nothing was sent: the node says nothing, its token least of all, to a gateway it
        // cannot verify. It keeps trying, so the real gateway is found again when it is back.
        if (auto why = pin.mismatch(where()); !why.empty()) {
          spdlog::error("refusing the gateway: {}", why);
        } else {
          spdlog::warn("TLS handshake with {} failed: {}", where(), ec.message());
        }
      }
      life.abort_connection = nullptr;
      co_return End::failed;
    }
    low.expires_never();
    const End end = co_await converse(s);
    life.abort_connection = nullptr;
    co_return end;
  }

  awaitable<void> main_loop() {
    try {
      pin = TlsPin(opts.tls_fingerprint);
      if (opts.tls) (void)make_client_tls_context(opts.tls_ca_file);  // a bad CA file: now
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      life.exit_code = kNodeConfig;
      co_return;
    }
    Backoff backoff(opts.reconnect_min, opts.reconnect_max);
    while (!life.stopping) {
      spdlog::info("connecting to {}", where());
      const auto started = Clock::now();
      const End end = co_await connect_once();
      if (end == End::refused) co_return;
      if (life.stopping || end == End::stopping) break;
      reset_backoff_if_held(backoff, end == End::closed, started);
      co_await life.back_off(backoff);  // "reconnecting in N ms (attempt K)"
    }
  }

  int run() { return life.run(main_loop(), "bridge link failed"); }
};

BridgeLink::BridgeLink(BridgeLinkOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
BridgeLink::~BridgeLink() = default;

int BridgeLink::run() {
  return impl_->run();
}

}  // namespace vespid::agent
