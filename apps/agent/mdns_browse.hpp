// Finds DNS-SD services on the LAN through avahi-daemon (libavahi-client on the system D-Bus):
// browses one service type in every domain Avahi browses by default, resolves each instance on
// every interface and protocol it appears on, and returns what resolved within the time given.
// Blocking, on the calling thread (an AvahiSimplePoll): the agent's commands are one-shot.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateway_record.hpp"

namespace vespid::agent {

// avahi-daemon cannot be reached (not running, no system bus) or refused the browse; what()
// says which and what to do.
class BrowseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws BrowseError. Built without libavahi-client, it always throws.
std::vector<ResolvedService> browse_services(const std::string& type,
                                             std::chrono::milliseconds timeout);

}  // namespace vespid::agent
