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
 *
 * Connection lifetime:
 *   1. transport accepts a socket, calls host->conn_open(...) -> vsp_host_conn*
 *   2. transport calls host->conn_recv for every whole message, in order
 *   3. host calls vtbl->send for every outgoing message, vtbl->close to end the connection
 *   4. transport calls host->conn_closed exactly once when the socket is gone; afterwards it may
 *      free its vsp_plugin_conn
 */
#ifndef VESPID_TRANSPORT_H
#define VESPID_TRANSPORT_H

#include "vespid/host.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vsp_transport_vtbl {
  uint32_t struct_size; /* sizeof(vsp_transport_vtbl) as the plugin was built */
  vsp_lifecycle life;   /* see abi.h; all four on the loop thread */

  /* ANY thread, never concurrently for one connection, must not block. Queues one whole
   * message (borrowed; copy it) for `conn`. Writes queued in one turn of the transport's loop
   * should go out in one gathered write. Returns:
   *   VSP_OK         queued;
   *   VSP_E_BUSY     queued, but the queue is above its high-water mark: the host holds further
   *                  non-essential messages until host->conn_writable;
   *   VSP_E_OVERFLOW not queued: the queue is at its hard limit. The transport closes the
   *                  connection (a slow reader is dropped, never buffered without bound);
   *   VSP_E_CLOSED   the connection is closing. */
  int (*send)(vsp_plugin_instance* instance, vsp_plugin_conn* conn, const char* data, size_t len);

  /* ANY thread, must not block. Ends the connection: flush what is queued (best effort, bounded
   * by the transport's own timeout), then close and call host->conn_closed. `code` is a
   * VSP_E_* status or VSP_OK for a normal close; `reason` (borrowed, may be NULL) may be shown to
   * the peer where the framing has room for it (a WebSocket close frame). */
  void (*close)(vsp_plugin_instance* instance, vsp_plugin_conn* conn, int code,
                const char* reason);

  /* ANY thread, exactly once per connection opened with VSP_CONN_ADMISSION, must not block.
   * The host's decision on a held handshake:
   *   status == VSP_OK: complete the handshake (HTTP 101 for a WebSocket upgrade) and start
   *                     delivering messages with conn_recv;
   *   otherwise:        refuse it: answer with `http_status` (401, 403, ...) and the JSON
   *                     `body` (borrowed, `body_len` bytes), then close and call conn_closed.
   * May be NULL in a transport that never sets VSP_CONN_ADMISSION. */
  void (*admit)(vsp_plugin_instance* instance, vsp_plugin_conn* conn, int status,
                int http_status, const char* body, size_t body_len);
} vsp_transport_vtbl;

#ifdef __cplusplus
}
#endif

#endif /* VESPID_TRANSPORT_H */
