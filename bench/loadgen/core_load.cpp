#include "core_load.hpp"

#include <cmath>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "http_lite.hpp"

namespace vespid::bench {

namespace {
// The value of the unlabelled sample `name` in a Prometheus text exposition, or NaN.
double sample(std::string_view text, std::string_view name) {
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(at, end - at);
    if (line.size() > name.size() && line.substr(0, name.size()) == name &&
        line[name.size()] == ' ') {
      const std::string value(line.substr(name.size() + 1));
      char* parsed_to = nullptr;
      const double v = std::strtod(value.c_str(), &parsed_to);
      return parsed_to != value.c_str() ? v : std::nan("");
    }
    at = end + 1;
  }
  return std::nan("");
}
}  // namespace

SerialBusy read_serial_busy(int api_port) {
  SerialBusy b{std::nan(""), std::nan("")};
  try {
    const HttpResponse r = http_call(api_port, "GET", "/metrics", {}, "");
    if (r.status != 200) return b;
    b.core_s = sample(r.body, "vespid_core_busy_seconds_total");
    b.storage_commit_s = sample(r.body, "vespid_storage_commit_duration_seconds_sum");
    // Deferred syncs (storage ABI 1.4) are the storage thread's time too; a gateway from before
    // them has no such sample, and its commit calls include their syncs.
    const double syncs = sample(r.body, "vespid_storage_sync_duration_seconds_sum");
    if (!std::isnan(syncs)) b.storage_commit_s += syncs;
  } catch (const std::exception&) {
    // Not reachable or not HTTP: unknown, like a gateway without the metrics.
  }
  return b;
}

}  // namespace vespid::bench
