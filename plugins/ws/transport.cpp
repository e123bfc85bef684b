#include "transport.hpp"

#include <pthread.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstddef>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>

#include "session.hpp"
#include "tls.hpp"

namespace vespid::ws {

namespace net = boost::asio;

namespace {

// After stop() asks every connection to close, this long is given to closing handshakes and
// last responses before the sockets are cut.
constexpr auto kStopGrace = std::chrono::seconds(3);

// A gateway config value that is a JSON string, or "" when absent.
std::string config_string(const vsp::Host& host, const char* path) {
  const std::string text = host.config_get(path);
  if (text.empty()) return {};
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.is_string()) return j.get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  throw vsp::Error(VSP_E_INVALID,
                   std::string("ws: gateway config key \"") + path + "\" must be a string");
}

}  // namespace

std::unique_ptr<WsTransport> WsTransport::create(vsp::Host host, std::string_view config_json) {
  return std::make_unique<WsTransport>(host, parse_config(config_json));
}

WsTransport::WsTransport(vsp::Host host, Config cfg)
    : host_(host), shared_(std::make_shared<Shared>(host, std::move(cfg))) {}

WsTransport::~WsTransport() {
  // Normally stop() finished everything. If the host gave up waiting (or start failed), stop
  // the threads first so that nothing calls the host after destroy returns; then drop what is
  // left without telling the host.
  halt_threads();
  auto left = shared_->registry.take_all();
  left.clear();
  release_bind_watch();
  listener_.reset();
  bound_.clear();
  stop_grace_.reset();
  work_.clear();
  iocs_.clear();  // destroys pending handlers and the sessions they hold
}

void WsTransport::load_tls() {
  const Config& cfg = shared_->cfg;
  std::string cert = cfg.cert_file;
  std::string key = cfg.key_file;
  if (cert.empty()) cert = config_string(host_, "tls.cert_file");
  if (key.empty()) key = config_string(host_, "tls.key_file");
  shared_->tls = make_server_tls(
      cert, key, cfg.tls_ciphersuites.empty() ? kDefaultCiphersuites : cfg.tls_ciphersuites);
}

void WsTransport::start() {
  const Config& cfg = shared_->cfg;
  if (cfg.tls) load_tls();
  if (!cfg.static_dir.empty()) shared_->files = StaticFiles(cfg.static_dir);
  if (!cfg.echo_path.empty()) {
    host_.warn("echo_path is set: " + cfg.echo_path +
               " echoes every WebSocket message to anyone who connects, without credentials; "
               "it is meant for conformance suites, not for production");
  }

  for (unsigned i = 0; i < cfg.threads; ++i) {
    iocs_.push_back(std::make_unique<net::io_context>(1));
    work_.push_back(net::make_work_guard(*iocs_.back()));
    raw_iocs_.push_back(iocs_.back().get());
  }
  if (cfg.bind) {
    start_bind_mode();
    return;
  }
  listener_ = std::make_shared<Listener>(shared_, raw_iocs_);
  const auto bound = listener_->bind(cfg.host, cfg.port);
  log_listening(bound, "");

  for (std::size_t i = 0; i < iocs_.size(); ++i)
    threads_.emplace_back([this, i] { run_thread(i); });
  listener_->start();
  announce({bound.address().to_string()}, bound.port());
}

void WsTransport::log_listening(const net::ip::tcp::endpoint& bound, const std::string& why) {
  const Config& cfg = shared_->cfg;
  std::string routes;
  for (const auto& r : cfg.routes) routes += (routes.empty() ? "" : ", ") + r.describe();
  host_.info(std::string("listening on ") + (cfg.tls ? "https+wss://" : "http+ws://") +
             endpoint_text(bound) + " (port " + std::to_string(bound.port()) +
             (why.empty() ? "" : "; " + why) + "); routes: " + routes);
}

void WsTransport::close_listeners() {
  std::vector<std::shared_ptr<Listener>> all;
  if (listener_) all.push_back(listener_);
  for (auto& [address, l] : bound_) all.push_back(l);
  if (all.empty()) {
    shared_->registry.listener_closed();
    return;
  }
  auto left = std::make_shared<std::atomic<std::size_t>>(all.size());
  for (auto& l : all) {
    l->stop([left, shared = shared_] {
      if (left->fetch_sub(1) == 1) shared->registry.listener_closed();
    });
  }
}

