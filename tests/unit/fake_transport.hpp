// A transport plugin instance whose table is the test's own functions, with no module behind it:
// for tests of what the core does with a connection (held replies, the hub's way in).
#pragma once

#include <memory>

#include "core_harness.hpp"
#include "host/plugins/module_catalog.hpp"
#include "host/plugins/plugin_instance.hpp"
#include "vespid/transport.h"

namespace vespid::core::testing {

class FakeTransport {
 public:
  // `vtbl`: the functions the core calls (send, close, send_batch...); struct_size is set here.
  FakeTransport(InstanceServices& backend, vsp_transport_vtbl vtbl) : vtbl_(vtbl) {
    vtbl_.struct_size = sizeof vtbl_;
    entry_.id = "fake";
    entry_.kind = VSP_KIND_TRANSPORT;
    entry_.vtbl = &vtbl_;
    entry_.vtbl_size = sizeof vtbl_;
    module_.file = "/fake.so";
    cfg_.name = "fake";
    instance_ =
        std::make_unique<PluginInstance>(backend, cfg_, ModuleCatalog::Found{&module_, &entry_});
  }
  FakeTransport(const FakeTransport&) = delete;  // the entry points at this object's table
  FakeTransport& operator=(const FakeTransport&) = delete;

  PluginInstance& instance() { return *instance_; }

 private:
  vsp_transport_vtbl vtbl_;
  PluginEntry entry_;
  ModuleEntry module_;
  config::PluginInstance cfg_;
  std::unique_ptr<PluginInstance> instance_;
};

}  // namespace vespid::core::testing
