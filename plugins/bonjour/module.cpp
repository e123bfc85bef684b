// vespid-bonjour.so: DNS-SD publication on the LAN through avahi-daemon.
#include <vespid/plugin.hpp>

#include "bonjour.hpp"

namespace {

using vespid::bonjour::BonjourDiscovery;

BonjourDiscovery* self(vsp_plugin_instance* p) {
  return reinterpret_cast<BonjourDiscovery*>(p);
}

int create(const vsp_host_api* api, vsp_host_instance* hi, const char* cfg, size_t len,
           vsp_plugin_instance** out, vsp_error* err) {
  return vsp::guard(err, [&] {
    auto made = BonjourDiscovery::create(vsp::Host(api, hi), std::string_view(cfg, len));
    *out = reinterpret_cast<vsp_plugin_instance*>(made.release());
  });
}
int start(vsp_plugin_instance* p, vsp_error* err) {
  return vsp::guard(err, [&] { self(p)->start(); });
}
void stop(vsp_plugin_instance* p, vsp_stop_done_fn done, void* ctx) {
  int rc = vsp::guard(nullptr, [&] { self(p)->stop([done, ctx] { done(ctx); }); });
  if (rc != VSP_OK) done(ctx);
}
void destroy(vsp_plugin_instance* p) {
  delete self(p);
}
int publish(vsp_plugin_instance* p, const vsp_service_record* r, uint64_t* handle, vsp_error* err) {
  if (r == nullptr) return VSP_E_INVALID;
  return vsp::guard(err, [&] { return self(p)->publish(*r, handle); });
}
void withdraw(vsp_plugin_instance* p, uint64_t handle) {
  vsp::guard(nullptr, [&] { self(p)->withdraw(handle); });
}
// Browsing is for node hosts looking for a gateway; the gateway itself does not browse yet.
int browse(vsp_plugin_instance*, const char*, vsp_browse_fn, void*, uint64_t*, vsp_error* err) {
  vsp::fill_error(err, VSP_E_UNSUPPORTED, "bonjour: browsing is not implemented yet");
  return VSP_E_UNSUPPORTED;
}
void browse_stop(vsp_plugin_instance*, uint64_t) {}

const vsp_discovery_vtbl kVtbl = {sizeof(vsp_discovery_vtbl),
                                  {&create, &start, &stop, &destroy},
                                  &publish,
                                  &withdraw,
                                  &browse,
                                  &browse_stop};

}  // namespace

VSP_DECLARE_MODULE("vespid-bonjour", "0.1.0",
                   vsp_plugin_desc{sizeof(vsp_plugin_desc), VSP_KIND_DISCOVERY, "bonjour",
                                   "Bonjour/mDNS service publication through avahi-daemon", &kVtbl,
                                   sizeof(vsp_discovery_vtbl)})
