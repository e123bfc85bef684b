/*
 * The services the gateway (the host) offers to every plugin, passed as a table at `create`, in
 * the manner of SQLite's extension API: a plugin imports nothing from the gateway executable and
 * links with -Wl,--no-undefined.
 *
 * The table is host-owned and valid until the instance's `destroy` returns. It only grows at the
 * end: a service added after 1.0 (1.1: bind_watch, bind_unwatch, listener_update; 1.2:
 * batch_begin, batch_end; 1.6: io_thread_begin, io_thread_run, io_thread_end) is there only if
 * VSP_HAS_MEMBER(vsp_host_api, host, <service>) says so.
 *
 * Each service names its thread ("Thread: any", "Thread: loop"); what that means, and what the
 * host may call back meanwhile, is stated once, under THREADING in vespid/abi.h.
 */
#ifndef VESPID_HOST_H
#define VESPID_HOST_H

#include "vespid/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Connections (used by transports; see transport.h) -------------------------------------- */

typedef struct vsp_host_conn vsp_host_conn;     /* host-owned; valid until conn_closed returns */
typedef struct vsp_plugin_conn vsp_plugin_conn; /* transport-owned; see conn_closed */

/* Facts about a new connection, given to conn_open. Every string is NUL-terminated, borrowed for
 * the call, and may be NULL when unknown. path, query and headers_json are read only when
 * VSP_HAS_MEMBER(vsp_conn_info, info, headers_json). */
#define VSP_CONN_TLS 0x1u /* the transport terminated TLS for this peer */
/* The transport vouches that the peer is the local administrator, e.g. because it could open a
 * socket file created 0600 in the state directory. The host then gives the connection the
 * `local-admin` role. Only set this when that is really true: it grants every operator method. */
#define VSP_CONN_LOCAL_ADMIN 0x2u
/* The transport holds the peer's handshake (e.g. an HTTP upgrade) until the host decides: the
 * host authenticates the credentials in this info and then calls the transport's `admit`
 * exactly once. Until then the host calls neither `send` nor `close` for this connection, and
 * the transport calls conn_recv for nothing. A transport whose table has no `admit` must not
 * set this flag. */
#define VSP_CONN_ADMISSION 0x4u
/* A rest.v1 connection whose transport takes a response "body" that is a JSON value other than a
 * string, and sends that value's text, exactly as written, as the HTTP body. The host then
 * writes a JSON body that is an object or an array as itself instead of as a string holding its
 * text: nothing to escape on one side and unescape on the other. Without the flag, "body" is
 * always a string. */
#define VSP_CONN_REST_JSON_BODY 0x8u
/* ABI 1.5. A rest.v1 connection whose transport passes each request as its envelope without
 * "body", then one '\n', then the HTTP body's bytes exactly as they came: nothing escaped into a
 * JSON string on one side and unescaped on the other. The envelope before the newline is one
 * JSON object with no raw newline in it (JSON never needs one). The host checks the body (UTF-8
 * text, or a 400 in the dialect's form) and refuses an envelope that also has a "body" member.
 * Without the flag, the body is the envelope's "body" string. */
#define VSP_CONN_REST_RAW_BODY 0x10u

typedef struct vsp_conn_info {
  uint32_t struct_size;
  const char* dialect;       /* wire dialect: "operator.v1", "bridge.v1", "vespid.node.v1", ... */
  const char* peer_address;  /* "127.0.0.1:51234", "[::1]:51234", "unix" */
  const char* local_address; /* the listener address that accepted it */
  uint32_t flags;            /* VSP_CONN_* */
  const char* bearer_token;  /* a credential carried by the handshake (HTTP Authorization) */
  const char* org_hint;      /* an organisation hint carried by the handshake (x-org-id) */
  const char* path;          /* the request path of an HTTP-based handshake ("/ws/client") */
  const char* query;         /* its query string without '?' ("orgId=...") */
  const char* headers_json;  /* its headers as a JSON object, names lowercased */
} vsp_conn_info;

