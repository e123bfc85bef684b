// What a request's head says, in the forms the host wants: path and query, credentials, and
// the headers as a JSON object with lowercased names.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace vespid::ws {

struct Target {
  std::string_view path;   // as sent (percent-encoded), always starting with '/'
  std::string_view query;  // without '?'; empty when absent
};

// Only origin-form targets ("/path?query") are served; nullopt for anything else. This only
// splits at the first '?': each part is checked where it is decoded (below), so a character a
// browser leaves unescaped does not make the request unroutable.
std::optional<Target> split_target(std::string_view target);

// Percent-decoding (Boost.URL); '+' becomes a space when `plus_is_space` (query strings).
// nullopt for a malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// The decoded value of the first `name=value` pair in a query string ("" for a bare `name`),
// read with Boost.URL. nullopt when there is none, or when the query has a malformed escape.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

// The token of "Authorization: Bearer <token>" (scheme case-insensitive), if present.
std::optional<std::string> bearer_token(const boost::beast::http::fields& fields);

// All header fields as one JSON object, names lowercased; repeated fields are joined with ", "
// ("; " for cookie), as RFC 9110 allows.
std::string headers_json(const boost::beast::http::fields& fields);

}  // namespace vespid::ws
