/*
 * Discovery plugins publish and withdraw DNS-SD service records (Bonjour via Avahi, wide-area
 * DNS-SD, ...) and browse for services. A discovery plugin should run on the host's loop through
 * the timer and watch services (an AvahiPoll built on them) rather than a thread of its own.
 *
 * Threads: every function here, and every browse callback, runs on the loop thread (THREADING
 * in vespid/abi.h).
 */
#ifndef VESPID_DISCOVERY_H
#define VESPID_DISCOVERY_H

#include "vespid/host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A service record. Everything is borrowed for the call; the plugin copies what it keeps. */
typedef struct vsp_service_record {
  uint32_t struct_size;
  const char* instance_name; /* "Vespid Gateway on build-01"; the plugin may rename on collision */
  const char* service_type;  /* "_vespid-bridge._tcp" */
  const char* domain;        /* NULL for the default ("local") */
  const char* host;          /* NULL for this machine's name */
  uint16_t port;
  const char* const* txt; /* "key=value" strings */
  size_t txt_count;
} vsp_service_record;

/* A browse result. `removed` is non-zero when the service went away. Borrowed for the call.
 * Thread: loop (the plugin calls it there). */
typedef void (*vsp_browse_fn)(void* ctx, const vsp_service_record* record, const char* address,
                              int removed);

typedef struct vsp_discovery_vtbl {
  uint32_t struct_size;
  vsp_lifecycle life;

  /* Publishes (or, with the same *handle, replaces) a record. On first publish *handle must be 0
   * and the plugin sets a non-zero handle. The plugin keeps the record published across daemon
   * restarts and name collisions until withdrawn.
   * Thread: loop.
   * OWNERSHIP: `record` is borrowed: the plugin copies what it keeps published.
   * Returns: VSP_OK, or a status with `err`. */
  int (*publish)(vsp_plugin_instance* instance, const vsp_service_record* record, uint64_t* handle,
                 vsp_error* err);

  /* Withdraws a published record. Unknown handles are ignored.
   * Thread: loop. */
  void (*withdraw)(vsp_plugin_instance* instance, uint64_t handle);

  /* Starts browsing for `service_type`; results arrive through fn until browse_stop.
   * Thread: loop.
   * OWNERSHIP: the plugin keeps `fn` and `ctx` until browse_stop for the *handle it sets.
   * Returns: VSP_OK, VSP_E_UNSUPPORTED when the plugin does not browse, or a status with `err`. */
  int (*browse)(vsp_plugin_instance* instance, const char* service_type, vsp_browse_fn fn,
                void* ctx, uint64_t* handle, vsp_error* err);
  /* Stops a browse; `fn` is not called afterwards.
   * Thread: loop. */
  void (*browse_stop)(vsp_plugin_instance* instance, uint64_t handle);
} vsp_discovery_vtbl;

#ifdef __cplusplus
}
#endif

#endif /* VESPID_DISCOVERY_H */