/* ---- Timers and fd watches (AvahiPoll-shaped) ------------------------------------------------ */

typedef struct vsp_host_timer vsp_host_timer; /* host-owned until timer_free */
typedef struct vsp_host_watch vsp_host_watch; /* host-owned until watch_free */

#define VSP_WATCH_READ 0x1u
#define VSP_WATCH_WRITE 0x2u
#define VSP_WATCH_ERROR 0x4u /* reported only; need not be requested */
#define VSP_WATCH_HUP 0x8u   /* reported only; need not be requested */

/* A timer fired. `timer` is the handle timer_new returned.
 * Thread: loop. */
typedef void (*vsp_timer_fn)(vsp_host_timer* timer, void* ctx);
/* A watched fd is ready. `revents` is the subset of VSP_WATCH_* that is ready.
 * Thread: loop. */
typedef void (*vsp_watch_fn)(vsp_host_watch* watch, int fd, uint32_t revents, void* ctx);
/* A task given to `post`.
 * Thread: loop. */
typedef void (*vsp_task_fn)(void* ctx);
/* Receives a value the host lends for the duration of the call (JSON text, UTF-8).
 * Thread: that of the call that was given the sink, before it returns. */
typedef void (*vsp_text_sink_fn)(void* ctx, const char* text, size_t len);

/* ---- A transport's I/O threads (ABI 1.6) ---------------------------------------------------- */

typedef struct vsp_host_io_thread vsp_host_io_thread; /* host-owned until io_thread_end */

/* The host has work for the I/O thread that registered with this callback: the transport makes
 * that thread call io_thread_run soon (a task queued to its own reactor, say).
 * Thread: any, also from inside a call the transport made into the host. It must not block and
 *   must not call into the host. It may come again before the run; one run answers every call
 *   made before it starts.
 * Returns: VSP_OK when the run is on its way; anything else (VSP_E_NOMEM: the task could not be
 *   queued; VSP_E_CLOSED: the thread is stopping) and the host gives the work to another thread. */
typedef int (*vsp_wake_fn)(void* ctx);

/* ---- Listener binding (ABI 1.1) -------------------------------------------------------------- */

typedef struct vsp_host_bind vsp_host_bind; /* host-owned until bind_unwatch */

/* The complete current address set of a bind watch: `count` NUL-terminated address literals
 * ("100.101.102.103", "0.0.0.0", "fd7a:115c:a1e0::1"), borrowed for the call. A listener binds
 * every address in the set and closes those no longer in it.
 * Thread: loop. */
typedef void (*vsp_bind_fn)(void* ctx, const char* const* addresses, size_t count);

/* What a listener serves, for discovery (listener_update). Borrowed for the call. */
#define VSP_SERVICE_BRIDGE "bridge"   /* bridge.v1 over TCP: published as _vespid-bridge._tcp */
#define VSP_SERVICE_GATEWAY "gateway" /* the node hosts' WebSocket (/ws): _vespid-gw._tcp */
/* The REST API (/v1/) on a listener without /ws: no record of its own; its port and TLS go into
 * the TXT of the gateway's records (apiPort, apiTls) so node hosts can pair. Hosts before it
 * ignore services they do not know. */
#define VSP_SERVICE_API "api"
/* listener_update flags, beside VSP_CONN_TLS: a "gateway" listener that also serves the REST
 * API (/v1/), as one ws instance with every route does. */
#define VSP_LISTENER_API 0x100u

typedef struct vsp_listener_info {
  uint32_t struct_size;
  const char* service;          /* VSP_SERVICE_* */
  uint16_t port;                /* the bound port */
  uint32_t flags;               /* VSP_CONN_TLS when it terminates TLS; VSP_LISTENER_API */
  const char* const* addresses; /* bound addresses, without loopback companion listeners */
  size_t address_count;
} vsp_listener_info;