void WsTransport::announce(const std::vector<std::string>& addresses, std::uint16_t port) {
  // Discovery publishes the /ws listener as the WebSocket gateway when it is bound beyond
  // loopback, and tells node hosts in its TXT where the REST API is (they pair there). A
  // listener with neither (control clients only, static files) is not announced: a record
  // pointing node hosts at it would lead them nowhere. listener_update exists on ABI 1.1 hosts
  // only.
  const vsp_host_api* api = host_.api();
  if (!VSP_HAS_MEMBER(vsp_host_api, api, listener_update) || !api->listener_update) return;
  const Served served = served_by(shared_->cfg.routes);
  if (!served.node_ws && !served.rest_api) return;
  uint32_t flags = shared_->cfg.tls ? VSP_CONN_TLS : 0u;
  if (served.node_ws && served.rest_api) flags |= VSP_LISTENER_API;
  std::vector<const char*> addrs;
  for (const auto& a : addresses) addrs.push_back(a.c_str());
  vsp_listener_info info{sizeof info,  served.node_ws ? VSP_SERVICE_GATEWAY : VSP_SERVICE_API,
                         port,         flags,
                         addrs.data(), addrs.size()};
  api->listener_update(host_.instance(), &info);
}

void WsTransport::run_thread(std::size_t index) {
  const std::string name = "vsp-ws-" + std::to_string(index);
  ::pthread_setname_np(::pthread_self(), name.c_str());
  net::io_context& ioc = *iocs_[index];
  // Registered with the host (ABI 1.6) before this thread serves anything, so that the host can
  // queue work of this thread's shard of the core for it. A run it asks for is a task on this
  // thread's io_context: queued ones are dropped with it, and the host hands their work on.
  std::optional<vsp::IoThreadLink> link;
  try {
    link.emplace(host_, [&ioc, &link]() -> int {
      if (ioc.stopped()) return VSP_E_CLOSED;
      net::post(ioc, [&link] { link->run(); });
      return VSP_OK;
    });
  } catch (const std::bad_alloc&) {
    host_.warn(
        "I/O thread: not registered with the host (out of memory); it serves its "
        "connections without it");
  }
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      host_.error(std::string("I/O thread caught an exception: ") + e.what());
    } catch (...) {
      host_.error("I/O thread caught an unknown exception");
    }
  }
}

void WsTransport::stop(std::function<void()> done) {
  stop_done_ = std::move(done);
  std::weak_ptr<int> alive = alive_;
  vsp::Host host = host_;
  auto sessions = shared_->registry.begin_stop([this, alive, host] {
    // Runs on whichever I/O thread closed the last connection (or the listener): the threads
    // are joined from the loop thread, never from one of themselves.
    host.post([this, alive] {
      if (alive.lock()) finish_stop();
    });
  });
  release_bind_watch();
  close_listeners();
  for (auto& s : sessions) {
    net::post(s->executor(), [s] { s->begin_stop(); });
  }
  stop_grace_ = std::make_unique<net::steady_timer>(*iocs_.front(), kStopGrace);
  stop_grace_->async_wait([shared = shared_](beast::error_code ec) {
    if (ec) return;
    for (auto& s : shared->registry.snapshot()) {
      net::post(s->executor(), [s] { s->abort(); });
    }
  });
}

void WsTransport::finish_stop() {
  halt_threads();
  if (stop_done_) std::exchange(stop_done_, nullptr)();
}

void WsTransport::halt_threads() {
  for (auto& w : work_) w.reset();
  for (auto& ioc : iocs_) ioc->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

int WsTransport::send(vsp_plugin_conn* conn, std::string_view message) noexcept {
  return Session::from(conn)->send(message);
}

void WsTransport::close(vsp_plugin_conn* conn, int code, const char* reason) noexcept {
  Session::from(conn)->close(code, reason);
}

void WsTransport::admit(vsp_plugin_conn* conn, int status, int http_status, std::string_view body) {
  Session::from(conn)->admit(status, http_status, body);
}

}  // namespace vespid::ws
