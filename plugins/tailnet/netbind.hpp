// One tailnet netbind instance: answers "tailnet", "auto" and "tailnet-dns" from the interfaces
// (and the MagicDNS hint), and tells the host when interface addresses change.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vespid/plugin.hpp>

#include "config.hpp"
#include "magicdns.hpp"
#include "netlink_watch.hpp"

namespace vespid::tailnet {

class TailnetNetbind {
 public:
  static std::unique_ptr<TailnetNetbind> create(vsp::Host host, std::string_view config_json);
  TailnetNetbind(vsp::Host host, Config cfg);

  void start();
  void stop(std::function<void()> done);
  int resolve(const std::string& spec, vsp_addr_sink_fn sink, void* ctx);
  void set_change_callback(vsp_netbind_changed_fn fn, void* ctx);

 private:
  void changed();
  std::string describe_current() const;

  vsp::Host host_;
  const Config cfg_;
  vsp_netbind_changed_fn notify_ = nullptr;
  void* notify_ctx_ = nullptr;
  std::string last_seen_;  // what the last scan found, to log changes once
  std::unique_ptr<NetlinkWatch> netlink_;
  std::unique_ptr<MagicDns> magicdns_;
};

}  // namespace vespid::tailnet
