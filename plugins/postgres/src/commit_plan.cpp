#include "commit_plan.hpp"

#include <limits>
#include <unordered_map>
#include <vespid/plugin.hpp>

namespace vespid::postgres {
namespace {

std::string_view bytes(const uint8_t* p, size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

[[noreturn]] void invalid(const std::string& message) {
  throw vsp::Error(VSP_E_INVALID, "postgres: " + message);
}

void check_bytes(const void* p, size_t n, const std::string& what) {
  if (p == nullptr && n > 0) invalid(what + " is NULL with a non-zero length");
}

}  // namespace

void validate_batch(const vsp_txn* txns, size_t count, const vsp_txn_result* results) {
  if (count == 0) return;
  if (txns == nullptr || results == nullptr) invalid("commit: txns or results is NULL");
  for (size_t i = 0; i < count; ++i) {
    const vsp_txn& t = txns[i];
    const std::string at = "commit: txn " + std::to_string(i);
    // The index of a failed compare travels back as an int4 array position.
    if (t.compare_count > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      invalid(at + " has too many compares");
    }
    check_bytes(t.compares, t.compare_count, at + " compares");
    check_bytes(t.writes, t.write_count, at + " writes");
    for (size_t c = 0; c < t.compare_count; ++c) {
      const vsp_compare& cmp = t.compares[c];
      if (cmp.op != VSP_CMP_ABSENT && cmp.op != VSP_CMP_PRESENT && cmp.op != VSP_CMP_VERSION) {
        invalid(at + " compare " + std::to_string(c) + " has unknown op " + std::to_string(cmp.op));
      }
      check_bytes(cmp.key, cmp.key_len, at + " compare " + std::to_string(c) + " key");
    }
    for (size_t w = 0; w < t.write_count; ++w) {
      const vsp_write& wr = t.writes[w];
      if (wr.op != VSP_WRITE_PUT && wr.op != VSP_WRITE_DELETE) {
        invalid(at + " write " + std::to_string(w) + " has unknown op " + std::to_string(wr.op));
      }
      check_bytes(wr.key, wr.key_len, at + " write " + std::to_string(w) + " key");
      if (wr.op == VSP_WRITE_PUT) {
        check_bytes(wr.value, wr.value_len, at + " write " + std::to_string(w) + " value");
      }
    }
  }
}

CommitPlan::CommitPlan(const vsp_txn* txns, size_t count) {
  txns_.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const vsp_txn& t = txns[i];
    std::vector<int32_t> ops;
    std::vector<std::string_view> compare_keys;
    std::vector<int64_t> versions;
    for (size_t c = 0; c < t.compare_count; ++c) {
      const vsp_compare& cmp = t.compares[c];
      ops.push_back(static_cast<int32_t>(cmp.op));
      compare_keys.push_back(bytes(cmp.key, cmp.key_len));
      // A version past INT64_MAX wraps negative and matches no stored version, as it should:
      // no revision ever gets that high.
      versions.push_back(static_cast<int64_t>(cmp.version));
    }
    // The net effect per key: the last write wins, in the order the writes came.
    struct Net {
      bool put;
      std::string_view value;
    };
    std::vector<std::string_view> order;
    std::unordered_map<std::string_view, Net> net;
    for (size_t w = 0; w < t.write_count; ++w) {
      const vsp_write& wr = t.writes[w];
      const std::string_view key = bytes(wr.key, wr.key_len);
      const Net n{wr.op == VSP_WRITE_PUT, bytes(wr.value, wr.value_len)};
      auto [it, inserted] = net.try_emplace(key, n);
      if (inserted) {
        order.push_back(key);
      } else {
        it->second = n;
      }
    }
    std::vector<std::string_view> deletes, put_keys, put_values;
    for (auto key : order) {
      const Net& n = net.at(key);
      if (n.put) {
        put_keys.push_back(key);
        put_values.push_back(n.value);
      } else {
        deletes.push_back(key);
      }
    }
    txns_.push_back(Encoded{encode_int4_array(ops), encode_bytea_array(compare_keys),
                            encode_int8_array(versions), encode_bytea_array(deletes),
                            encode_bytea_array(put_keys), encode_bytea_array(put_values)});
  }
}

Params CommitPlan::params(size_t i) const {
  const Encoded& e = txns_.at(i);
  Params p;
  p.borrow(e.ops);
  p.borrow(e.compare_keys);
  p.borrow(e.versions);
  p.borrow(e.deletes);
  p.borrow(e.put_keys);
  p.borrow(e.put_values);
  return p;
}

std::string encode_outcomes(const vsp_txn_result* results, size_t count) {
  std::string out;
  out.reserve(count * 9);
  for (size_t i = 0; i < count; ++i) {
    const bool applied = results[i].status == VSP_OK;
    out.push_back(applied ? '\0' : '\1');
    const uint64_t v = applied ? results[i].revision : results[i].failed_compare;
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  return out;
}

bool decode_outcomes(std::string_view blob, vsp_txn_result* results, size_t count) {
  if (blob.size() != count * 9) return false;
  for (size_t i = 0; i < count; ++i) {
    const std::string_view one = blob.substr(i * 9, 9);
    uint64_t v = 0;
    for (size_t b = 1; b < 9; ++b) v = (v << 8) | static_cast<uint8_t>(one[b]);
    results[i] = vsp_txn_result{};
    if (one[0] == '\0') {
      results[i].status = VSP_OK;
      results[i].revision = v;
    } else {
      results[i].status = VSP_E_CONFLICT;
      results[i].failed_compare = static_cast<uint32_t>(v);
    }
  }
  return true;
}

}  // namespace vespid::postgres
