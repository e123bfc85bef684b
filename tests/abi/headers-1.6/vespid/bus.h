/*
 * Bus plugins (ABI 1.3): the message bus between the gateways of one system. A gateway has
 * exactly one bus instance; `local` (in-process, the default) serves a single gateway, `nats`
 * (a NATS server) connects several.
 *
 * Subjects are NATS-style: tokens of printable ASCII other than space, separated by '.', none
 * empty ("presence.gw-1", "invoke.node.ab12"). A subscription pattern may use two wildcards as
 * whole tokens: `*` matches exactly one token, and `>`, only as the last token, matches one or
 * more trailing tokens ("invoke.>" matches "invoke.node.ab12" but not "invoke"). Published
 * subjects never contain wildcards. Payloads are opaque bytes; the plugin says how large one may
 * be (its README) and refuses a larger one with VSP_E_OVERFLOW.
 *
 * Delivery is at most once: a message published while nobody is subscribed, or while the bus is
 * down, is gone. Within one subscription, messages arrive one at a time (never two calls of its
 * `fn` at once) and, from one publisher, in the order they were published.
 *
 * Request/reply is built on publish: `request` publishes with a reply subject (an "inbox") of
 * the plugin's own making and waits for the first message on it; a responder answers by
 * publishing to the reply_to it received.
 *
 * Threads (THREADING in vespid/abi.h): the lifecycle and set_state_callback run on the loop
 * thread; publish, subscribe, unsubscribe, request and is_up may be called on any thread, also
 * from inside the plugin's own callbacks. The plugin calls message, reply and state callbacks on
 * any thread, typically a delivery thread of its own; the host hops to its own threads itself.
 */
#ifndef VESPID_BUS_H
#define VESPID_BUS_H

#include "vespid/host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One message lent to a subscription's callback. Nothing is NUL-terminated; all of it is valid
 * only during the call. reply_len is 0 when the publisher gave no reply subject. */
typedef struct vsp_bus_msg {
  uint32_t struct_size;
  const char* subject;
  size_t subject_len;
  const char* reply_to;
  size_t reply_len;
  const uint8_t* data;
  size_t len;
} vsp_bus_msg;

/* A message for a subscription.
 * Thread: any (the plugin's); never two calls at once for one subscription, and in publish
 *   order per publisher. It may call publish, request, subscribe and unsubscribe, including
 *   unsubscribe of its own subscription. */
typedef void (*vsp_bus_msg_fn)(void* ctx, const vsp_bus_msg* msg);

/* The outcome of one request, `status` being
 *   VSP_OK            the first reply arrived: `data`/`len` (borrowed for the call)
 *   VSP_E_TIMEOUT     no reply within the request's timeout
 *   VSP_E_NOT_FOUND   nobody is subscribed to the subject ("no responders")
 *   VSP_E_CLOSED      the bus went down (or the instance stopped) while waiting
 * and `data` NULL, `len` 0 for every status but VSP_OK.
 * Thread: any, exactly once per request that returned VSP_OK, possibly before request returns. */
typedef void (*vsp_bus_reply_fn)(void* ctx, int status, const uint8_t* data, size_t len);

/* The bus went down (`up` 0) or came back (`up` 1). `reason` is a short NUL-terminated text for
 * the log ("connection to nats://10.0.0.5:4222 lost: ...", "reconnected to ..."), borrowed for
 * the call.
 * Thread: any; calls come one at a time, in the order of the changes, and only on a change. */
typedef void (*vsp_bus_state_fn)(void* ctx, int up, const char* reason);

