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

// libnats held open while any instance of the plugin lives. The library runs threads of its own
// (message delivery, timers) that outlive a destroyed connection; left running, they race the
// process's exit handlers (OpenSSL's cleanup among them) and crash it. So the first use opens
// the library and the last one closes it and waits until those threads are gone.
class LibraryUse {
 public:
  LibraryUse();  // throws vsp::Error when libnats cannot initialise
  ~LibraryUse();
  LibraryUse(const LibraryUse&) = delete;
  LibraryUse& operator=(const LibraryUse&) = delete;
};

}  // namespace vespid::natsbus
