// Drives one storage plugin instance through its C table with C++ conveniences: byte strings
// as std::string, a builder for transactions, results collected into vectors. Nothing here uses
// GoogleTest, so it also works in a forked child process.
#pragma once

#include <vespid/storage.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "test_host.hpp"

namespace vespid::storage_test {

// A byte string (may hold NUL and any other byte).
using Bytes = std::string;

// `bytes` with non-printable bytes escaped as \xNN, for failure messages.
std::string printable(std::string_view bytes);

struct Kv {
  Bytes key;
  Bytes value;
  uint64_t version = 0;
  bool operator==(const Kv&) const = default;
};
void PrintTo(const Kv& kv, std::ostream* os);

// One transaction, built fluently: Txn().absent("k").put("k", "v").
class Txn {
 public:
  Txn& absent(Bytes key);
  Txn& present(Bytes key);
  Txn& version_is(Bytes key, uint64_t version);
  Txn& put(Bytes key, Bytes value);
  Txn& del(Bytes key);

  // The C view of this transaction. Valid while this Txn lives unmodified.
  vsp_txn view() const;

 private:
  struct Compare {
    uint32_t op;
    Bytes key;
    uint64_t version;
  };
  struct Write {
    uint32_t op;
    Bytes key;
    Bytes value;
  };
  std::vector<Compare> compares_;
  std::vector<Write> writes_;
  mutable std::vector<vsp_compare> c_compares_;
  mutable std::vector<vsp_write> c_writes_;
};

// The outcome of one commit call.
struct Outcome {
  int status = VSP_OK;  // the call's return value
  std::string message;  // the vsp_error message when status != VSP_OK
  std::vector<vsp_txn_result> results;
};

class StoreClient {
 public:
  StoreClient(const vsp_storage_vtbl& vtbl, TestHost& host) : vtbl_(vtbl), host_(host) {}
  ~StoreClient() { close(); }
  StoreClient(const StoreClient&) = delete;
  StoreClient& operator=(const StoreClient&) = delete;

  // The lifecycle. `message` (optional) receives the error text on failure.
  int create(std::string_view config_json, std::string* message = nullptr);
  int start(std::string* message = nullptr);
  // stop (waiting up to 10 s for the plugin's done callback), then destroy. A created but not
  // started (or failed-start) instance is destroyed without stop, as the host does. Returns
  // false when done never came (the instance is then leaked, not destroyed under the plugin).
  bool close();
  bool created() const noexcept { return instance_ != nullptr; }

  int get(std::string_view key, Kv* out, std::string* message = nullptr);
  // Appends to *out. When stop_after > 0 the sink asks to stop after that many pairs.
  int scan(std::string_view start, std::string_view end, uint32_t limit, uint32_t flags,
           std::vector<Kv>* out, size_t stop_after = 0, std::string* message = nullptr);
  Outcome commit(const std::vector<Txn>& txns);
  // ABI 1.4, for a table that has them (has_deferred_sync()): the batch applied without its
  // sync, and the sync.
  bool has_deferred_sync() const noexcept {
    return vtbl_.commit_unsynced != nullptr && vtbl_.sync != nullptr;
  }
  Outcome commit_unsynced(const std::vector<Txn>& txns);
  int sync(std::string* message = nullptr);
  // The C call as is, for batches the Txn builder cannot express (malformed ones).
  int commit_raw(const vsp_txn* txns, size_t count, vsp_txn_result* results,
                 std::string* message = nullptr);

 private:
  const vsp_storage_vtbl& vtbl_;
  TestHost& host_;
  vsp_plugin_instance* instance_ = nullptr;
  bool started_ = false;
};

}  // namespace vespid::storage_test
