/*
 * Vespid Gateway plugin ABI: versions, status codes, errors, the module entry point, and the rules
 * every other vespid header relies on (naming, ownership, threading, table growth).
 *
 * This is the one header every plugin includes (directly or through a kind header). It is pure
 * C99 and stable: within one ABI major version, structs and function tables only grow at their
 * end, and every struct and table starts with its own size so that both sides can tell how much
 * of it the other side knows about (VSP_HAS_MEMBER below asks exactly that).
 *
 * No C++ types, exceptions or library objects cross this boundary. Status codes are negative
 * ints; VSP_OK is zero. Functions that can fail take an optional `vsp_error*` (may be NULL) that
 * carries a human-readable message; the host copies it.
 *
 * ---- How each function is documented ----------------------------------------------------------
 *
 * Every function (table member or callback type) in the vespid headers says what it does, then,
 * always in this order:
 *   Thread:     which thread calls it, in the terms of THREADING below.
 *   OWNERSHIP:  only where something is NOT simply borrowed for the call (a handle kept, a
 *               pointer valid past the return, a duty to free or to call back). Spelled in
 *               capitals so that `grep -rn OWNERSHIP: sdk/include` lists every such place.
 *   Returns:    the status codes and what each means (left out for void functions).
 *
 * ---- Ownership, by default --------------------------------------------------------------------
 *
 *   - `vsp_host_*` types are owned by the gateway (the host). A plugin borrows them.
 *   - `vsp_plugin_*` types are owned by the plugin. The host borrows them.
 *   - A pointer argument is borrowed for the duration of the call; to keep data past the call,
 *     copy it. Everything without an OWNERSHIP: line follows this rule.
 *   - Results flow through caller-provided sinks (callbacks) or caller-owned structs, so memory is
 *     always freed by whoever allocated it. Data lent to a sink is valid only during the sink call.
 *
 * ---- THREADING: the one statement of the rule --------------------------------------------------
 *
 * The other headers, plugin.hpp and docs/plugin-abi.md only name a thread ("Thread: loop") and
 * point here, so that the rule cannot drift between copies.
 *
 * Threads of the host:
 *   loop     The host's one event-loop thread. It is also the thread that creates and starts
 *            plugins before the loop runs and stops and destroys them after.
 *   storage  The host's dedicated storage thread. Only the storage kind runs there.
 *   any      Whatever thread happens to be calling: the loop, the storage thread, a transport's
 *            own I/O thread. The host runs its core on whichever thread delivered the message
 *            that caused the work, so "any" really means any.
 *
 * Plugin functions the host calls:
 *   - vsp_module_query: whichever thread scans the plugin directories, before any instance of the
 *     module exists. It must not depend on being called on a particular thread.
 *   - The lifecycle (create, start, stop, destroy) of every kind: loop; of storage: storage.
 *   - Storage get, scan, commit, commit_unsynced, sync: storage, one call at a time for the
 *     whole table, so a backend may be written synchronously and may block on disk I/O (nothing
 *     else runs on that thread).
 *   - Netbind and discovery table functions: loop.
 *   - Bus: set_state_callback: loop. publish, subscribe, unsubscribe, request, is_up: any, also
 *     from inside the bus's own callbacks; they never block on the network (unsubscribe waits
 *     only for a call of that subscription's callback already running on another thread).
 *   - Transport send, close, admit, send_batch: any. For one connection the host never runs two
 *     of these four at once (it holds a lock per connection across each call), but it may call
 *     them for different connections at the same time, and at the same time as the transport's
 *     own work on the connection. A transport therefore makes them thread-safe and must not block
 *     in them. They can also run on the transport's own thread INSIDE a call the transport makes
 *     into the host (conn_open, conn_recv, conn_closed, conn_writable, conn_protocol_error,
 *     batch_end), because the host may handle the message and answer it right there: never hold
 *     a lock of your own across those calls that send, close, admit or send_batch also take.
 *   - Timer, fd-watch, `post` and bind-watch callbacks: loop.
 *   - Sinks (vsp_text_sink_fn, vsp_kv_sink_fn, vsp_addr_sink_fn): the thread of the call that was
 *     given the sink, before that call returns.
 *
 * Host services a plugin calls (host.h):
 *   - Any thread: log, instance_name, state_dir, post, conn_open, conn_recv, conn_closed,
 *     conn_writable, conn_protocol_error, batch_begin, batch_end.
 *   - A transport's own I/O thread, each for itself: io_thread_begin, io_thread_run,
 *     io_thread_end. The host then calls that registration's wake callback on any thread.
 *   - Loop thread only: report_failure, config_get, timer_new, timer_arm, timer_disarm,
 *     timer_free, watch_new, watch_update, watch_free, bind_watch, bind_unwatch, listener_update.
 *     A plugin working on another thread reaches them through `post`.
 *   - For one connection, conn_recv and conn_protocol_error are never called concurrently and
 *     deliver in arrival order. conn_closed must not be called from inside send, close, admit or
 *     send_batch for the same connection (the host holds that connection's lock there): defer it
 *     to the transport's own thread or `post` it.
 *   - batch_begin and batch_end are a pair on one thread (the batch belongs to the thread); pairs
 *     may nest.
 *
 * Callbacks a plugin calls back into the host: the `done` of `stop` on any thread, exactly once;
 * a netbind change callback and discovery browse results on the loop thread; a bus's message,
 * reply and state callbacks on any thread (the bus plugin's own).
 *
 * No table function, on either side, may block waiting for the other side (the one exception is
 * the bus's unsubscribe above, so a host's bus callbacks must not wait for the host's own work).
 *
 * ---- Tables grow at their end -----------------------------------------------------------------
 *
 * A member added by a later minor exists in the other side's struct only if its struct_size
 * (for a kind's table: the size the plugin built, which the host keeps in the table's first
 * field) reaches past the member's end. Ask with VSP_HAS_MEMBER rather than spelling out
 * offsetof each time; a function pointer that is there may still be NULL where its comment says
 * it may be.
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
#define VSP_ABI_MINOR 6

/* The size a struct must have for `member` to be part of it: the end of that member. A host
 * checks a module's table against the end of the last member of the minor it requires. */
