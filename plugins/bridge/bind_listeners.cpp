// Bind mode: the bridge listens wherever the gateway's bind_watch says its spec points, and
// follows it. A "tailnet" bridge started before the tailnet is up listens only on its loopback
// companion and logs that it waits; when a tailnet address appears it binds it, when the address
// moves it rebinds, when it goes it closes. It never falls back to a wildcard address.
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <utility>

#include "transport.hpp"

namespace vespid::bridge {

namespace {

namespace ip = boost::asio::ip;

constexpr std::uint64_t kRetryMs = 1000;  // an address we could not bind yet (IPv6 DAD, races)

}  // namespace

void BridgeTransport::start_bind_mode() {
  if (!host_.has_bind_api()) {
    throw vsp::Error(VSP_E_UNSUPPORTED,
                     "bridge: config key \"bind\" needs a gateway with plugin ABI 1.1 or newer "
                     "(bind_watch); use \"host\" on this gateway");
  }
  const std::string& spec = *cfg_.bind;
  port_ = cfg_.port;
  if (cfg_.loopback_companion && vsp::bind_spec_wants_loopback_companion(spec)) {
    open_listener(ip::tcp::endpoint(ip::address_v4::loopback(), port_));
    port_ = listeners_.back()->port();  // fixes an ephemeral port for every later listener
    companion_address_ = "127.0.0.1";
    host_.info("listening on " + listeners_.back()->address() + " (" + mode_text() +
               "; loopback companion of bind \"" + spec + "\")");
  }
  retry_ = std::make_unique<vsp::Timer>(host_, [this] { apply_addresses(wanted_); });

  vsp_error err{};
  err.struct_size = sizeof err;
  // The first address set arrives inside this call, before it returns.
  int rc = host_.api()->bind_watch(
      host_.instance(), spec.c_str(),
      [](void* ctx, const char* const* addrs, size_t n) {
        auto* self = static_cast<BridgeTransport*>(ctx);
        std::vector<std::string> wanted;
        for (size_t i = 0; i < n; ++i) wanted.emplace_back(addrs[i]);
        try {
          self->apply_addresses(std::move(wanted));
        } catch (const std::exception& e) {
          self->host_.error(std::string("bridge: cannot follow the bind addresses: ") + e.what());
        }
      },
      this, &bind_watch_, &err);
  if (rc != VSP_OK) {
    throw vsp::Error(rc, std::string("bridge: config key \"bind\": ") + err.message);
  }
  for (auto& l : listeners_) l->start_accepting();
  start_pool();
}

void BridgeTransport::apply_addresses(std::vector<std::string> wanted) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
  }
  // The companion already serves loopback ("auto" without a tailnet resolves to it).
  std::erase(wanted, companion_address_);
  wanted_ = wanted;
  std::vector<std::string> gone;
  for (const auto& [address, l] : bound_) {
    if (std::find(wanted.begin(), wanted.end(), address) == wanted.end()) gone.push_back(address);
  }
  for (const auto& address : gone) close_bound(address, "no longer an address of bind");
  failed_.clear();
  for (const auto& address : wanted) {
    if (bound_.count(address) == 0) open_bound(address);
  }
  if (!failed_.empty()) retry_->arm(kRetryMs);
  if (bound_.empty()) {
    host_.info(
        "bind \"" + *cfg_.bind + "\": no address yet; waiting for one" +
        (companion_address_.empty() ? std::string() : " (the loopback companion keeps listening)"));
  }
  announce();
}

void BridgeTransport::open_bound(const std::string& address) {
  boost::system::error_code ec;
  const auto addr = ip::make_address(address, ec);
  if (ec) {
    host_.warn("bind \"" + *cfg_.bind + "\" gave \"" + address + "\", not an address; ignored");
    return;
  }
  auto l = std::make_unique<Listener>(
      host_, pool_, pool_.at(0),
      [this](ip::tcp::socket s, IoThread& io, Listener& from) { adopt(std::move(s), io, from); });
  try {
    l->open(ip::tcp::endpoint(addr, port_));
  } catch (const vsp::Error& e) {
    host_.warn(std::string(e.what()) + "; retrying while the address stays");
    failed_.insert(address);
    return;
  }
  if (port_ == 0) port_ = l->port();
  host_.info("listening on " + l->address() + " (" + mode_text() + "; bind \"" + *cfg_.bind +
             "\")");
  Listener* lp = l.get();
  bound_.emplace(address, std::move(l));
  if (pool_started_) {
    boost::asio::post(lp->home().ctx, [lp] { lp->start_accepting(); });
  } else {
    lp->start_accepting();  // nothing runs yet; the pool starts after
  }
}

void BridgeTransport::close_bound(const std::string& address, const char* why) {
  auto it = bound_.find(address);
  if (it == bound_.end()) return;
  host_.info("closing the listener on " + it->second->address() + " (" + why + " \"" + *cfg_.bind +
             "\")");
  Listener* lp = it->second.get();
  if (pool_.running()) {
    boost::asio::post(lp->home().ctx, [lp] { lp->close(); });
  } else {
    lp->close();
  }
  // Connections accepted on it stay; only the listening socket goes. The object lives until the
  // threads are joined, since its close may still be queued on them.
  retired_.push_back(std::move(it->second));
  bound_.erase(it);
}

void BridgeTransport::announce() {
  std::vector<const char*> addrs;
  for (const auto& [address, l] : bound_) addrs.push_back(address.c_str());
  vsp_listener_info info{sizeof info,  VSP_SERVICE_BRIDGE, port_, cfg_.tls ? VSP_CONN_TLS : 0u,
                         addrs.data(), addrs.size()};
  host_.api()->listener_update(host_.instance(), &info);
}

void BridgeTransport::release_bind_watch() {
  if (retry_) retry_->disarm();
  if (bind_watch_ != nullptr) {
    host_.api()->bind_unwatch(bind_watch_);
    bind_watch_ = nullptr;
  }
}

}  // namespace vespid::bridge
