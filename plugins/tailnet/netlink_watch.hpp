// Interface and address events from the kernel (rtnetlink), on the host's loop: a bursty
// series of events (an interface coming up brings several) becomes one "changed" after a short
// settle time.
#pragma once

#include <functional>
#include <memory>
#include <vespid/plugin.hpp>

namespace vespid::tailnet {

class NetlinkWatch {
 public:
  // Loop thread. Throws vsp::Error(VSP_E_IO) when the netlink socket cannot be opened.
  NetlinkWatch(vsp::Host host, std::uint32_t settle_ms, std::function<void()> changed);
  ~NetlinkWatch();
  NetlinkWatch(const NetlinkWatch&) = delete;
  NetlinkWatch& operator=(const NetlinkWatch&) = delete;

 private:
  void readable();

  vsp::Host host_;
  std::uint32_t settle_ms_;
  std::function<void()> changed_;
  int fd_ = -1;
  std::unique_ptr<vsp::Watch> watch_;
  std::unique_ptr<vsp::Timer> settle_;
};

}  // namespace vespid::tailnet
