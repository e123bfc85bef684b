#include "request_facts.hpp"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <iterator>
#include <nlohmann/json.hpp>
#include <vector>

#include "json_write.hpp"

namespace vespid::ws {

namespace urls = boost::urls;

namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return lowercase(a) == lowercase(b);
}

// Browsers send some characters RFC 3986 keeps out of a query ("[", "]", "{", "|", ...)
// unescaped. Escaping those (and nothing else: escapes already there stay as they are) lets
// Boost.URL read the query the way the client meant it.
std::string escape_stray_characters(std::string_view query) {
  constexpr auto kQueryChars = urls::pchars + '/' + '?';
  std::string out;
  out.reserve(query.size());
  for (const char c : query) {
    if (c == '%' || kQueryChars(c)) {
      out += c;
    } else {
      out += urls::encode(std::string_view(&c, 1), kQueryChars);
    }
  }
  return out;
}

}  // namespace

std::optional<Target> split_target(std::string_view target) {
  if (target.empty() || target.front() != '/') return std::nullopt;
  const auto q = target.find('?');
  if (q == std::string_view::npos) return Target{target, {}};
  return Target{target.substr(0, q), target.substr(q + 1)};
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  const auto valid = urls::make_pct_string_view(text);
  if (!valid) return std::nullopt;
  urls::encoding_opts opts;
  opts.space_as_plus = plus_is_space;
  return valid->decode(opts);
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  const std::string escaped = escape_stray_characters(query);  // the views below point into it
  const auto params = urls::parse_query(escaped);
  if (!params) return std::nullopt;  // a malformed escape
  urls::encoding_opts form;
  form.space_as_plus = true;
  for (const urls::param_pct_view param : *params) {
    if (param.key.decode(form) == name) return param.value.decode(form);
  }
  return std::nullopt;
}

std::optional<std::string> bearer_token(const boost::beast::http::fields& fields) {
  const auto it = fields.find(boost::beast::http::field::authorization);
  if (it == fields.end()) return std::nullopt;
  std::string_view v = it->value();
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  constexpr std::string_view kScheme = "bearer";
  if (v.size() <= kScheme.size() || !iequals(v.substr(0, kScheme.size()), kScheme) ||
      (v[kScheme.size()] != ' ' && v[kScheme.size()] != '\t')) {
    return std::nullopt;
  }
  v.remove_prefix(kScheme.size());
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  return std::string(v);
}

namespace {

// One header of the object headers_json writes: its name lowercased and its value, or all its
// values joined when the field was repeated.
struct HeaderField {
  std::string name;
  std::string_view value;  // the first field's, borrowed from the request
  std::string joined;      // set only when the field was repeated, and then the value
  bool repeated = false;

  std::string_view text() const noexcept { return repeated ? std::string_view(joined) : value; }
};

// Up to this many header lines are sorted by insertion; more (max_header_bytes is the operator's
// to raise) by a merge sort, so that a request of many tiny headers costs n log n, not n squared.
constexpr std::size_t kInsertionSortMax = 32;

}  // namespace

std::string headers_json(const boost::beast::http::fields& fields) {
  // Names lowercased, sorted (stably: a repeated name keeps its values' order), a repeated name
  // joined onto the first; written in name order, which is the order nlohmann's object has, so
  // the text is what dumping that object would give.
  std::vector<HeaderField> merged;
  // Sized to the request, so that the usual few headers take one small block.
  merged.reserve(static_cast<std::size_t>(std::distance(fields.begin(), fields.end())));
  for (const auto& f : fields)
    merged.push_back(HeaderField{lowercase(f.name_string()), f.value(), {}, false});
  const auto by_name = [](const HeaderField& a, const HeaderField& b) { return a.name < b.name; };
  if (merged.size() <= kInsertionSortMax) {
    // A request's usual few headers: an insertion sort, stable and with no buffer to allocate.
    for (auto it = merged.begin(); it != merged.end(); ++it) {
      std::rotate(std::upper_bound(merged.begin(), it, *it, by_name), it, it + 1);
    }
  } else {
    std::stable_sort(merged.begin(), merged.end(), by_name);  // n log n for a request of many
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < merged.size(); ++i) {
    if (kept > 0 && merged[kept - 1].name == merged[i].name) {
      HeaderField& first = merged[kept - 1];
      if (!first.repeated) first.joined.assign(first.value);
      first.repeated = true;
      first.joined += first.name == "cookie" ? "; " : ", ";
      first.joined += merged[i].value;
    } else {
      if (kept != i) merged[kept] = std::move(merged[i]);
      ++kept;
    }
  }
  merged.resize(kept);
  bool utf8 = true;
  std::size_t size = 2;
  for (const HeaderField& h : merged) {
    utf8 = utf8 && json_write::valid_utf8(h.name) && json_write::valid_utf8(h.text());
    size += h.name.size() + h.text().size() + 6;
  }
  if (!utf8) {
    // Header bytes are not guaranteed UTF-8 (obs-text): what is not is replaced, never refused.
    nlohmann::json out = nlohmann::json::object();
    for (const HeaderField& h : merged) out[h.name] = std::string(h.text());
    return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string out;
  out.reserve(size + size / 8);
  out.push_back('{');
  for (const HeaderField& h : merged) {
    if (out.size() > 1) out.push_back(',');
    json_write::append_string(out, h.name);
    out.push_back(':');
    json_write::append_string(out, h.text());
  }
  out.push_back('}');
  return out;
}

}  // namespace vespid::ws