#ifdef __cplusplus
#define VSP_MEMBER_SIZE_(type, member) sizeof(type::member)
#else
#define VSP_MEMBER_SIZE_(type, member) sizeof(((type*)0)->member)
#endif
#define VSP_SIZE_THROUGH(type, member) (offsetof(type, member) + VSP_MEMBER_SIZE_(type, member))

/* Whether the struct or table `ptr` points to (of type `type`, starting with uint32_t
 * struct_size) was built by a side that knows `member`, e.g.
 *   if (VSP_HAS_MEMBER(vsp_host_api, host, batch_begin) && host->batch_begin != NULL) ...
 * Reading a member the other side did not build reads past its struct: check first. */
#define VSP_HAS_MEMBER(type, ptr, member) ((ptr)->struct_size >= VSP_SIZE_THROUGH(type, member))

#if defined(_WIN32)
#define VSP_EXPORT __declspec(dllexport)
#else
#define VSP_EXPORT __attribute__((visibility("default")))
#endif

/* ---- Status codes -------------------------------------------------------------------------- */

#define VSP_OK 0
#define VSP_E_INVALID (-1)      /* bad argument, malformed config or input */
#define VSP_E_NOMEM (-2)        /* allocation failed */
#define VSP_E_IO (-3)           /* an operating-system or library I/O call failed */
#define VSP_E_NOT_FOUND (-4)    /* key, connection or object does not exist */
#define VSP_E_CONFLICT (-5)     /* a storage compare did not hold; nothing was applied */
#define VSP_E_BUSY (-6)         /* accepted, but the peer is slow: back off until told writable */
#define VSP_E_OVERFLOW (-7)     /* refused: a bounded queue is full */
#define VSP_E_CLOSED (-8)       /* the connection or instance is closed or closing */
#define VSP_E_UNSUPPORTED (-9)  /* the operation or option is not supported by this plugin */
#define VSP_E_FULL (-10)        /* storage is out of space; nothing was applied */
#define VSP_E_INTERNAL (-11)    /* a bug or an unexpected state; the message says more */
#define VSP_E_ABI (-12)         /* version or struct-size mismatch */
#define VSP_E_ADDR_IN_USE (-13) /* a listener could not bind: the address is in use */
#define VSP_E_PERMISSION (-14)  /* the operating system refused access (files, sockets, ports) */
#define VSP_E_TIMEOUT (-15)     /* 1.3: a deadline passed (a bus request got no reply in time) */

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
#define VSP_KIND_BUS 5u       /* vespid/bus.h (ABI 1.3) */

