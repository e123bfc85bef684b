// `vespid-agent discover` and `connect --discover`: gateways found by Bonjour (mdns_browse),
// read from their TXT (gateway_record), chosen (gateway_choice), then paired with the TLS pin
// their record announces (trust on first use; docs/agent.md).
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#include "commands.hpp"
#include "credentials.hpp"
#include "gateway_choice.hpp"
#include "gateway_record.hpp"
#include "mdns_browse.hpp"

namespace vespid::agent {

namespace {

std::vector<DiscoveredGateway> find_gateways(const BrowseOptions& b) {
  spdlog::debug("browsing {} for {} ms ({})", b.type, b.timeout_ms, browser_name(b.browser));
  auto found =
      gateways_from(browse_services(b.browser, b.type, std::chrono::milliseconds(b.timeout_ms)));
  for (const auto& g : found) {
    for (const auto& p : g.problems) spdlog::warn("\"{}\": {}", g.name, p);
  }
  return found;
}

void print_text(const DiscoveredGateway& g) {
  std::cout << g.name << "\n  host:     " << (g.host.empty() ? "-" : g.host) << "\n  address:  ";
  for (std::size_t i = 0; i < g.addresses.size(); ++i)
    std::cout << (i ? ", " : "") << g.addresses[i];
  std::cout << "\n  ports:   ";
  auto port = [](const char* what, std::uint16_t p, bool tls, const char* scheme) {
    if (p) std::cout << " " << what << " " << p << (tls ? scheme : "");
  };
  port("gateway", g.gateway_port, g.gateway_tls, " (wss)");
  port("api", g.api_port, g.api_tls, " (https)");
  port("bridge", g.bridge_port, false, "");
  if (!g.gateway_port && !g.api_port && !g.bridge_port) std::cout << " service " << g.port;
  std::cout << "\n";
  if (!g.gateway_tls_sha256.empty()) std::cout << "  tls sha256: " << g.gateway_tls_sha256 << "\n";
  if (!g.api_tls_sha256.empty() && g.api_tls_sha256 != g.gateway_tls_sha256) {
    std::cout << "  api tls sha256: " << g.api_tls_sha256 << "\n";
  }
  if (const std::string api = g.api_url(); !api.empty()) std::cout << "  api url:  " << api << "\n";
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Trust on first use, then never silently again: pairing anew with a credentials file that
// already pins a certificate is refused when the gateway found announces another one (or none).
// Someone on the LAN can answer with a record of their own; only the user can decide that a
// new certificate is the gateway's.
std::string pin_conflict(const std::string& path, const DiscoveredGateway& g) {
  if (!file_exists(path)) return {};
  Credentials old;
  try {
    old = load_credentials(path);
  } catch (const CredentialsError&) {
    return {};  // nothing pinned that we can read; pairing replaces it
  }
  auto check = [&](const std::string& pinned, const std::string& announced, const char* what) {
    if (pinned.empty() || pinned == announced) return std::string();
    return std::string(what) + " certificate pinned in " + path + " is sha256 " + pinned +
           ", but \"" + g.name + "\" announces " +
           (announced.empty() ? std::string("no TLS fingerprint") : "sha256 " + announced) +
           "; refusing to pair. If the gateway's certificate really changed, move the old "
           "credentials file away (or use --config NEW_PATH) and pair again";
  };
  if (auto why = check(old.gateway_tls_sha256, g.gateway_tls_sha256, "the gateway's");
      !why.empty()) {
    return why;
  }
  return check(old.api_tls_sha256, g.api_tls_sha256, "the API's");
}

}  // namespace

int cmd_discover(const DiscoverOptions& opts) {
  std::vector<DiscoveredGateway> found;
  try {
    found = find_gateways(opts.browse);
  } catch (const BrowseError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitConfig;
  }
  if (opts.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& g : found) out.push_back(g.to_json());
    // TXT records come from anything on the LAN: invalid UTF-8 in one is replaced, not allowed
    // to fail the whole listing.
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    for (const auto& g : found) print_text(g);
  }
  if (found.empty()) {
    std::cerr << "no gateway found: nothing answered for " << opts.browse.type << " within "
              << opts.browse.timeout_ms << " ms\n";
    return kExitFailed;
  }
  return kExitOk;
}

int cmd_connect_discovered(const CommonOptions& common, const ConnectOptions& opts) {
  std::vector<DiscoveredGateway> found;
  try {
    found = find_gateways(opts.browse);
  } catch (const BrowseError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitConfig;
  }
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  GatewayChoice choice = choose_gateway(found, opts.gateway_name, tty);
  if (choice.ask) choice.index = ask_gateway(found, std::cin, std::cerr);
  if (!choice.index) {
    if (choice.error.empty()) choice.error = "no gateway chosen";
    if (found.empty()) {
      choice.error += " (browsed " + opts.browse.type + " for " +
                      std::to_string(opts.browse.timeout_ms) + " ms)";
    }
    std::cerr << "error: " << choice.error << "\n";
    return kExitFailed;
  }
  const DiscoveredGateway& g = found[*choice.index];
  if (g.api_port == 0 || g.addresses.empty()) {
    std::cerr << "error: \"" << g.name
              << "\" does not announce its REST API (no apiPort in its TXT: an older gateway, "
                 "or its API listener is on loopback); pass --api URL instead\n";
    return kExitFailed;
  }
  if (g.api_tls && g.api_tls_sha256.empty()) {
    spdlog::info("\"{}\" announces no TLS fingerprint for its API; verifying it against CAs",
                 g.name);
  }
  const std::string path = resolve_credentials_path(common.config);
  if (auto why = pin_conflict(path, g); !why.empty()) {
    std::cerr << "error: " << why << "\n";
    return kExitFailed;
  }
  PairingTarget t;
  t.api_url = g.api_url();
  t.api_pin = g.api_tls_sha256;
  t.gateway_pin = g.gateway_tls_sha256;
  t.discovered_ws_url = g.gateway_ws_url();
  std::cerr << "found \"" << g.name << "\" at " << t.api_url << "\n";
  return pair_and_save(common, opts, t);
}

}  // namespace vespid::agent
