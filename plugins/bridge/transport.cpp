#include "transport.hpp"

#include <boost/asio/post.hpp>
#include <utility>

#include "net_util.hpp"
#include "plain_connection.hpp"
#include "tls_connection.hpp"
#include "tls_context.hpp"

namespace vespid::bridge {

namespace {

namespace ip = boost::asio::ip;

// Listening on a specific address other than these also listens on 127.0.0.1 (same port), so
// local tools keep working when the bridge is bound to, say, a tailnet address.
bool wants_loopback_companion(const ip::address& a) {
  if (a.is_unspecified()) return false;  // 0.0.0.0 / :: already cover loopback
  if (a.is_v4()) return a.to_v4() != ip::address_v4::loopback();
  return a.to_v6() != ip::address_v6::loopback();
}

}  // namespace

std::unique_ptr<BridgeTransport> BridgeTransport::create(vsp::Host host,
                                                         std::string_view config_json) {
  Config cfg = parse_config(config_json);
  return std::make_unique<BridgeTransport>(host, std::move(cfg));
}

BridgeTransport::BridgeTransport(vsp::Host host, Config cfg)
    : host_(host),
      cfg_(std::move(cfg)),
      pool_(cfg_.threads),
      alive_(std::make_shared<BridgeTransport*>(this)) {
  shared_.host = host_;
  shared_.dialect = cfg_.dialect;
  shared_.max_line_bytes = cfg_.max_line_bytes;
  shared_.send_queue_bytes = cfg_.send_queue_bytes;
  shared_.on_gone = [this](Connection* c) { connection_gone(c); };
}

BridgeTransport::~BridgeTransport() {
  // Normally stop() completed and the threads are joined. If the host gave up waiting (or start
  // failed), stop the threads now and drop what is left without calling the host back.
  *alive_ = nullptr;
  release_bind_watch();
  retry_.reset();
  pool_.stop_and_join();
  for (auto& l : listeners_) l->close();
  for (auto& [a, l] : bound_) l->close();
  std::lock_guard lock(mu_);
  conns_.clear();
}

// ---- Starting ------------------------------------------------------------------------------

void BridgeTransport::load_tls() {
  // This instance's own files win; then the gateway's (config_get returns the effective paths,
  // including its generated self-signed pair); then the gateway's documented defaults.
  auto pick = [this](const std::optional<std::string>& own, const char* key, const char* file) {
    if (own) return *own;
    if (auto gw = parse_path_value(host_.config_get(key), key)) return *gw;
    return host_.state_dir() + "/tls/" + file;
  };
  const std::string cert = pick(cfg_.cert_file, "tls.cert_file", "gateway.crt");
  const std::string key = pick(cfg_.key_file, "tls.key_file", "gateway.key");
  tls_ = make_server_tls_context(cert, key);
  host_.info("TLS certificate " + cert);
}

void BridgeTransport::open_listener(const ip::tcp::endpoint& ep) {
  auto l = std::make_unique<Listener>(
      host_, pool_, pool_.at(0),
      [this](ip::tcp::socket s, IoThread& io, Listener& from) { adopt(std::move(s), io, from); });
  l->open(ep);
  listeners_.push_back(std::move(l));
}

std::string BridgeTransport::mode_text() const {
  return std::string(cfg_.dialect) + (cfg_.tls ? ", TLS" : ", plain TCP");
}

void BridgeTransport::start() {
  if (cfg_.tls) load_tls();
  if (cfg_.bind) {
    start_bind_mode();
    return;
  }

  const ip::address addr = ip::make_address(cfg_.host);  // validated by parse_config
  const bool companion = cfg_.loopback_companion && wants_loopback_companion(addr);
  // The companion takes the primary's port on loopback. With an ephemeral port, another
  // program may already hold that port there; the port is the transport's to choose, so it
  // tries others before giving up.
  constexpr int kEphemeralTries = 8;
  for (int attempt = 1;; ++attempt) {
    open_listener(ip::tcp::endpoint(addr, cfg_.port));
    if (!companion) break;
    try {
      open_listener(ip::tcp::endpoint(ip::address_v4::loopback(), listeners_.front()->port()));
      break;
    } catch (const vsp::Error& e) {
      if (cfg_.port != 0 || e.status() != VSP_E_ADDR_IN_USE || attempt == kEphemeralTries) throw;
      host_.debug(std::string(e.what()) + "; trying another ephemeral port");
      listeners_.clear();
    }
  }
  const Listener& primary = *listeners_.front();
  const std::string mode = std::string(cfg_.dialect) + (cfg_.tls ? ", TLS" : ", plain TCP");
  host_.info("listening on " + primary.address() + " (" + mode +
             (cfg_.port == 0 ? ", ephemeral port " + std::to_string(primary.port()) : "") + ")");
  if (companion) {
    host_.info("listening on " + listeners_.back()->address() + " too (" + mode +
               "; loopback companion of " + primary.address() + ")");
  }

  // Nothing runs yet, so the accepts can be started from here.
  for (auto& l : listeners_) l->start_accepting();
  start_pool();
  if (host_.has_bind_api()) {
    const std::string a = addr.to_string();
    const char* addrs[] = {a.c_str()};
    vsp_listener_info info{
        sizeof info, VSP_SERVICE_BRIDGE, primary.port(), cfg_.tls ? VSP_CONN_TLS : 0u, addrs, 1};
    host_.api()->listener_update(host_.instance(), &info);
  }
}

void BridgeTransport::start_pool() {
  pool_.start(host_, std::chrono::microseconds(cfg_.busy_poll_us));
  pool_started_ = true;
  if (cfg_.busy_poll_us > 0) {
    host_.info("I/O threads poll for " + std::to_string(cfg_.busy_poll_us) +
               " us after their last work before sleeping (busy_poll_us): up to a core each "
               "while traffic flows");
  }
}

// ---- Accepting -----------------------------------------------------------------------------

void BridgeTransport::adopt(ip::tcp::socket socket, IoThread& io, Listener& from) {
  boost::system::error_code ec;
  const auto peer_ep = socket.remote_endpoint(ec);
  if (ec) return;  // already gone; the socket closes with this scope
  const std::string peer = format_endpoint(peer_ep);
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (conns_.size() >= cfg_.max_connections) {
      from.note_refused(peer, cfg_.max_connections);
      return;  // closed at once, with this scope
    }
  }
  if (std::string err = tune_accepted_socket(socket, cfg_.keepalive); !err.empty()) {
    host_.debug("socket options for " + peer + ": " + err);
  }
  const auto local_ep = socket.local_endpoint(ec);
  std::string local = ec ? from.address() : format_endpoint(local_ep);