/* Opaque handles. See "Ownership, by default" above. */
typedef struct vsp_host_instance vsp_host_instance;     /* host-owned, one per plugin instance */
typedef struct vsp_plugin_instance vsp_plugin_instance; /* plugin-owned, one per instance */
typedef struct vsp_host_api vsp_host_api;               /* host-owned service table (host.h) */

/* Called by a plugin when an asynchronous stop has finished draining.
 * Thread: any; exactly once per `stop`, possibly before `stop` returns. */
typedef void (*vsp_stop_done_fn)(void* done_ctx);

/* The lifecycle every plugin kind shares. It is the first member (after struct_size) of every
 * kind's table, so the host can drive any plugin through it: create, start, stop (done), destroy;
 * a failed create has nothing to destroy, a failed start is destroyed without stop. */
typedef struct vsp_lifecycle {
  /* Builds an instance from its JSON config (UTF-8, not NUL-terminated; "{}" when the operator
   * gave none). Must not start I/O yet.
   * Thread: loop (storage kind: storage).
   * OWNERSHIP: `host` and `hi` stay valid until `destroy` returns; keep them. *out_instance is
   *   the plugin's, handed back to every later call until `destroy`.
   * Returns: VSP_OK and sets *out_instance, or a status with `err` naming the offending config
   *   key. */
  int (*create)(const vsp_host_api* host, vsp_host_instance* hi, const char* config_json,
                size_t config_len, vsp_plugin_instance** out_instance, vsp_error* err);
  /* Begins serving (bind, open files).
   * Thread: loop (storage kind: storage).
   * Returns: VSP_OK, or a status with `err` (port in use, database cannot be opened); the host
   *   then calls `destroy` without `stop`. VSP_E_ADDR_IN_USE and VSP_E_PERMISSION give the
   *   gateway's "cannot listen" exit. */
  int (*start)(vsp_plugin_instance* instance, vsp_error* err);
  /* Stops accepting new work and drains what is in flight. The host gives up waiting after its
   * shutdown timeout (and then never destroys the instance).
   * Thread: loop (storage kind: storage).
   * OWNERSHIP: the plugin must call done(done_ctx) exactly once, from any thread, possibly
   *   before stop returns. */
  void (*stop)(vsp_plugin_instance* instance, vsp_stop_done_fn done, void* done_ctx);
  /* Frees everything, after `stop` completed or after a failed `start`.
   * Thread: loop (storage kind: storage).
   * OWNERSHIP: `instance` is gone; no host service may be called once destroy returns. */
  void (*destroy)(vsp_plugin_instance* instance);
} vsp_lifecycle;

/* ---- Module entry point ---------------------------------------------------------------------- */

/* Describes one plugin a module offers. `vtbl` points to the kind's table (e.g.
 * vsp_transport_vtbl) whose first field is its size, equal to `vtbl_size`. The host copies the
 * table (vtbl_size bytes, at most its own size) into a zeroed table of its own size, so members
 * a plugin was built without are NULL to the host.
 * OWNERSHIP: static data; the host keeps the pointer forever (modules are never unloaded). */
typedef struct vsp_plugin_desc {
  uint32_t struct_size;
  uint32_t kind;           /* VSP_KIND_* */
  const char* id;          /* unique within the module, e.g. "sqlite", "bridge" */
  const char* description; /* one line for `vespid-gateway plugins` */
  const void* vtbl;
  uint32_t vtbl_size;
} vsp_plugin_desc;

/* What a module says about itself.
 * OWNERSHIP: static, side-effect-free data the host keeps forever, like vsp_plugin_desc. */
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
 * start threads, or touch global state (`vespid-gateway plugins` only lists).
 * Thread: whichever thread scans the plugin directories.
 * OWNERSHIP: the info is static and kept forever (see vsp_module_info).
 * Returns: the module's info, or NULL if the module cannot work with that host. */
#define VSP_MODULE_QUERY_SYMBOL "vsp_module_query"
typedef const vsp_module_info* (*vsp_module_query_fn)(uint32_t host_abi_major,
                                                      uint32_t host_abi_minor);

#ifdef __cplusplus
}
#endif

#endif /* VESPID_ABI_H */
