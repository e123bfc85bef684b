// An AvahiPoll built on the host's fd watches and timers, so the Avahi client (and the D-Bus
// connection under it) runs on the gateway's loop thread: no thread of its own, no threaded poll.
#pragma once

#include <avahi-common/watch.h>

#include <vespid/plugin.hpp>

namespace vespid::bonjour {

class HostPoll {
 public:
  explicit HostPoll(vsp::Host host);
  HostPoll(const HostPoll&) = delete;
  HostPoll& operator=(const HostPoll&) = delete;

  const AvahiPoll* poll() const noexcept { return &poll_; }
  const vsp::Host& host() const noexcept { return host_; }

 private:
  vsp::Host host_;
  AvahiPoll poll_;
};

}  // namespace vespid::bonjour
