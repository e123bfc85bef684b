// Bind mode: the ws instance listens wherever the gateway's bind_watch says its spec points, and
// follows it, the same way the bridge does (plugins/bridge/bind_listeners.cpp). A "tailnet" API
// started before the tailnet is up listens only on its loopback companion and logs that it
// waits; when a tailnet address appears it binds it, when the address moves it rebinds, when it
// goes it closes. It never falls back to a wildcard address. Connections accepted on a listener
// that closes stay open; only the listening socket goes.
#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <utility>

#include "transport.hpp"

namespace vespid::ws {

namespace {

namespace ip = boost::asio::ip;

constexpr std::uint64_t kRetryMs = 1000;  // an address we could not bind yet (IPv6 DAD, races)

}  // namespace

void WsTransport::start_bind_mode() {
  if (!host_.has_bind_api()) {
    throw vsp::Error(VSP_E_UNSUPPORTED,
                     "ws: config key \"bind\" needs a gateway with plugin ABI 1.1 or newer "
                     "(bind_watch); use \"host\" on this gateway");
  }
  const Config& cfg = shared_->cfg;
  const std::string& spec = *cfg.bind;
  port_ = cfg.port;
  if (cfg.loopback_companion && vsp::bind_spec_wants_loopback_companion(spec)) {
    listener_ = std::make_shared<Listener>(shared_, raw_iocs_);
    const auto bound = listener_->bind("127.0.0.1", port_);
    port_ = bound.port();  // fixes an ephemeral port for every later listener
    companion_address_ = "127.0.0.1";
    log_listening(bound, "loopback companion of bind \"" + spec + "\"");
    listener_->start();
  }
  retry_ = std::make_unique<vsp::Timer>(host_, [this] { apply_addresses(wanted_); });

  vsp_error err{};
  err.struct_size = sizeof err;
  // The first address set arrives inside this call, before it returns.
  const int rc = host_.api()->bind_watch(
      host_.instance(), spec.c_str(),
      [](void* ctx, const char* const* addrs, size_t n) {
        auto* self = static_cast<WsTransport*>(ctx);
        std::vector<std::string> wanted;
        for (size_t i = 0; i < n; ++i) wanted.emplace_back(addrs[i]);
        try {
          self->apply_addresses(std::move(wanted));
        } catch (const std::exception& e) {
          self->host_.error(std::string("ws: cannot follow the bind addresses: ") + e.what());
        }
      },
      this, &bind_watch_, &err);
  if (rc != VSP_OK) throw vsp::Error(rc, std::string("ws: config key \"bind\": ") + err.message);
  for (std::size_t i = 0; i < iocs_.size(); ++i)
    threads_.emplace_back([this, i] { run_thread(i); });
}

void WsTransport::apply_addresses(std::vector<std::string> wanted) {
  if (stopping_) return;
  // The companion already serves loopback ("auto" without a tailnet resolves to it).
  std::erase(wanted, companion_address_);
  wanted_ = wanted;
  std::vector<std::string> gone;
  for (const auto& [address, l] : bound_) {
    if (std::find(wanted.begin(), wanted.end(), address) == wanted.end()) gone.push_back(address);
  }
  for (const auto& address : gone) close_bound(address);
  failed_.clear();
  for (const auto& address : wanted) {
    if (bound_.count(address) == 0) open_bound(address);
  }
  if (!failed_.empty()) retry_->arm(kRetryMs);
  if (bound_.empty()) {
    host_.info(
        "bind \"" + *shared_->cfg.bind + "\": no address yet; waiting for one" +
        (companion_address_.empty() ? std::string() : " (the loopback companion keeps listening)"));
  }
  std::vector<std::string> addresses;
  for (const auto& [address, l] : bound_) addresses.push_back(address);
  announce(addresses, port_);
}

void WsTransport::open_bound(const std::string& address) {
  auto l = std::make_shared<Listener>(shared_, raw_iocs_);
  net::ip::tcp::endpoint bound;
  try {
    bound = l->bind(address, port_);
  } catch (const vsp::Error& e) {
    host_.warn(std::string(e.what()) + "; retrying while the address stays");
    failed_.insert(address);
    return;
  }
  if (port_ == 0) port_ = bound.port();
  log_listening(bound, "bind \"" + *shared_->cfg.bind + "\"");
  l->start();
  bound_.emplace(address, std::move(l));
}

void WsTransport::close_bound(const std::string& address) {
  auto it = bound_.find(address);
  if (it == bound_.end()) return;
  host_.info("closing the listener on " + address + " (no longer an address of bind \"" +
             *shared_->cfg.bind + "\")");
  it->second->stop();  // the posted close keeps the listener alive until it has run
  bound_.erase(it);
}

void WsTransport::release_bind_watch() {
  stopping_ = true;
  if (retry_) retry_->disarm();
  if (bind_watch_ != nullptr) {
    host_.api()->bind_unwatch(bind_watch_);
    bind_watch_ = nullptr;
  }
}

}  // namespace vespid::ws
