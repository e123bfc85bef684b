/*
 * Netbind plugins turn a listener's bind spec into concrete addresses and tell the host when the
 * answer may have changed, so listeners bind late (a tailnet that comes up after the gateway) and
 * rebind when an address moves or goes.
 *
 * Bind specs: "loopback", "lan", "tailnet", "auto" (tailnet, else loopback), or an explicit
 * address ("192.0.2.10", "::1"). A netbind plugin answers the specs it understands and returns
 * VSP_E_UNSUPPORTED for others. "tailnet" must never resolve to a wildcard address: when no
 * tailnet address exists it resolves to nothing, and the listener waits.
 *
 * THREADING: every function here, and the change callback, runs on the host's loop thread.
 */
#ifndef VESPID_NETBIND_H
#define VESPID_NETBIND_H

#include "vespid/host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Receives one address as NUL-terminated text (borrowed): "100.101.102.103", "fd7a:115c:a1e0::1". */
typedef void (*vsp_addr_sink_fn)(void* ctx, const char* address);

/* The host's callback: something changed, resolve again. */
typedef void (*vsp_netbind_changed_fn)(void* ctx);

typedef struct vsp_netbind_vtbl {
  uint32_t struct_size;
  vsp_lifecycle life;

  /* Calls sink once per address the spec currently means (possibly zero times). Returns VSP_OK,
   * VSP_E_UNSUPPORTED for a spec this plugin does not handle, or another status with `err`. */
  int (*resolve)(vsp_plugin_instance* instance, const char* spec, vsp_addr_sink_fn sink,
                 void* sink_ctx, vsp_error* err);

  /* Registers the host's change callback (one per instance; a second call replaces it, NULL
   * clears it). The plugin calls it on the loop thread whenever interface addresses change. */
  void (*set_change_callback)(vsp_plugin_instance* instance, vsp_netbind_changed_fn fn, void* ctx);
} vsp_netbind_vtbl;

#ifdef __cplusplus
}
#endif

#endif /* VESPID_NETBIND_H */
