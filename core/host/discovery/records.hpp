// DNS-SD records for the gateway's listeners: which listeners are published, under which
// service types, with which TXT. One composer for both the running gateway (Bonjour through a
// discovery plugin) and `vespid-gateway dns-sd zone` (wide-area, unicast DNS), so the two never
// disagree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace vespid::core::discovery {

// One transport instance's listener, as it announced itself (listener_update).
struct ListenerFacts {
  std::string instance;  // the transport instance's name
  std::string service;   // "bridge", "gateway" (serves /ws) or "api" (serves /v1/ only)
  std::uint16_t port = 0;
  bool tls = false;
  std::string tls_sha256;              // lowercase hex of the certificate's DER; empty if unknown
  std::vector<std::string> addresses;  // bound addresses, without loopback companions
  bool api = false;  // serves the REST API (/v1/): always for "api", optional for "gateway"

  bool serves_api() const { return api || service == "api"; }
};

struct Settings {
  std::vector<std::string> bridge_types{"_vespid-bridge._tcp"};
  std::vector<std::string> gateway_types{"_vespid-gw._tcp"};
  bool minimal = false;
  std::string display_name;  // also the service instance name
  std::string lan_host;      // "<host>.local"
  std::string tailnet_dns;   // MagicDNS name, when known
  // bridge.v1's protocol version, announced as protocol= in TXT. The bridge dialect owns the
  // number (a layer above this one), so whoever builds the settings passes it in.
  int bridge_protocol = 0;
};

struct Record {
  std::string key;            // stable identity: "<instance>/<type>"
  std::string instance_name;  // "Vespid Gateway on build-01"
  std::string type;           // "_vespid-bridge._tcp"
  std::uint16_t port = 0;
  std::vector<std::string> txt;  // "key=value"

  bool operator==(const Record&) const = default;
};

// The discovery.* keys of the configuration, with the machine's host name filled in.
Settings settings_from(const config::GatewayConfig& cfg, int bridge_protocol);

// True when the listener is reachable from beyond this machine: some address that is not
// loopback (a wildcard counts). Only those are published.
bool beyond_loopback(const ListenerFacts& l);

// The records to publish for these listeners, in a stable order.
std::vector<Record> compose(const Settings& s, const std::vector<ListenerFacts>& listeners);

}  // namespace vespid::core::discovery
