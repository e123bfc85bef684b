// Query parameters in PostgreSQL's binary wire format, and the binary encodings of the few types
// the plugin sends: bytea (raw bytes), int8 (big-endian), and one-dimensional arrays of bytea,
// int4 and int8 (array_send's layout). Binary bytea needs no escaping, so any byte (NUL
// included) travels as is and an empty value stays distinct from NULL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vespid::postgres {

// Type OIDs from PostgreSQL's catalog (pg_type.dat); fixed since forever.
inline constexpr uint32_t kByteaOid = 17;
inline constexpr uint32_t kInt8Oid = 20;
inline constexpr uint32_t kInt4Oid = 23;

class Params {
 public:
  Params() = default;
  // Moving drops the pointer arrays: they may point into the moved strings' inline buffers.
  Params(Params&& o) noexcept : params_(std::move(o.params_)) {}
  Params& operator=(Params&& o) noexcept {
    params_ = std::move(o.params_);
    values_.clear();
    return *this;
  }
  Params(const Params&) = delete;
  Params& operator=(const Params&) = delete;

  // A binary parameter holding a copy of `bytes`.
  void bytes(std::string_view bytes);
  // A binary parameter pointing at `bytes`, which must outlive every use of this object (the
  // storage thread lends the caller's keys and values this way while it waits for the query).
  void borrow(std::string_view bytes);
  void int8(int64_t v);
  void null();

  int count() const noexcept { return static_cast<int>(params_.size()); }
  // Arrays for PQsendQueryPrepared / PQsendQueryParams, valid until this object changes.
  const char* const* values() const;
  const int* lengths() const;
  const int* formats() const;

 private:
  struct Param {
    std::string owned;
    std::string_view borrowed;
    bool is_borrowed = false;
    bool is_null = false;
  };
  void build() const;

  std::vector<Param> params_;
  // Built on first use by build(); dropped whenever a parameter is added or the object moves.
  mutable std::vector<const char*> values_;
  mutable std::vector<int> lengths_;
  mutable std::vector<int> formats_;
};

// Binary encodings (what the server's *_recv functions read).
std::string encode_int8(int64_t v);
std::string encode_bytea_array(const std::vector<std::string_view>& items);
std::string encode_int4_array(const std::vector<int32_t>& items);
std::string encode_int8_array(const std::vector<int64_t>& items);

// Reads a big-endian integer of a binary-format result field.
int64_t decode_int8(std::string_view field);

}  // namespace vespid::postgres
