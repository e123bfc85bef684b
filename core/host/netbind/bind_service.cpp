#include "host/netbind/bind_service.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cstdio>

#include "host/plugins/plugin_instance.hpp"
#include "runtime/logging.hpp"
#include "runtime/loop.hpp"

struct vsp_host_bind {
  vespid::core::BindService* service;
  uint64_t id;
};

namespace vespid::core {

struct BindService::Watch {
  vsp_host_bind handle;
  std::string owner;  // instance name, for the log
  std::string spec;
  vsp_bind_fn fn;
  void* ctx;
  std::vector<std::string> current;
};

namespace {

std::shared_ptr<spdlog::logger> L() {
  return log::get("netbind");
}

void set_error(vsp_error* err, int status, const std::string& message) {
  if (err == nullptr) return;
  err->status = status;
  std::snprintf(err->message, sizeof err->message, "%s", message.c_str());
}

std::string join(const std::vector<std::string>& v) {
  if (v.empty()) return "(none)";
  std::string out;
  for (const auto& a : v) out += (out.empty() ? "" : ", ") + a;
  return out;
}

void deliver(vsp_bind_fn fn, void* ctx, const std::vector<std::string>& addrs) {
  std::vector<const char*> ptrs;
  ptrs.reserve(addrs.size());
  for (const auto& a : addrs) ptrs.push_back(a.c_str());
  fn(ctx, ptrs.data(), ptrs.size());
}

}  // namespace

BindService::BindService(Loop& loop) : loop_(loop), alive_(std::make_shared<BindService*>(this)) {}

BindService::~BindService() {
  *alive_ = nullptr;
  detach_netbinds();
}

void BindService::add_netbind(PluginInstance& instance) {
  netbinds_.push_back(&instance);
  if (instance.netbind().set_change_callback != nullptr) {
    instance.netbind().set_change_callback(
        instance.plugin(), [](void* self) { static_cast<BindService*>(self)->changed(); }, this);
  }
}

void BindService::detach_netbinds() {
  for (PluginInstance* nb : netbinds_) {
    if (nb->plugin() != nullptr && nb->netbind().set_change_callback != nullptr) {
      nb->netbind().set_change_callback(nb->plugin(), nullptr, nullptr);
    }
  }
  netbinds_.clear();
}

std::optional<std::vector<std::string>> BindService::static_addresses(const std::string& spec) {
  if (spec == "loopback") return std::vector<std::string>{"127.0.0.1"};
  // "lan" keeps its long-standing meaning: every interface.
  if (spec == "lan") return std::vector<std::string>{"0.0.0.0"};
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(spec, ec);
  if (!ec) return std::vector<std::string>{addr.to_string()};
  return std::nullopt;
}

std::optional<std::vector<std::string>> BindService::resolve(const std::string& spec,
                                                             std::string& error, int& status) {
  if (auto fixed = static_addresses(spec)) return fixed;
  for (PluginInstance* nb : netbinds_) {
    if (nb->plugin() == nullptr || nb->netbind().resolve == nullptr) continue;
    std::vector<std::string> out;
    vsp_error err{};
    err.struct_size = sizeof err;
    int rc = nb->netbind().resolve(
        nb->plugin(), spec.c_str(),
        [](void* ctx, const char* a) {
          if (a != nullptr) static_cast<std::vector<std::string>*>(ctx)->emplace_back(a);
        },
        &out, &err);
    if (rc == VSP_E_UNSUPPORTED) continue;
    std::sort(out.begin(), out.end());  // a set: order must not look like a change
    if (rc != VSP_OK) {
      status = rc;
      error = "netbind instance \"" + nb->name() + "\" cannot resolve bind \"" + spec +
              "\": " + err.message;
      return std::nullopt;
    }
    return out;
  }
  status = VSP_E_UNSUPPORTED;
  error = netbinds_.empty()
              ? "bind \"" + spec +
                    "\" needs a netbind plugin instance; add {\"name\": \"tailnet\", \"plugin\": "
                    "\"tailnet\"} to plugins.instances (see docs/tailnet.md)"
              : "no netbind instance understands bind \"" + spec +
                    "\" (the core knows loopback, lan and address literals)";
  return std::nullopt;
}

int BindService::watch(PluginInstance& owner, const std::string& spec, vsp_bind_fn fn, void* ctx,
                       vsp_host_bind** out, vsp_error* err) {
  std::string error;
  int status = VSP_OK;
  auto addrs = resolve(spec, error, status);
  if (!addrs) {
    set_error(err, status, error);
    return status;
  }
  auto w = std::make_unique<Watch>();
  w->handle = {this, next_id_++};
  w->owner = owner.name();
  w->spec = spec;
  w->fn = fn;
  w->ctx = ctx;
  w->current = *addrs;
  vsp_host_bind* handle = &w->handle;
  uint64_t id = w->handle.id;
  watches_.emplace(id, std::move(w));
  *out = handle;
  L()->info("\"{}\" binds \"{}\": {}", owner.name(), spec, join(*addrs));
  deliver(fn, ctx, *addrs);
  return VSP_OK;
}

void BindService::unwatch(vsp_host_bind* w) {
  if (w == nullptr) return;
  w->service->remove(w->id);
}

void BindService::remove(uint64_t id) {
  watches_.erase(id);
}

void BindService::changed() {
  if (refresh_pending_) return;
  refresh_pending_ = true;
  std::shared_ptr<BindService*> alive = alive_;
  loop_.post([alive] {
    if (*alive) (*alive)->refresh();
  });
}

void BindService::refresh() {
  refresh_pending_ = false;
  std::vector<uint64_t> ids;
  for (const auto& [id, w] : watches_) ids.push_back(id);
  for (uint64_t id : ids) {
    auto it = watches_.find(id);
    if (it == watches_.end()) continue;  // unwatched by an earlier callback of this round
    Watch& w = *it->second;
    std::string error;
    int status = VSP_OK;
    auto addrs = resolve(w.spec, error, status);
    if (!addrs) {
      L()->warn("\"{}\": keeping its addresses: {}", w.owner, error);
      continue;
    }
    if (*addrs == w.current) continue;
    L()->info("\"{}\" bind \"{}\" changed: {} -> {}", w.owner, w.spec, join(w.current),
              join(*addrs));
    w.current = *addrs;
    std::vector<std::string> copy = *addrs;  // the callback may unwatch (free w)
    deliver(w.fn, w.ctx, copy);
  }
  if (on_refresh_) on_refresh_();
}

}  // namespace vespid::core
