/*
 * Vespid Gateway plugin ABI: versions, status codes, errors and the module entry point.
 *
 * This is the one header every plugin includes (directly or through a kind header). It is pure
 * C99 and stable: within one ABI major version, structs and function tables only grow at their
 * end, and every struct and table starts with its own size so that both sides can tell how much
 * of it the other side knows about.
 *
 * Naming rules used in every vespid header:
 *   - `vsp_host_*` types are owned by the gateway (the host). A plugin borrows them.
 *   - `vsp_plugin_*` types are owned by the plugin. The host borrows them.
 *   - A pointer argument is borrowed for the duration of the call unless its comment says
 *     otherwise. To keep data past the call, copy it.
 *   - Results flow through caller-provided sinks (callbacks) or caller-owned structs, so memory is
 *     always freed by whoever allocated it.
 *
 * THREADING, in one place (each kind header repeats the rule beside each function):
 *   - The host has one *loop thread*. Every lifecycle call (create, start, stop, destroy) of every
 *     plugin kind except storage, every timer, fd-watch and `post` callback, and every netbind and
 *     discovery table function is called on the loop thread.
 *   - Storage tables are called only on the host's dedicated *storage thread*, one call at a time,
 *     so a storage backend may be written synchronously (it may block on disk I/O; nothing else
 *     runs on that thread).
 *   - Transport `send` and `close` may be called on ANY thread (the host runs its core on
 *     whichever thread delivered the frame that caused the send), never concurrently for the same
 *     connection. A transport must make them thread-safe and must not block in them.
 *   - Host services that are thread-safe and may be called from any thread: `log`, `post`,
 *     `conn_open`, `conn_recv`, `conn_closed`, `conn_writable`, `conn_protocol_error`. All other host services may be
 *     called only on the loop thread.
 *   - No table function, on either side, may block waiting for the other side.
 *
 * No C++ types, exceptions or library objects cross this boundary. Status codes are negative
 * ints; VSP_OK is zero. Functions that can fail take an optional `vsp_error*` (may be NULL) that
 * carries a human-readable message; the host copies it.
 */
#ifndef VESPID_ABI_H
#define VESPID_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI this header describes. A module records the version it was built against in its
 * vsp_module_info. The host refuses a module whose major differs from its own, or whose minor is
 * newer than its own (the module may rely on host services the host does not have). */
#define VSP_ABI_MAJOR 1
#define VSP_ABI_MINOR 0

#if defined(_WIN32)
#define VSP_EXPORT __declspec(dllexport)
#else
#define VSP_EXPORT __attribute__((visibility("default")))
#endif

/* ---- Status codes -------------------------------------------------------------------------- */

#define VSP_OK 0
#define VSP_E_INVALID (-1)     /* bad argument, malformed config or input */
#define VSP_E_NOMEM (-2)       /* allocation failed */
#define VSP_E_IO (-3)          /* an operating-system or library I/O call failed */
#define VSP_E_NOT_FOUND (-4)   /* key, connection or object does not exist */
#define VSP_E_CONFLICT (-5)    /* a storage compare did not hold; nothing was applied */
#define VSP_E_BUSY (-6)        /* accepted, but the peer is slow: back off until told writable */
#define VSP_E_OVERFLOW (-7)    /* refused: a bounded queue is full */
#define VSP_E_CLOSED (-8)      /* the connection or instance is closed or closing */
#define VSP_E_UNSUPPORTED (-9) /* the operation or option is not supported by this plugin */
#define VSP_E_FULL (-10)       /* storage is out of space; nothing was applied */
#define VSP_E_INTERNAL (-11)   /* a bug or an unexpected state; the message says more */
#define VSP_E_ABI (-12)        /* version or struct-size mismatch */
#define VSP_E_ADDR_IN_USE (-13) /* a listener could not bind: the address is in use */
#define VSP_E_PERMISSION (-14) /* the operating system refused access (files, sockets, ports) */

/* ---- Errors --------------------------------------------------------------------------------- */

#define VSP_ERROR_MESSAGE_MAX 512

/* Caller-owned error out-parameter. The callee fills `status` and a NUL-terminated `message`
 * (truncated to fit). The caller zero-initialises it and sets struct_size. */
typedef struct vsp_error {
  uint32_t struct_size;
  int32_t status;
  char message[VSP_ERROR_MESSAGE_MAX];
} vsp_error;

