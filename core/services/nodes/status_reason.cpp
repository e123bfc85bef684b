#include "services/nodes/status_reason.hpp"

#include "runtime/time.hpp"

namespace vespid::nodes {

namespace {
std::string transport_words(const std::string& transport) {
  // The node host dialect's link says "ws": its path is what people configured and see.
  if (transport == "ws") return "/ws";
  return transport.empty() ? std::string("an unknown transport") : transport;
}
}  // namespace

std::string status_reason(const StatusFacts& f) {
  std::string out;
  if (f.status == "revoked") {
    out = "revoked";
    if (!f.revoked_at.empty()) out.append(" ").append(f.revoked_at);
    return out;
  }
  if (f.status == "online") {
    if (f.elsewhere) {
      out = "connected to gateway instance ";
      out += f.instance.empty() ? std::string("(unknown)") : f.instance;
    } else {
      out = "connected over ";
      out += transport_words(f.transport);
      if (!f.remote_address.empty()) out.append(" from ").append(f.remote_address);
    }
    if (f.connected_at_ms > 0) out.append(" since ").append(util::iso8601(f.connected_at_ms));
    return out;
  }
  if (!f.departure_reason.empty()) {
    out = "connection closed: ";
    out += f.departure_reason;
    return out;
  }
  if (!f.last_seen_at.empty()) {
    out = "not connected since ";
    out += f.last_seen_at;
    return out;
  }
  return "never connected";
}

}  // namespace vespid::nodes
