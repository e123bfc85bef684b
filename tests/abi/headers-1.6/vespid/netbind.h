/*
 * Netbind plugins turn a listener's bind spec into concrete addresses and tell the host when the
 * answer may have changed, so listeners bind late (a tailnet that comes up after the gateway) and
 * rebind when an address moves or goes.
 *
 * Bind specs: "loopback", "lan", "tailnet", "auto" (tailnet, else loopback), or an explicit
 * address ("192.0.2.10", "::1"). A netbind plugin answers the specs it understands and returns
 * VSP_E_UNSUPPORTED for others. "tailnet" must never resolve to a wildcard address: when no
 * tailnet address exists it resolves to nothing, and the listener waits. The host itself answers
 * "loopback" (127.0.0.1), "lan" (0.0.0.0: every interface) and address literals; it asks netbind
 * instances, in configuration order, for every other spec.
 *
 * One informational spec: "tailnet-dns" resolves to this machine's DNS name on the tailnet
 * (MagicDNS, "host.tailnet-name.ts.net"), or to nothing when unknown. Discovery TXT records and
 * wide-area zones carry it.
 *
 * Threads: every function here, and the change callback, runs on the loop thread (THREADING in
 * vespid/abi.h).
 */
#ifndef VESPID_NETBIND_H
#define VESPID_NETBIND_H

#include "vespid/host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Receives one address as NUL-terminated text: "100.101.102.103", "fd7a:115c:a1e0::1".
 * Thread: loop, inside the resolve it was given to. */
typedef void (*vsp_addr_sink_fn)(void* ctx, const char* address);

/* The host's callback: something changed, resolve again.
 * Thread: loop (the plugin calls it there). */
typedef void (*vsp_netbind_changed_fn)(void* ctx);

typedef struct vsp_netbind_vtbl {
  uint32_t struct_size;
  vsp_lifecycle life;

  /* Calls sink once per address the spec currently means (possibly zero times).
   * Thread: loop.
   * Returns: VSP_OK, VSP_E_UNSUPPORTED for a spec this plugin does not handle, or another status
   *   with `err`. */
  int (*resolve)(vsp_plugin_instance* instance, const char* spec, vsp_addr_sink_fn sink,
                 void* sink_ctx, vsp_error* err);

  /* Registers the host's change callback (one per instance; a second call replaces it, NULL
   * clears it). The plugin calls it whenever interface addresses change.
   * Thread: loop.
   * OWNERSHIP: the plugin keeps `fn` and `ctx` until replaced, cleared or destroyed. */
  void (*set_change_callback)(vsp_plugin_instance* instance, vsp_netbind_changed_fn fn, void* ctx);
} vsp_netbind_vtbl;

#ifdef __cplusplus
}
#endif

#endif /* VESPID_NETBIND_H */
