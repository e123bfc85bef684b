#include "params.hpp"

#include <limits>
#include <stdexcept>
#include <vespid/plugin.hpp>

namespace vespid::postgres {
namespace {

// libpq reads a parameter through its pointer even when the length is 0, and a NULL pointer
// means SQL NULL, so an empty value needs a real address.
constexpr char kEmpty[1] = {0};

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_u64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

int32_t checked_length(size_t n) {
  // The wire format counts in int32; a bytea is at most 1 GB anyway.
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    throw vsp::Error(VSP_E_INVALID, "postgres: a key or value of " + std::to_string(n) +
                                        " bytes is larger than PostgreSQL can store (1 GB)");
  }
  return static_cast<int32_t>(n);
}

// ndim, has-nulls flag, element type, then (size, lower bound) per dimension. An empty array
// has no dimensions at all.
std::string array_header(uint32_t elem_oid, size_t count) {
  std::string out;
  put_u32(out, count == 0 ? 0 : 1);
  put_u32(out, 0);
  put_u32(out, elem_oid);
  if (count > 0) {
    put_u32(out, static_cast<uint32_t>(checked_length(count)));
    put_u32(out, 1);
  }
  return out;
}

}  // namespace

void Params::bytes(std::string_view b) {
  checked_length(b.size());
  params_.push_back(Param{std::string(b), {}, false, false});
  values_.clear();
}

void Params::borrow(std::string_view b) {
  checked_length(b.size());
  params_.push_back(Param{{}, b, true, false});
  values_.clear();
}

void Params::int8(int64_t v) {
  bytes(encode_int8(v));
}

void Params::null() {
  params_.push_back(Param{{}, {}, false, true});
  values_.clear();
}

void Params::build() const {
  if (values_.size() == params_.size()) return;
  values_.clear();
  lengths_.clear();
  formats_.clear();
  for (const Param& p : params_) {
    std::string_view v = p.is_borrowed ? p.borrowed : std::string_view(p.owned);
    values_.push_back(p.is_null ? nullptr
                                : (v.data() != nullptr && !v.empty() ? v.data() : kEmpty));
    lengths_.push_back(static_cast<int>(v.size()));
    formats_.push_back(1);
  }
}

const char* const* Params::values() const {
  build();
  return values_.data();
}

const int* Params::lengths() const {
  build();
  return lengths_.data();
}

const int* Params::formats() const {
  build();
  return formats_.data();
}

std::string encode_int8(int64_t v) {
  std::string out;
  put_u64(out, static_cast<uint64_t>(v));
  return out;
}

std::string encode_bytea_array(const std::vector<std::string_view>& items) {
  size_t total = 20;
  for (auto i : items) total += 4 + i.size();
  std::string out = array_header(kByteaOid, items.size());
  out.reserve(total);
  for (auto i : items) {
    put_u32(out, static_cast<uint32_t>(checked_length(i.size())));
    out.append(i.data() != nullptr ? i.data() : kEmpty, i.size());
  }
  return out;
}

std::string encode_int4_array(const std::vector<int32_t>& items) {
  std::string out = array_header(kInt4Oid, items.size());
  for (int32_t i : items) {
    put_u32(out, 4);
    put_u32(out, static_cast<uint32_t>(i));
  }
  return out;
}

std::string encode_int8_array(const std::vector<int64_t>& items) {
  std::string out = array_header(kInt8Oid, items.size());
  for (int64_t i : items) {
    put_u32(out, 8);
    put_u64(out, static_cast<uint64_t>(i));
  }
  return out;
}

int64_t decode_int8(std::string_view field) {
  if (field.size() != 8) {
    throw vsp::Error(VSP_E_INTERNAL, "postgres: expected an 8-byte integer from the server, got " +
                                         std::to_string(field.size()) + " bytes");
  }
  uint64_t v = 0;
  for (char c : field) v = (v << 8) | static_cast<uint8_t>(c);
  return static_cast<int64_t>(v);
}

}  // namespace vespid::postgres
