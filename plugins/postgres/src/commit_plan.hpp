// A batch of storage transactions turned into the parameters of the one-statement-per-
// transaction SQL (statements.cpp, kTxn), and the outcomes of a batch as the bytes the commit
// log keeps.
#pragma once

#include <vespid/storage.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "params.hpp"

namespace vespid::postgres {

// Throws vsp::Error(VSP_E_INVALID) for a malformed batch (unknown op, NULL pointer with a
// length), before anything is sent.
void validate_batch(const vsp_txn* txns, size_t count, const vsp_txn_result* results);

class CommitPlan {
 public:
  // Copies what it needs from `txns` (the arrays are encodings, not views).
  CommitPlan(const vsp_txn* txns, size_t count);

  size_t size() const noexcept { return txns_.size(); }
  // The six parameters of transaction i's statement, borrowing from this plan: compare ops,
  // keys and versions (in order), the keys it deletes, the keys and values it puts. Repeated
  // writes of one key are folded into the last (put then delete is a delete; delete then put a
  // put), so the delete and put sets are disjoint and each key appears once.
  Params params(size_t i) const;

 private:
  struct Encoded {
    std::string ops, compare_keys, versions, deletes, put_keys, put_values;
  };
  std::vector<Encoded> txns_;
};

// The outcomes of a batch, 9 bytes per transaction: 0 and the revision, or 1 and the index of
// the failed compare.
std::string encode_outcomes(const vsp_txn_result* results, size_t count);
// false when `blob` does not hold `count` outcomes.
bool decode_outcomes(std::string_view blob, vsp_txn_result* results, size_t count);

}  // namespace vespid::postgres