struct vsp_host_api {
  uint32_t struct_size;
  uint32_t abi_major; /* the host's ABI */
  uint32_t abi_minor;

  /* ---- Diagnostics ---- */

  /* Writes one log line attributed to this instance ("plugin.<instance>"). `msg` is UTF-8 and
   * need not be NUL-terminated.
   * Thread: any. */
  void (*log)(vsp_host_instance* hi, int level, const char* msg, size_t len);

  /* An instance reports that it can no longer do its job after `start` succeeded (its listener
   * died, its database went away). The host logs it and, if the instance is required, begins a
   * graceful shutdown with a non-zero exit status.
   * Thread: loop. */
  void (*report_failure)(vsp_host_instance* hi, int status, const char* message);

  /* ---- Configuration and environment ---- */

  /* The instance's name from config ("plugins.instances[].name").
   * Thread: any.
   * OWNERSHIP: NUL-terminated, host-owned, valid until destroy (no need to copy).
   * Returns: the name. */
  const char* (*instance_name)(vsp_host_instance* hi);

  /* The gateway's state directory (absolute, exists and is writable). Plugins keep their files
   * here unless configured otherwise.
   * Thread: any.
   * OWNERSHIP: NUL-terminated, host-owned, valid until destroy (no need to copy).
   * Returns: the path. */
  const char* (*state_dir)(vsp_host_instance* hi);

  /* Looks up a key of the gateway's effective configuration by dotted path ("log.level",
   * "tls.cert_file") and passes its JSON text to `sink` before returning. Secrets (the internal
   * service token) are never returned.
   * Thread: loop.
   * Returns: VSP_OK (sink called once), VSP_E_NOT_FOUND, VSP_E_INVALID (NULL path or sink). */
  int (*config_get)(vsp_host_instance* hi, const char* path, vsp_text_sink_fn sink, void* ctx);

  /* ---- Running work on the loop thread ---- */

  /* Runs fn(ctx) on the loop thread soon.
   * Thread: any.
   * OWNERSHIP: `ctx` is kept until fn runs; when post fails fn never runs and the caller still
   *   owns ctx.
   * Returns: VSP_OK, or VSP_E_CLOSED once the host is shutting down past the point of running
   *   tasks. */
  int (*post)(vsp_host_instance* hi, vsp_task_fn fn, void* ctx);

  /* A timer, disarmed until timer_arm.
   * Thread: loop.
   * OWNERSHIP: the handle is the plugin's to free with timer_free, before destroy returns; `ctx`
   *   is kept until then.
   * Returns: the handle, or NULL (out of memory, NULL fn). */
  vsp_host_timer* (*timer_new)(vsp_host_instance* hi, vsp_timer_fn fn, void* ctx);
  /* Fires once after `delay_ms`, then every `repeat_ms` if that is non-zero. Re-arming replaces
   * the previous schedule.
   * Thread: loop. */
  void (*timer_arm)(vsp_host_timer* timer, uint64_t delay_ms, uint64_t repeat_ms);
  /* After it returns the callback will not run until armed again.
   * Thread: loop. */
  void (*timer_disarm)(vsp_host_timer* timer);
  /* Disarms and frees. Allowed from inside the timer's own callback.
   * Thread: loop.
   * OWNERSHIP: the handle is invalid afterwards. */
  void (*timer_free)(vsp_host_timer* timer);