  std::shared_ptr<Connection> conn;
  if (tls_) {
    conn = std::make_shared<TlsConnection>(shared_, io, std::move(socket), *tls_, peer,
                                           std::move(local));
  } else {
    conn =
        std::make_shared<PlainConnection>(shared_, io, std::move(socket), peer, std::move(local));
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    conns_.emplace(conn.get(), conn);
  }
  // The connection's own thread does the handshake and conn_open, so every host callback for
  // it comes from that one thread.
  boost::asio::post(io.ctx, [conn] { conn->start(); });
}

void BridgeTransport::connection_gone(Connection* c) {
  bool complete = false;
  {
    std::lock_guard lock(mu_);
    conns_.erase(c);
    if (stopping_ && conns_.empty() && !stop_scheduled_) {
      stop_scheduled_ = true;
      complete = true;
    }
  }
  if (complete) {
    // Threads are joined from the loop thread, never from one of themselves.
    std::shared_ptr<BridgeTransport*> alive = alive_;
    if (!host_.post([alive] {
          if (*alive) (*alive)->complete_stop();
        })) {
      host_.warn("cannot finish stopping: the gateway no longer runs tasks");
    }
  }
}

// ---- Stopping ------------------------------------------------------------------------------

void BridgeTransport::stop(std::function<void()> done) {
  stop_done_ = std::move(done);
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    open.reserve(conns_.size());
    for (auto& [ptr, conn] : conns_) open.push_back(conn);
  }
  release_bind_watch();
  if (pool_.running()) {
    for (auto& l : listeners_) {
      Listener* lp = l.get();
      boost::asio::post(lp->home().ctx, [lp] { lp->close(); });
    }
    for (auto& [a, l] : bound_) {
      Listener* lp = l.get();
      boost::asio::post(lp->home().ctx, [lp] { lp->close(); });
    }
  }
  for (auto& conn : open) conn->request_close(VSP_E_CLOSED, "gateway stopping");
  bool now = false;
  {
    std::lock_guard lock(mu_);
    if (conns_.empty() && !stop_scheduled_) {
      stop_scheduled_ = true;
      now = true;
    }
  }
  if (now) complete_stop();
}

void BridgeTransport::complete_stop() {
  pool_.stop_and_join();
  for (auto& l : listeners_) l->close();  // single-threaded now
  for (auto& [a, l] : bound_) l->close();
  if (auto done = std::exchange(stop_done_, nullptr)) done();
}

// ---- The host's calls on connections -------------------------------------------------------

int BridgeTransport::send(vsp_plugin_conn* conn, std::string_view message) noexcept {
  return Connection::from(conn)->send(message);
}

int BridgeTransport::send_batch(vsp_plugin_conn* conn, const vsp_msg* msgs,
                                std::size_t count) noexcept {
  return Connection::from(conn)->send_batch(msgs, count);
}

void BridgeTransport::close(vsp_plugin_conn* conn, int code, const char*) noexcept {
  Connection::from(conn)->request_close(code, "closed by the gateway");
}

}  // namespace vespid::bridge
