// Bind specs to addresses for listeners (the host's bind_watch service, ABI 1.1).
//
// The core answers what needs no plugin ("loopback", "lan", address literals) and asks the
// loaded netbind instances, in configuration order, for everything else ("tailnet", "auto").
// A netbind instance says "something changed"; the service then resolves every live watch again
// (once per loop turn, however many changes came in) and calls back only the watches whose
// address set differs, so a listener rebinds exactly when it has to.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vespid/vespid.h"

namespace vespid::core {

class Loop;
class PluginInstance;

class BindService {
 public:
  explicit BindService(Loop& loop);
  ~BindService();
  BindService(const BindService&) = delete;
  BindService& operator=(const BindService&) = delete;

  // A started netbind instance; its change callback is registered here.
  void add_netbind(PluginInstance& instance);
  // Clears every netbind change callback (before those instances stop).
  void detach_netbinds();

  // host->bind_watch. Calls fn with the initial set before returning.
  int watch(PluginInstance& owner, const std::string& spec, vsp_bind_fn fn, void* ctx,
            vsp_host_bind** out, vsp_error* err);
  // host->bind_unwatch. Safe inside the watch's own callback.
  static void unwatch(vsp_host_bind* w);

  // One resolution without a watch. nullopt (and `error`) when no one understands the spec.
  std::optional<std::vector<std::string>> resolve(const std::string& spec, std::string& error,
                                                  int& status);

  // Called after every round of re-resolution (a netbind instance reported a change).
  void set_on_refresh(std::function<void()> fn) { on_refresh_ = std::move(fn); }

  // The specs the core answers itself: normalised address list, or nullopt for "ask netbind".
  static std::optional<std::vector<std::string>> static_addresses(const std::string& spec);

 private:
  struct Watch;
  void changed();
  void refresh();
  void remove(uint64_t id);

  Loop& loop_;
  std::vector<PluginInstance*> netbinds_;
  std::map<uint64_t, std::unique_ptr<Watch>> watches_;
  uint64_t next_id_ = 1;
  bool refresh_pending_ = false;
  std::function<void()> on_refresh_;
  std::shared_ptr<BindService*> alive_;
};

}  // namespace vespid::core
