#include "protocols/rest/metrics_route.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <cstring>

#include "protocols/rest/rest_auth.hpp"
#include "runtime/crypto.hpp"
#include "runtime/metrics.hpp"

namespace vespid::core {

namespace {

// A bearer token in constant time: both sides hashed, so neither length nor content leaks.
bool bearer_matches(const RestRequest& req, const std::string& token_sha256) {
  const std::string auth = header(req, "authorization");
  constexpr std::string_view kScheme = "bearer ";
  if (auth.size() <= kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(auth[i])) != kScheme[i]) return false;
  }
  return crypto::equal_ct(crypto::sha256_hex(auth.substr(kScheme.size())), token_sha256);
}

RestResponse unauthorized(const char* message) {
  RestResponse r = RestDialect::error(401, "UNAUTHORIZED", message);
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"vespid metrics\"");
  return r;
}

}  // namespace

bool is_loopback_address(std::string_view host) {
  const std::string h(host);
  unsigned char v4[4];
  if (inet_pton(AF_INET, h.c_str(), v4) == 1) return v4[0] == 127;
  unsigned char v6[16];
  if (inet_pton(AF_INET6, h.c_str(), v6) != 1) return false;
  static const unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(v6, kLoopback, 16) == 0) return true;
  return std::memcmp(v6, kMapped, 12) == 0 && v6[12] == 127;
}

void register_metrics_route(RestDialect& rest, MetricsRouteServices s) {
  rest.route("GET", "/metrics", metrics_handler(std::move(s)));
}

RestHandler metrics_handler(MetricsRouteServices s) {
  return [s = std::move(s)](RestRequest req) -> Task<RestResponse> {
    if (!s.token_sha256.empty()) {
      if (!bearer_matches(req, s.token_sha256)) {
        co_return unauthorized(
            header(req, "authorization").empty()
                ? "send Authorization: Bearer <metrics.token> (the gateway's metrics token)"
                : "the metrics token is not valid");
      }
    } else if (!is_loopback_address(req.peer_host)) {
      co_return RestDialect::error(
          403, "FORBIDDEN",
          "/metrics is served to loopback peers only; set metrics.token (or "
          "VESPID_METRICS_TOKEN) on the gateway and send it as a bearer token to scrape "
          "from elsewhere");
    }
    RestResponse r;
    r.raw_body = s.scrape();
    r.content_type = std::string(metrics::TextWriter::kContentType);
    co_return r;
  };
}

}  // namespace vespid::core
