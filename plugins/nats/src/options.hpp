// The instance's Config as libnats connection options: servers, name, credentials, TLS and the
// limits. The connection callbacks belong to the bus (nats_bus.cpp) and are set there.
#pragma once

#include <nats/nats.h>

#include <memory>
#include <string>

#include "config.hpp"

namespace vespid::natsbus {

struct OptionsDeleter {
  void operator()(natsOptions* o) const noexcept { natsOptions_Destroy(o); }
};
using OptionsPtr = std::unique_ptr<natsOptions, OptionsDeleter>;

// Throws vsp::Error naming the key whose value libnats refused (a CA file that does not load, a
// credentials file that is not there).
OptionsPtr make_options(const Config& cfg, const std::string& name);

// libnats's text for `s`, and the calling thread's last error detail when it adds something.
std::string nats_error(natsStatus s);

// Initialises libnats once per process (its library threads live until the process exits, as
// the module does).
void open_library();

}  // namespace vespid::natsbus