typedef struct vsp_bus_vtbl {
  uint32_t struct_size; /* sizeof(vsp_bus_vtbl) as the plugin was built */
  vsp_lifecycle life;   /* see abi.h; `start` connects (or, where the plugin's config allows, begins
                           connecting), `stop` fails every waiting request with VSP_E_CLOSED */

  /* Publishes one message: `subject` (no wildcards), an optional reply subject (reply_len 0:
   * none) and `len` bytes of data. Never blocks: the message is queued for the plugin's own
   * thread or written to a buffer of bounded size.
   * Thread: any.
   * Returns: VSP_OK (queued; delivery is at most once), VSP_E_CLOSED when the bus is down or the
   *   instance is not started (nothing is queued for later), VSP_E_OVERFLOW when the message is
   *   larger than the plugin's payload limit or its bounded outgoing buffer is full,
   *   VSP_E_INVALID for a malformed subject or reply subject. */
  int (*publish)(vsp_plugin_instance* instance, const char* subject, size_t subject_len,
                 const char* reply_to, size_t reply_len, const uint8_t* data, size_t len,
                 vsp_error* err);

  /* Subscribes to `pattern` (NUL-terminated; wildcards allowed). With a `queue_group`
   * (NUL-terminated; NULL or "" for none), the subscriptions of one group share the messages:
   * each message matching the group's pattern goes to one member of the group, whichever gateway
   * it lives in. Messages go to fn(ctx, msg) until unsubscribe. The subscription lasts across a
   * loss of the connection: the plugin subscribes again when the bus is back.
   * Thread: any.
   * OWNERSHIP: `fn` and `ctx` are kept until unsubscribe(*handle) returns (or until destroy).
   * Returns: VSP_OK and sets *handle (non-zero), VSP_E_INVALID for a malformed pattern or queue
   *   group, VSP_E_CLOSED when the instance is not started, or another status with `err`. A
   *   bus that is down (but started) accepts subscriptions and makes them when it is back. */
  int (*subscribe)(vsp_plugin_instance* instance, const char* pattern, const char* queue_group,
                   vsp_bus_msg_fn fn, void* ctx, uint64_t* handle, vsp_error* err);

  /* Ends a subscription. When it returns, `fn` is not running for it (unless the caller is that
   * very call of `fn`) and will not be called again, so the caller may free `ctx`. Unknown
   * handles are ignored. Do not hold a lock across it that the subscription's `fn` takes.
   * Thread: any, including inside `fn` (of this or another subscription).
   * OWNERSHIP: ends the plugin's hold on the subscription's `fn` and `ctx`. */
  void (*unsubscribe)(vsp_plugin_instance* instance, uint64_t handle);

  /* Publishes `data` to `subject` with a reply subject of the plugin's making, and reports the
   * first reply, a timeout after `timeout_ms` (0: the plugin's configured default), the absence
   * of any subscriber, or the loss of the bus, through fn (see vsp_bus_reply_fn). A bus that
   * goes down while the request waits fails it at once with VSP_E_CLOSED, not at its timeout.
   * Thread: any.
   * OWNERSHIP: on VSP_OK, `fn` and `ctx` are kept until fn has been called, exactly once.
   * Returns: VSP_OK (fn will be called), or, and then fn is never called: VSP_E_CLOSED (the bus
   *   is down or the instance not started), VSP_E_OVERFLOW (too large, or buffer full),
   *   VSP_E_INVALID (malformed subject). */
  int (*request)(vsp_plugin_instance* instance, const char* subject, size_t subject_len,
                 const uint8_t* data, size_t len, uint32_t timeout_ms, vsp_bus_reply_fn fn,
                 void* ctx, vsp_error* err);

  /* Sets the callback that hears the bus go down and come back, replacing any earlier one
   * (fn NULL: none). The host calls it once, after create and before start, so that no change
   * is missed; is_up says the state at any moment.
   * Thread: loop.
   * OWNERSHIP: `fn` and `ctx` are kept until replaced or until destroy. */
  void (*set_state_callback)(vsp_plugin_instance* instance, vsp_bus_state_fn fn, void* ctx);

  /* Whether the bus is up now: messages can be published and requests sent.
   * Thread: any.
   * Returns: 1 up, 0 down (or not started). */
  int (*is_up)(vsp_plugin_instance* instance);
} vsp_bus_vtbl;

#ifdef __cplusplus
}
#endif

#endif /* VESPID_BUS_H */