  /* Watches `fd` for the VSP_WATCH_* events in `events`. Callbacks are level-triggered: they
   * repeat while the condition holds and the event is requested.
   * Thread: loop.
   * OWNERSHIP: `fd` stays the plugin's (the host never closes it). The handle is the plugin's to
   *   free with watch_free, before closing the fd and before destroy returns; `ctx` is kept until
   *   then.
   * Returns: the handle, or NULL (bad fd, out of memory). */
  vsp_host_watch* (*watch_new)(vsp_host_instance* hi, int fd, uint32_t events, vsp_watch_fn fn,
                               void* ctx);
  /* Changes the requested events (0 pauses the watch).
   * Thread: loop. */
  void (*watch_update)(vsp_host_watch* watch, uint32_t events);
  /* Stops watching and frees the handle. Close the fd only after this. Allowed from inside any
   * watch callback, including this watch's own; a freed watch is not called again.
   * Thread: loop.
   * OWNERSHIP: the handle is invalid afterwards. */
  void (*watch_free)(vsp_host_watch* watch);

  /* ---- Connections (transports) ---- */

  /* Tells the host about a new connection. The host may start answering it (send, admit) before
   * conn_open returns.
   * Thread: any.
   * OWNERSHIP: `plugin_conn` is the transport's handle, which the host keeps and passes back to
   *   send/close/admit/send_batch until conn_closed returns. On VSP_OK, *out is the host's
   *   handle, valid until conn_closed returns. `info` is borrowed.
   * Returns: VSP_OK; on failure (VSP_E_INVALID unknown dialect, VSP_E_OVERFLOW too many
   *   connections, VSP_E_CLOSED shutting down) `err` says why, suitable for showing to the peer,
   *   and the transport must close the socket and not call conn_closed. */
  int (*conn_open)(vsp_host_instance* hi, const vsp_conn_info* info, vsp_plugin_conn* plugin_conn,
                   vsp_host_conn** out, vsp_error* err);

  /* Delivers one whole message (a JSON text for every built-in dialect). Messages of one
   * connection must be delivered in the order they arrived.
   * Thread: any, never concurrently for one connection.
   * Returns: VSP_OK, or VSP_E_CLOSED if the host has begun closing this connection (the transport
   *   may drop further input). */
  int (*conn_recv)(vsp_host_conn* conn, const char* data, size_t len);

  /* The connection is gone for whatever reason (peer closed, error, after the host asked for
   * `close`). `reason` is a short text for the log (may be NULL).
   * Thread: any, exactly once per successful conn_open; never from inside send, close, admit or
   *   send_batch for the same connection (defer it to your own thread or `post`).
   * OWNERSHIP: ends both handles. When it returns the host will not call send/close/admit/
   *   send_batch for this connection again and no such call is still running, so the transport
   *   may free `plugin_conn`; `conn` is invalid. */
  void (*conn_closed)(vsp_host_conn* conn, int status, const char* reason);

  /* After `send` returned VSP_E_BUSY, tells the host the connection's queue has drained below its
   * low-water mark.
   * Thread: any. */
  void (*conn_writable)(vsp_host_conn* conn);

  /* The transport could not frame the peer's input (a line or message over its size limit,
   * invalid UTF-8 in a text frame, ...). Framing belongs to the transport but the answer belongs
   * to the dialect, so the host answers the peer in the dialect's own error form (bridge.v1:
   * `error INVALID_REQUEST`) through `send` and then calls `close`. `status` is a VSP_E_* code
   * (VSP_E_OVERFLOW for size limits); `message` says what was wrong and names the limit's config
   * key.
   * Thread: any, ordered with conn_recv (never concurrently for one connection). */
  void (*conn_protocol_error)(vsp_host_conn* conn, int status, const char* message);

  /* ---- Listener binding and announcement (ABI 1.1) ----
   * A host built for 1.0 does not have these: a plugin that may run there asks
   * VSP_HAS_MEMBER(vsp_host_api, host, listener_update) first (vsp::Host::has_bind_api()). */

