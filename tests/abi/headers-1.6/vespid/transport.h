/*
 * Transport plugins own sockets and framing, nothing else (as Janus transports do): a transport
 * accepts connections, turns bytes into whole messages, hands them to the host with conn_recv,
 * and writes whole messages the host gives it to `send`. Codecs, authentication, routing and
 * every protocol semantic live in the gateway core, so a user's own transport (a Unix socket,
 * QUIC, a serial line) gets every dialect for free.
 *
 * A listener is configured for one dialect per route ("operator.v1", "bridge.v1",
 * "vespid.node.v1", "vespid.client.v1", "rest.v1"); the transport reports it in
 * vsp_conn_info.dialect.
 *
 * rest.v1 carries HTTP requests through the same message interface: one connection per HTTP
 * connection, one message per request, one message back per request, in order:
 *   request  {"method":"POST","path":"/v1/agents/pair","query":"a=b",
 *             "headers":{"authorization":"Bearer ...", ...names lowercased},"body":"<text>"}
 *   response {"status":201,"headers":{"content-type":"application/json"},"body":"<text>"}
 * and, to a transport that opened the connection with VSP_CONN_REST_JSON_BODY, a JSON object or
 * array body as itself: {"status":201,"headers":{...},"body":{"id":"..."}} (its text is the
 * HTTP body). A transport that opened it with VSP_CONN_REST_RAW_BODY (1.5) writes a request as
 * the envelope without "body", a newline and the body's bytes:
 *   {"method":"POST","path":"/v1/agents/pair","query":"","headers":{...}}\n{"orgId":"..."}
 *
 * Connection lifetime:
 *   1. transport accepts a socket, calls host->conn_open(...) -> vsp_host_conn*
 *   2. transport calls host->conn_recv for every whole message, in order
 *   3. host calls vtbl->send for every outgoing message, vtbl->close to end the connection
 *   4. transport calls host->conn_closed exactly once when the socket is gone; afterwards it may
 *      free its vsp_plugin_conn
 *
 * Threads: see THREADING in vespid/abi.h; each function below names its thread.
 */
#ifndef VESPID_TRANSPORT_H
#define VESPID_TRANSPORT_H

#include "vespid/host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One whole message of a batch (send_batch). Borrowed for the duration of the call. */
typedef struct vsp_msg {
  const char* data;
  size_t len;
} vsp_msg;

/* The transport's table. "Thread: any" below carries the promises and duties that THREADING in
 * vespid/abi.h spells out for send, close, admit and send_batch (one at a time per connection,
 * possibly re-entered from the transport's own calls into the host, never blocking). */
typedef struct vsp_transport_vtbl {
  uint32_t struct_size; /* sizeof(vsp_transport_vtbl) as the plugin was built */
  vsp_lifecycle life;   /* see abi.h */

  /* Queues one whole message for `conn`. Writes queued in one turn of the transport's loop
   * should go out in one gathered write.
   * Thread: any.
   * Returns:
   *   VSP_OK         queued;
   *   VSP_E_BUSY     queued, but the queue is above its high-water mark: the host holds further
   *                  non-essential messages until host->conn_writable;
   *   VSP_E_OVERFLOW not queued: the queue is at its hard limit. The transport closes the
   *                  connection (a slow reader is dropped, never buffered without bound);
   *   VSP_E_CLOSED   the connection is closing. */
  int (*send)(vsp_plugin_instance* instance, vsp_plugin_conn* conn, const char* data, size_t len);

  /* Ends the connection: flush what is queued (best effort, bounded by the transport's own
   * timeout), then close. `code` is a VSP_E_* status or VSP_OK for a normal close; `reason` (may
   * be NULL) may be shown to the peer where the framing has room for it (a WebSocket close
   * frame).
   * Thread: any.
   * OWNERSHIP: the transport owes the host one conn_closed for `conn`, made later (never from
   *   inside this call). */
  void (*close)(vsp_plugin_instance* instance, vsp_plugin_conn* conn, int code, const char* reason);

  /* The host's decision on a handshake held with VSP_CONN_ADMISSION:
   *   status == VSP_OK: complete the handshake (HTTP 101 for a WebSocket upgrade) and start
   *                     delivering messages with conn_recv;
   *   otherwise:        refuse it: answer with `http_status` (401, 403, ...) and the JSON
   *                     `body` (`body_len` bytes), then close and call conn_closed.
   * May be NULL in a transport that never sets VSP_CONN_ADMISSION.
   * Thread: any; exactly once per connection opened with VSP_CONN_ADMISSION. */
  void (*admit)(vsp_plugin_instance* instance, vsp_plugin_conn* conn, int status, int http_status,
                const char* body, size_t body_len);

  /* ---- ABI 1.2 (absent in an older plugin's table, or NULL: the host then calls `send` per
   * message) ----
   * `count` whole messages in order, with the same rules as `send`. The host passes the replies
   * it held during a batch (host->batch_begin/batch_end, or a turn of its core) here together, so
   * that they leave in one gathered write even when the transport writes a foreign thread's
   * message to an idle socket at once.
   * Thread: any.
   * Returns: as `send`, for the batch as a whole. */
  int (*send_batch)(vsp_plugin_instance* instance, vsp_plugin_conn* conn, const vsp_msg* msgs,
                    size_t count);
} vsp_transport_vtbl;

#ifdef __cplusplus
}
#endif

#endif /* VESPID_TRANSPORT_H */