/* ---- Logging levels (host `log` service) ----------------------------------------------------- */

#define VSP_LOG_TRACE 0
#define VSP_LOG_DEBUG 1
#define VSP_LOG_INFO 2
#define VSP_LOG_WARN 3
#define VSP_LOG_ERROR 4

/* ---- Plugin kinds ---------------------------------------------------------------------------- */

#define VSP_KIND_TRANSPORT 1u /* vespid/transport.h */
#define VSP_KIND_NETBIND 2u   /* vespid/netbind.h */
#define VSP_KIND_DISCOVERY 3u /* vespid/discovery.h */
#define VSP_KIND_STORAGE 4u   /* vespid/storage.h */

/* Opaque handles. See the naming rules above. */
typedef struct vsp_host_instance vsp_host_instance;     /* host-owned, one per plugin instance */
typedef struct vsp_plugin_instance vsp_plugin_instance; /* plugin-owned, one per instance */
typedef struct vsp_host_api vsp_host_api;               /* host-owned service table (host.h) */

/* Called by a plugin when an asynchronous stop has finished draining. May be called from any
 * thread, exactly once, possibly before `stop` returns. */
typedef void (*vsp_stop_done_fn)(void* done_ctx);

/* The lifecycle every plugin kind shares. It is the first member (after struct_size) of every
 * kind's table, so the host can drive any plugin through it.
 *
 * create: loop thread (storage: storage thread). Builds an instance from its JSON config (UTF-8,
 *   borrowed, not NUL-terminated; "{}" when the operator gave none). `host` and `hi` are borrowed
 *   until `destroy` returns. Must not start I/O yet. Returns VSP_OK and sets *out_instance, or a
 *   status and fills `err` with a message that names the offending config key.
 * start: loop thread (storage: storage thread). Begins serving (bind, open files). Failing here
 *   (port in use, database cannot be opened) is reported through `err`; the host then calls
 *   `destroy` without `stop`.
 * stop: loop thread (storage: storage thread). Stop accepting new work, drain what is in flight,
 *   then call done(done_ctx) exactly once. The host gives up waiting after its shutdown timeout.
 * destroy: loop thread (storage: storage thread). Free everything. After `stop` completed or after
 *   a failed `start`. No host service may be called after destroy returns. */
typedef struct vsp_lifecycle {
  int (*create)(const vsp_host_api* host, vsp_host_instance* hi, const char* config_json,
                size_t config_len, vsp_plugin_instance** out_instance, vsp_error* err);
  int (*start)(vsp_plugin_instance* instance, vsp_error* err);
  void (*stop)(vsp_plugin_instance* instance, vsp_stop_done_fn done, void* done_ctx);
  void (*destroy)(vsp_plugin_instance* instance);
} vsp_lifecycle;

/* ---- Module entry point ---------------------------------------------------------------------- */

/* Describes one plugin a module offers. Static data: the host keeps the pointer forever (modules
 * are never unloaded). `vtbl` points to the kind's table (e.g. vsp_transport_vtbl) whose first
 * field is its size, equal to `vtbl_size`. */
typedef struct vsp_plugin_desc {
  uint32_t struct_size;
  uint32_t kind;           /* VSP_KIND_* */
  const char* id;          /* unique within the module, e.g. "sqlite", "bridge" */
  const char* description; /* one line for `vespid-gateway plugins` */
  const void* vtbl;
  uint32_t vtbl_size;
} vsp_plugin_desc;

/* What a module says about itself. Static, side-effect-free data. */
typedef struct vsp_module_info {
  uint32_t struct_size;
  uint32_t abi_major; /* VSP_ABI_MAJOR the module was built against */
  uint32_t abi_minor; /* VSP_ABI_MINOR the module was built against */
  const char* name;   /* e.g. "vespid-sqlite" */
  const char* version;
  uint32_t plugin_count;
  const vsp_plugin_desc* plugins;
} vsp_module_info;

/* The one symbol a module exports. The host passes its own ABI version so a module that supports
 * several may choose; most modules ignore it and return their static info. Must not allocate,
 * start threads, or touch global state. Returns NULL if the module cannot work with that host. */
#define VSP_MODULE_QUERY_SYMBOL "vsp_module_query"
typedef const vsp_module_info* (*vsp_module_query_fn)(uint32_t host_abi_major,
                                                       uint32_t host_abi_minor);

#ifdef __cplusplus
}
#endif

#endif /* VESPID_ABI_H */
