// vespid-tailnet.so: the netbind plugin for tailnet (Tailscale, Headscale) binding.
#include <vespid/plugin.hpp>

#include "netbind.hpp"

namespace {

using vespid::tailnet::TailnetNetbind;

TailnetNetbind* self(vsp_plugin_instance* p) {
  return reinterpret_cast<TailnetNetbind*>(p);
}

int create(const vsp_host_api* api, vsp_host_instance* hi, const char* cfg, size_t len,
           vsp_plugin_instance** out, vsp_error* err) {
  return vsp::guard(err, [&] {
    auto made = TailnetNetbind::create(vsp::Host(api, hi), std::string_view(cfg, len));
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
int resolve(vsp_plugin_instance* p, const char* spec, vsp_addr_sink_fn sink, void* ctx,
            vsp_error* err) {
  if (spec == nullptr || sink == nullptr) return VSP_E_INVALID;
  return vsp::guard(err, [&] { return self(p)->resolve(spec, sink, ctx); });
}
void set_change_callback(vsp_plugin_instance* p, vsp_netbind_changed_fn fn, void* ctx) {
  self(p)->set_change_callback(fn, ctx);
}

const vsp_netbind_vtbl kVtbl = {
    sizeof(vsp_netbind_vtbl), {&create, &start, &stop, &destroy}, &resolve, &set_change_callback};

}  // namespace

VSP_DECLARE_MODULE("vespid-tailnet", "0.1.0",
                   vsp_plugin_desc{sizeof(vsp_plugin_desc), VSP_KIND_NETBIND, "tailnet",
                                   "tailnet (Tailscale/Headscale) addresses for bind specs", &kVtbl,
                                   sizeof(vsp_netbind_vtbl)})
