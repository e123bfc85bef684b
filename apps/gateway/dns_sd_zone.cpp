#include "dns_sd_zone.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "host/discovery/records.hpp"
#include "host/discovery/ws_services.hpp"
#include "host/tls/tls_material.hpp"
#include "interface_scan.hpp"  // libs/netaddr: the range matching the tailnet plugin uses
#include "protocols/bridge/bridge_dialect.hpp"
#include "version.hpp"

namespace vespid::app {

namespace {

using nlohmann::json;

// RFC 1035 presentation form of one label: dots and backslashes escaped, spaces and other
// non-printing bytes as \DDD (instance names are free text: "Vespid Gateway on build-01").
std::string escape_label(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c <= ' ' || c == 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\%03u", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool is_loopback_bind(const std::string& bind) {
  return bind == "loopback" || bind.rfind("127.", 0) == 0 || bind == "::1";
}

// The listeners the configuration would publish, as the running gateway would announce them.
std::vector<core::discovery::ListenerFacts> configured_listeners(const config::GatewayConfig& cfg,
                                                                 std::vector<std::string>& notes) {
  std::vector<core::discovery::ListenerFacts> out;
  for (const auto& inst : cfg.instances) {
    const bool bridge = inst.plugin == "bridge";
    if (!bridge && inst.plugin != "ws") continue;
    const json& c = inst.config;
    core::discovery::ListenerFacts f;
    f.instance = inst.name;
    if (bridge) {
      f.service = "bridge";
    } else {
      const auto served = core::discovery::ws_services_of(c);
      if (served.service.empty()) continue;  // neither /ws nor /v1/: nothing for node hosts
      f.service = served.service;
      f.api = served.api;
    }
    f.port = static_cast<std::uint16_t>(c.value("port", bridge ? 18790 : 3001));
    f.tls = c.value("tls", false);
    std::string bind = c.value("bind", c.value("host", std::string("loopback")));
    if (is_loopback_bind(bind)) continue;
    f.addresses = {bind};  // only "beyond loopback" matters here
    if (f.tls) {
      std::string cert = c.value("cert_file", cfg.string("tls.cert_file"));
      if (cert.empty()) cert = tls::default_cert_path(cfg.state_dir);
      std::error_code ec;
      if (std::filesystem::exists(cert, ec)) {
        f.tls_sha256 = tls::fingerprint_sha256(cert);
      } else {
        notes.push_back(cert + " does not exist yet (start the gateway once); no TLS pin in TXT");
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

// The addresses the tailnet instances would bind: their `ranges` and their `interfaces` both
// count, or a CGNAT uplink in 100.64.0.0/10 that `interfaces` leaves out would get an A record.
std::vector<std::string> tailnet_addresses(const config::GatewayConfig& cfg) {
  std::vector<netaddr::Cidr> ranges;
  std::vector<std::string> interfaces;
  bool any_instance = false, every_interface = false;
  for (const auto& inst : cfg.instances) {
    if (inst.plugin != "tailnet") continue;
    any_instance = true;
    if (inst.config.contains("ranges")) {
      for (const auto& r : inst.config["ranges"]) ranges.push_back(netaddr::parse_cidr(r));
    } else {
      for (auto& r : netaddr::default_tailnet_ranges()) ranges.push_back(std::move(r));
    }
    if (!inst.config.contains("interfaces") || inst.config["interfaces"].empty()) {
      every_interface = true;  // an instance without the key counts every interface
    } else {
      for (const auto& i : inst.config["interfaces"]) interfaces.push_back(i.get<std::string>());
    }
  }
  if (!any_instance) ranges = netaddr::default_tailnet_ranges();
  if (every_interface) interfaces.clear();
  std::vector<std::string> out;
  for (const auto& f : netaddr::scan_interfaces(ranges, interfaces)) out.push_back(f.address);
  return out;
}

}  // namespace

namespace {
int zone(const config::GatewayConfig& cfg, const ZoneOptions& o);
}

int dns_sd_zone(const config::GatewayConfig& cfg, const ZoneOptions& o) {
  try {
    return zone(cfg, o);
  } catch (const std::exception& e) {
    // A plugin config the gateway itself would refuse (a port that is not a number, a range
    // that is not CIDR) is reported, not thrown through main.
    std::cerr << "vespid-gateway dns-sd zone: " << e.what() << "\n";
    return 2;
  }
}

namespace {

int zone(const config::GatewayConfig& cfg, const ZoneOptions& o) {
  std::string domain = o.domain;
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  if (domain.empty()) {
    std::cerr << "vespid-gateway dns-sd zone: --domain is required (e.g. vespid.example.net)\n";
    return 2;
  }
  std::vector<std::string> notes;
  auto listeners = configured_listeners(cfg, notes);
  core::discovery::Settings settings =
      core::discovery::settings_from(cfg, core::BridgeDialect::kProtocolVersion);
  auto records = core::discovery::compose(settings, listeners);
  if (records.empty()) {
    std::cerr << "vespid-gateway dns-sd zone: no bridge or ws listener is bound beyond loopback; "
                 "nothing to publish (set \"bind\" in its config, see docs/discovery.md)\n";
    return 1;
  }
  std::string host = o.host;
  if (host.empty()) {
    char buf[256] = {};
    host = ::gethostname(buf, sizeof buf - 1) == 0 && buf[0] ? buf : "vespid";
    if (auto dot = host.find('.'); dot != std::string::npos) host.resize(dot);
  }
  std::vector<std::string> addresses = o.addresses;
  if (addresses.empty()) addresses = tailnet_addresses(cfg);
  if (addresses.empty()) {
    notes.push_back(
        "no tailnet address found on this machine and no --address given: the "
        "zone has no A/AAAA record for " +
        host + "." + domain);
  }

  const std::string d = domain + ".";
  const std::string target = escape_label(host) + "." + d;
  std::ostringstream z;
  z << "; DNS-SD (wide-area Bonjour) records for " << d << " from vespid-gateway " << kVersion
    << "\n";
  for (const auto& n : notes) z << "; note: " << n << "\n";
  z << "$TTL " << o.ttl << "\n";
  z << "; clients that browse this domain find it through these\n";
  z << "b._dns-sd._udp." << d << "\tPTR\t" << d << "\n";
  z << "lb._dns-sd._udp." << d << "\tPTR\t" << d << "\n";
  std::vector<std::string> types;
  for (const auto& r : records) {
    if (std::find(types.begin(), types.end(), r.type) == types.end()) types.push_back(r.type);
  }
  for (const auto& t : types)
    z << "_services._dns-sd._udp." << d << "\tPTR\t" << t << "." << d << "\n";
  for (const auto& r : records) {
    const std::string name = escape_label(r.instance_name) + "." + r.type + "." + d;
    z << "\n" << r.type << "." << d << "\tPTR\t" << name << "\n";
    z << name << "\tSRV\t0 0 " << r.port << " " << target << "\n";
    z << name << "\tTXT\t";
    for (size_t i = 0; i < r.txt.size(); ++i) z << (i ? " " : "") << quote(r.txt[i]);
    z << "\n";
  }
  if (!addresses.empty()) z << "\n";
  for (const auto& a : addresses) {
    in6_addr buf6;
    z << target << "\t" << (inet_pton(AF_INET6, a.c_str(), &buf6) == 1 ? "AAAA" : "A") << "\t" << a
      << "\n";
  }
  std::cout << z.str();
  return 0;
}

}  // namespace

}  // namespace vespid::app
