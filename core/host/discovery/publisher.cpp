#include "host/discovery/publisher.hpp"

#include "host/plugins/plugin_instance.hpp"
#include "runtime/logging.hpp"
#include "runtime/loop.hpp"

namespace vespid::core {

namespace {

std::shared_ptr<spdlog::logger> L() {
  return log::get("discovery");
}

vsp_error fresh_error() {
  vsp_error e{};
  e.struct_size = sizeof e;
  return e;
}

}  // namespace

DiscoveryPublisher::DiscoveryPublisher(Loop& loop, discovery::Settings settings,
                                       std::function<std::string(PluginInstance&)> fingerprint)
    : loop_(loop),
      settings_(std::move(settings)),
      fingerprint_(std::move(fingerprint)),
      alive_(std::make_shared<DiscoveryPublisher*>(this)) {}

DiscoveryPublisher::~DiscoveryPublisher() {
  *alive_ = nullptr;
}

void DiscoveryPublisher::add_discovery(PluginInstance& instance) {
  targets_.push_back(Target{&instance, {}});
  schedule();
}

void DiscoveryPublisher::set_tailnet_dns(const std::string& name) {
  if (name == settings_.tailnet_dns) return;
  settings_.tailnet_dns = name;
  schedule();
}

void DiscoveryPublisher::listener_update(PluginInstance& from, const vsp_listener_info& info) {
  if (info.address_count == 0) {
    if (listeners_.erase(from.name()) > 0) schedule();
    return;
  }
  discovery::ListenerFacts f;
  f.instance = from.name();
  f.service = info.service ? info.service : "";
  f.port = info.port;
  f.tls = (info.flags & VSP_CONN_TLS) != 0;
  f.api = (info.flags & VSP_LISTENER_API) != 0;
  for (size_t i = 0; i < info.address_count; ++i) {
    if (info.addresses[i] != nullptr) f.addresses.emplace_back(info.addresses[i]);
  }
  if (f.tls) {
    try {
      f.tls_sha256 = fingerprint_(from);
    } catch (const std::exception& e) {
      L()->warn("no TLS fingerprint for \"{}\" in its TXT record: {}", from.name(), e.what());
    }
  }
  listeners_[from.name()] = std::move(f);
  schedule();
}

void DiscoveryPublisher::schedule() {
  if (sync_pending_) return;
  sync_pending_ = true;
  std::shared_ptr<DiscoveryPublisher*> alive = alive_;
  loop_.post([alive] {
    if (*alive) (*alive)->sync();
  });
}

void DiscoveryPublisher::sync() {
  sync_pending_ = false;
  std::vector<discovery::ListenerFacts> facts;
  for (const auto& [name, f] : listeners_) facts.push_back(f);
  const std::vector<discovery::Record> records = discovery::compose(settings_, facts);

  for (auto& t : targets_) {
    PluginInstance& inst = *t.instance;
    if (inst.plugin() == nullptr) continue;
    const vsp_discovery_vtbl& d = inst.discovery();
    std::map<std::string, std::pair<uint64_t, discovery::Record>> next;
    for (const auto& r : records) {
      uint64_t handle = 0;
      if (auto it = t.published.find(r.key); it != t.published.end()) {
        handle = it->second.first;
        if (it->second.second == r) {
          next.emplace(r.key, it->second);
          continue;
        }
      }
      std::vector<const char*> txt;
      for (const auto& kv : r.txt) txt.push_back(kv.c_str());
      vsp_service_record rec{sizeof(vsp_service_record),
                             r.instance_name.c_str(),
                             r.type.c_str(),
                             nullptr,
                             nullptr,
                             r.port,
                             txt.data(),
                             txt.size()};
      vsp_error err = fresh_error();
      int rc = d.publish ? d.publish(inst.plugin(), &rec, &handle, &err) : VSP_E_UNSUPPORTED;
      if (rc != VSP_OK) {
        L()->warn("\"{}\" could not publish {} \"{}\": {}", inst.name(), r.type, r.instance_name,
                  err.message);
        continue;
      }
      L()->info("\"{}\" publishes {} \"{}\" on port {}", inst.name(), r.type, r.instance_name,
                r.port);
      next.emplace(r.key, std::make_pair(handle, r));
    }
    for (const auto& [key, entry] : t.published) {
      if (next.count(key) == 0 && d.withdraw) {
        L()->info("\"{}\" withdraws {} \"{}\"", inst.name(), entry.second.type,
                  entry.second.instance_name);
        d.withdraw(inst.plugin(), entry.first);
      }
    }
    t.published = std::move(next);
  }
}

void DiscoveryPublisher::withdraw_all() {
  for (auto& t : targets_) {
    PluginInstance& inst = *t.instance;
    if (inst.plugin() == nullptr || inst.discovery().withdraw == nullptr) continue;
    for (const auto& [key, entry] : t.published)
      inst.discovery().withdraw(inst.plugin(), entry.first);
  }
  targets_.clear();
}

}  // namespace vespid::core
