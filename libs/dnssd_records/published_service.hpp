// What the two DNS-SD publishers (the bonjour plugin over Avahi's D-Bus client, the dnssd plugin
// over dns_sd.h) keep of a record the core handed them, and the rules they must apply alike so a
// gateway looks the same on the LAN whichever one runs: the instance name cut to one DNS label,
// the next name after a collision ("Name #2", as Avahi names it), the record copied out of the
// borrowed vsp_service_record, and the config keys both accept. No I/O and no mDNS library here,
// so it is unit-tested on its own.
#pragma once

#include <vespid/discovery.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include <vespid/plugin.hpp>

namespace vespid::dnssd {

// The longest instance name: it is one DNS label.
inline constexpr std::size_t kMaxLabel = 63;

// `name` cut to kMaxLabel bytes without splitting a UTF-8 sequence.
std::string dns_label(std::string name);

// The name to try after `name` collided: "Name" -> "Name #2", "Name #2" -> "Name #3", still one
// label (the base is cut to make room for the suffix).
std::string alternative_name(const std::string& name);

// A record as a publisher keeps it.
struct PublishedService {
  std::string wanted_name;         // as the core asked, cut to one label
  std::string name;                // as published (after collisions)
  std::string type, domain, host;  // domain and host empty: the daemon's defaults
  std::uint16_t port = 0;
  std::vector<std::string> txt;  // "key=value", in the core's order

  // Copies `r` (borrowed for the call). A new instance name starts over; a replaced record with
  // the same name keeps its collision rename. Throws vsp::Error(VSP_E_INVALID) without a name
  // or type; `plugin` prefixes that message.
  void assign(const vsp_service_record& r, std::string_view plugin);
};

// The records a publisher keeps, by the handle it gave the core. Entry derives from
// PublishedService and adds the publisher's own state (an entry group, a DNSServiceRef).
template <class Entry>
class ServiceTable {
 public:
  // Copies `r` into the entry *handle names, or into a new one when *handle is 0 or unknown, and
  // sets *handle. Throws (keeping nothing new) on a bad record.
  Entry& put(const vsp_service_record& r, std::uint64_t* handle, std::string_view plugin) {
    if (handle == nullptr) throw vsp::Error(VSP_E_INVALID, std::string(plugin) + ": no handle");
    if (auto it = entries_.find(*handle); *handle != 0 && it != entries_.end()) {
      it->second->assign(r, plugin);
      return *it->second;
    }
    auto made = std::make_unique<Entry>();
    made->assign(r, plugin);
    *handle = next_handle_++;
    return *entries_.emplace(*handle, std::move(made)).first->second;
  }
  // Removes the entry and hands it back, or nullptr for an unknown handle.
  std::unique_ptr<Entry> take(std::uint64_t handle) {
    auto it = entries_.find(handle);
    if (it == entries_.end()) return nullptr;
    std::unique_ptr<Entry> e = std::move(it->second);
    entries_.erase(it);
    return e;
  }
  // (handle, unique_ptr<Entry>) pairs in handle order.
  auto begin() { return entries_.begin(); }
  auto end() { return entries_.end(); }
  bool empty() const { return entries_.empty(); }

 private:
  std::map<std::uint64_t, std::unique_ptr<Entry>> entries_;
  std::uint64_t next_handle_ = 1;
};

// The config both publishers accept.
struct PublisherConfig {
  std::uint32_t reconnect_ms = 5000;  // retry interval while the mDNS daemon cannot be reached
};
// Throws vsp::Error (through vsp::config::invalid) naming `plugin` on an unknown key or a bad
// value.
PublisherConfig parse_publisher_config(std::string_view json, std::string_view plugin);

}  // namespace vespid::dnssd
