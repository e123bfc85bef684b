// The URLs a client dials: http, https, ws and wss. Read with Boost.URL; this only adds what the
// callers (vespid-agent, the `vespid` CLI) all want from such a URL: the scheme's default port,
// TLS or not, and the request target.
#pragma once

#include <string>
#include <string_view>

namespace vespid {

struct DialUrl {
  std::string scheme;  // lower case: http, https, ws, wss
  bool tls = false;    // https or wss
  std::string host;    // as written; IPv6 literals without brackets, with their zone if any
  std::string port;    // explicit or the scheme's default
  std::string path;    // as written (percent-encoded); empty when the URL has none
  std::string target;  // path and query, "/" at least

  // host[:port] as the Host header wants it (default ports omitted, IPv6 bracketed).
  std::string host_header() const;
};

// Throws std::invalid_argument naming what is wrong.
DialUrl parse_dial_url(std::string_view text);

// `base` without trailing slashes + `path` (which starts with '/').
std::string join_url(const std::string& base, const std::string& path);

}  // namespace vespid