  /* Resolves the bind spec `spec` ("loopback", "lan", "tailnet", "auto" or an address literal;
   * see netbind.h) and keeps watching it: `fn` receives the complete current address set once
   * before bind_watch returns (possibly empty: a tailnet that is not up yet) and again every time
   * that set changes. "tailnet" never yields a wildcard address.
   * Thread: loop.
   * OWNERSHIP: on VSP_OK *out is the plugin's to stop with bind_unwatch before destroy returns;
   *   `ctx` is kept until then.
   * Returns: VSP_OK; VSP_E_INVALID for a malformed spec; VSP_E_UNSUPPORTED when no loaded
   *   netbind instance understands it (`err` then names what to configure). */
  int (*bind_watch)(vsp_host_instance* hi, const char* spec, vsp_bind_fn fn, void* ctx,
                    vsp_host_bind** out, vsp_error* err);
  /* Stops a watch; `fn` is not called afterwards. Allowed inside `fn`.
   * Thread: loop.
   * OWNERSHIP: the handle is invalid afterwards. */
  void (*bind_unwatch)(vsp_host_bind* watch);

  /* Tells the host what this instance listens on, so discovery plugins can publish it. Each call
   * replaces the instance's previous announcement; address_count 0 (not listening anywhere right
   * now) withdraws it.
   * Thread: loop. */
  void (*listener_update)(vsp_host_instance* hi, const vsp_listener_info* info);

  /* ---- Reply batching (ABI 1.2) ----
   * A host before 1.2 does not have these: ask VSP_HAS_MEMBER(vsp_host_api, host, batch_end)
   * first (vsp::ReplyBatch does). */

  /* A transport that hands the host several messages in a row (the lines of one read) brackets
   * those conn_recv calls with batch_begin and batch_end. The host may then hold the replies they
   * cause (on any connection) until batch_end and pass each connection's held replies to its
   * transport together (send_batch): one gathered write instead of one per reply. Nothing between
   * the two calls blocks, and nothing is held past batch_end. Pairs may nest; every batch_begin
   * needs its batch_end.
   * Thread: any; both calls of a pair on the same thread (the batch belongs to the thread).
   *   batch_end may call send_batch/send for any connection before it returns. */
  void (*batch_begin)(vsp_host_instance* hi);
  void (*batch_end)(vsp_host_instance* hi);

  /* ---- A transport's I/O threads (ABI 1.6) ----
   * A host before 1.6 does not have these: ask VSP_HAS_MEMBER(vsp_host_api, host, io_thread_end)
   * first (vsp::IoThreadLink does). A transport that never calls them still works. */

  /* Registers the calling thread as one of this transport's I/O threads, the threads that open
   * its connections and deliver their messages. The host binds the thread to a part of its core
   * (docs/design.md, "A core on more than one thread"), and may then queue work of that part for
   * this thread instead of running it on the thread that caused it: when it does, it calls
   * `wake(ctx)`, and the transport answers with io_thread_run on this thread.
   * Thread: the I/O thread itself, before it opens a connection or delivers a message.
   * OWNERSHIP: the handle is the plugin's to end with io_thread_end, on this same thread, before
   *   destroy returns; `ctx` is kept until then.
   * Returns: the handle, or NULL (out of memory, NULL wake, or a gateway with no work to give
   *   its threads): the thread works without one. */
  vsp_host_io_thread* (*io_thread_begin)(vsp_host_instance* hi, vsp_wake_fn wake, void* ctx);
  /* Runs the work the host queued for this thread, and returns once there is none left or it has
   * run its share (the host wakes the thread again for the rest). May call send, close, admit or
   * send_batch for any connection before it returns, as conn_recv may.
   * Thread: the thread that registered `thread`; not from inside another call into the host. */
  void (*io_thread_run)(vsp_host_io_thread* thread);
  /* Unregisters the thread. When it returns, `wake` is not called again and no call of it is
   * running. A wake-up it has not answered need not be: the host gives that work to another
   * thread, or runs it before returning.
   * Thread: the thread that registered `thread`.
   * OWNERSHIP: the handle is invalid afterwards. */
  void (*io_thread_end)(vsp_host_io_thread* thread);
};

#ifdef __cplusplus
}
#endif

#endif /* VESPID_HOST_H */
