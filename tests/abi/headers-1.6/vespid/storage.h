/*
 * Storage plugins: an ordered key-value store with one transaction primitive in the style of
 * etcd's Txn. The core's repository builds every table and index on it, once, for all backends.
 *
 * Data model:
 *   - Keys and values are byte strings. Keys order bytewise (memcmp, shorter first on a tie).
 *   - Every committed transaction gets a *revision*: a 64-bit integer, strictly increasing across
 *     the store's lifetime, starting at 1.
 *   - Every key carries a *version*: the revision of the transaction that last wrote it.
 *
 * Threads: every function in this table, the lifecycle included, runs on the host's storage
 * thread, one call at a time, and may block on disk I/O (THREADING in vespid/abi.h).
 *
 * DURABILITY: when `commit` returns VSP_OK, every applied transaction in the batch is durable
 * (survives a crash of the process, and of the machine where the backend's settings promise it).
 * A backend that offers ABI 1.4's `commit_unsynced` and `sync` also lets the host split that in
 * two: transactions *applied* (visible to every later call, and written where a crash of the
 * process cannot lose them) now, and made durable against a crash of the machine by a later
 * `sync` or `commit`. The host uses it to act on a write while its sync is still running.
 */
#ifndef VESPID_STORAGE_H
#define VESPID_STORAGE_H

#include "vespid/host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One key-value pair lent to a sink. Pointers are valid only during the sink call. */
typedef struct vsp_kv {
  const uint8_t* key;
  size_t key_len;
  const uint8_t* value;
  size_t value_len;
  uint64_t version;
} vsp_kv;

/* Receives pairs.
 * Thread: storage, inside the get or scan it was given to.
 * Returns: 0 to continue, non-zero to stop early (the call then still succeeds). */
typedef int (*vsp_kv_sink_fn)(void* ctx, const vsp_kv* kv);

#define VSP_CMP_ABSENT 1u  /* the key does not exist */
#define VSP_CMP_PRESENT 2u /* the key exists (any version) */
#define VSP_CMP_VERSION 3u /* the key exists and its version equals `version` */

typedef struct vsp_compare {
  uint32_t op; /* VSP_CMP_* */
  const uint8_t* key;
  size_t key_len;
  uint64_t version; /* for VSP_CMP_VERSION */
} vsp_compare;

#define VSP_WRITE_PUT 1u
#define VSP_WRITE_DELETE 2u /* deleting an absent key is not an error */

typedef struct vsp_write {
  uint32_t op; /* VSP_WRITE_* */
  const uint8_t* key;
  size_t key_len;
  const uint8_t* value; /* for VSP_WRITE_PUT */
  size_t value_len;
} vsp_write;

/* One transaction: all writes are applied atomically if and only if every compare holds.
 * Writes apply in order (a later write to the same key wins). */
typedef struct vsp_txn {
  const vsp_compare* compares;
  size_t compare_count;
  const vsp_write* writes;
  size_t write_count;
} vsp_txn;

/* The outcome of one transaction of a batch, written by the backend. */
typedef struct vsp_txn_result {
  int32_t status;          /* VSP_OK applied; VSP_E_CONFLICT a compare failed, nothing applied */
  uint32_t failed_compare; /* with VSP_E_CONFLICT: index of the first compare that failed */
  uint64_t revision;       /* with VSP_OK: the revision this transaction got */
} vsp_txn_result;

#define VSP_SCAN_REVERSE 0x1u

typedef struct vsp_storage_vtbl {
  uint32_t struct_size; /* sizeof(vsp_storage_vtbl) as the plugin was built */
  vsp_lifecycle life;   /* see abi.h */

  /* Looks up one key.
   * Thread: storage.
   * Returns: VSP_OK after calling sink once (its return value is ignored); VSP_E_NOT_FOUND when
   *   absent; another status with `err` filled on failure. */
  int (*get)(vsp_plugin_instance* instance, const uint8_t* key, size_t key_len, vsp_kv_sink_fn sink,
             void* sink_ctx, vsp_error* err);

  /* Calls sink for each key in [start, end) in key order (descending with VSP_SCAN_REVERSE), at
   * most `limit` times (0 means no limit). An empty `end` (end_len == 0) means no upper bound.
   * Thread: storage.
   * Returns: VSP_OK, or a status with `err` filled. */
  int (*scan)(vsp_plugin_instance* instance, const uint8_t* start, size_t start_len,
              const uint8_t* end, size_t end_len, uint32_t limit, uint32_t flags,
              vsp_kv_sink_fn sink, void* sink_ctx, vsp_error* err);

  /* Applies a batch of independent transactions, in order, each atomically on its own (a
   * conflict in one does not affect the others), and makes the applied ones durable before
   * returning.
   * Thread: storage.
   * OWNERSHIP: `results` (`count` entries) is the host's; the backend fills every entry.
   * Returns: VSP_OK when every result is meaningful; any other status means the batch as a whole
   *   failed and NOTHING of it was applied (VSP_E_FULL when out of space, VSP_E_IO otherwise). */
  int (*commit)(vsp_plugin_instance* instance, const vsp_txn* txns, size_t count,
                vsp_txn_result* results, vsp_error* err);

  /* ---- ABI 1.4: optional, both or neither (NULL, or a table that ends at `commit`) ---- */

  /* Like `commit` (same batch, same results, same all-or-nothing failure), but returns as soon
   * as the applied transactions are visible to every later call and would survive a crash of
   * the process (written to the operating system), without waiting for them to survive a crash
   * of the machine. A later `sync`, or a later `commit`, makes them durable too.
   * Thread: storage.
   * OWNERSHIP: as for `commit`.
   * Returns: as for `commit`. */
  int (*commit_unsynced)(vsp_plugin_instance* instance, const vsp_txn* txns, size_t count,
                         vsp_txn_result* results, vsp_error* err);

  /* Makes every transaction applied so far durable, as `commit` would have left it. Cheap when
   * nothing was applied since the last sync or `commit`.
   * Thread: storage.
   * Returns: VSP_OK; a failure status (VSP_E_IO, VSP_E_FULL) with `err` filled when the backend
   *   could not make them durable: they stay applied, and the host reports the failure to the
   *   writers that waited for it. */
  int (*sync)(vsp_plugin_instance* instance, vsp_error* err);
} vsp_storage_vtbl;

#ifdef __cplusplus
}
#endif

#endif /* VESPID_STORAGE_H */
