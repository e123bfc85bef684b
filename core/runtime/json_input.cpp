#include "runtime/json_input.hpp"

#include <atomic>
#include <cstring>
#include <string>
#include <type_traits>

#include "json_scan.hpp"

namespace vespid::core::json_input {

namespace {

using json = nlohmann::json;

std::atomic<int> g_max_depth{kDefaultMaxDepth};

// Builds the DOM as json::parse does and counts open containers; one too many ends the parse
// before the DOM gets deeper.
class DepthCappedSax {
 public:
  DepthCappedSax(json& root, int limit) : dom_(root, /*allow_exceptions=*/true), limit_(limit) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) {
    return dom_.number_float(v, s);
  }
  bool string(json::string_t& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) { return open() && dom_.start_object(n); }
  bool key(json::string_t& k) { return dom_.key(k); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return open() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  // A template, as the DOM parser's: it rethrows the exact exception type (parse_error), which
  // a parameter of the base type would slice.
  template <class Exception>
  bool parse_error(std::size_t pos, const std::string& token, const Exception& e) {
    // A number too large for a double ("1e400") is reported as out_of_range (406): still
    // malformed input, so it leaves as the parse_error every caller handles.
    if constexpr (std::is_same_v<Exception, json::out_of_range>) {
      throw json::parse_error::create(101, pos, e.what(), nullptr);
    }
    return dom_.parse_error(pos, token, e);  // throws
  }

  bool too_deep() const { return too_deep_; }

 private:
  bool open() {
    if (++depth_ > limit_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  int limit_;
  int depth_ = 0;
  bool too_deep_ = false;
};

// Counts depth without building anything (for accept()).
class DepthCheckSax : public nlohmann::json_sax<json> {
 public:
  explicit DepthCheckSax(int limit) : limit_(limit) {}
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return ++depth_ <= limit_; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return --depth_ >= 0; }
  bool start_array(std::size_t) override { return ++depth_ <= limit_; }
  bool end_array() override { return --depth_ >= 0; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  int limit_;
  int depth_ = 0;
};

}  // namespace

void set_max_depth(int depth) {
  g_max_depth.store(depth < 1 ? 1 : depth);
}

int max_depth() {
  return g_max_depth.load(std::memory_order_relaxed);
}

json parse(std::string_view text) {
  // nlohmann's reader takes a NUL byte for the end of the input and would accept what follows
  // it unread ("{}\0junk"); no JSON text contains one.
  if (const void* nul = std::memchr(text.data(), '\0', text.size()); nul != nullptr) {
    throw json::parse_error::create(
        101, static_cast<std::size_t>(static_cast<const char*>(nul) - text.data()) + 1,
        "a NUL byte is not allowed in JSON text", nullptr);
  }
  json root;
  // The scan builds nearly every DOM in one pass; what it refuses, or is too cautious for (a
  // number that underflows a double), nlohmann's parser settles, with its own error message.
  if (json_scan::build_dom(text, max_depth(), root)) return root;
  DepthCappedSax sax(root, max_depth());
  const bool ok = json::sax_parse(text.begin(), text.end(), &sax);
  if (!ok && sax.too_deep()) {
    throw json::parse_error::create(101, 0,
                                    "JSON nested deeper than " + std::to_string(max_depth()) +
                                        " levels (limits.json_max_depth)",
                                    nullptr);
  }
  return root;
}

bool accept(std::string_view text) {
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) return false;  // see parse()
  DepthCheckSax sax(max_depth());
  return json::sax_parse(text.begin(), text.end(), &sax);
}

}  // namespace vespid::core::json_input
