#include "runtime/uuid_text.hpp"

#include <cctype>

namespace vespid::util {

namespace {

bool is_hex(char c) noexcept {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

// The two special values zod lists beside the versioned form, spelled as it spells them (its
// pattern has no case-insensitive flag, so the max uuid in upper case is refused).
constexpr std::string_view kNil = "00000000-0000-0000-0000-000000000000";
constexpr std::string_view kMax = "ffffffff-ffff-ffff-ffff-ffffffffffff";

}  // namespace

bool is_uuid(std::string_view text) noexcept {
  if (text == kNil || text == kMax) return true;
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_here ? text[i] != '-' : !is_hex(text[i])) return false;
  }
  const char version = text[14];
  const char variant = static_cast<char>(std::tolower(static_cast<unsigned char>(text[19])));
  return version >= '1' && version <= '8' &&
         (variant == '8' || variant == '9' || variant == 'a' || variant == 'b');
}

std::string lowercase_uuid(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace vespid::util
