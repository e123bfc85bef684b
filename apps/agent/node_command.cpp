// `vespid-agent node start` and `node status`: this machine as a bridge node (bridge.v1), as the
// reference's headless node host (`clawdbot node start`): it pairs on the socket and waits for
// an operator, keeps its id and token in the node state file (node_state.hpp), and answers
// system.run / system.which for the executables the user allowed (node_invoke.hpp).
#include <spdlog/spdlog.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <iostream>

#include "bridge_link.hpp"
#include "commands.hpp"
#include "credentials.hpp"
#include "gateway_choice.hpp"
#include "mdns_browse.hpp"
#include "node_state.hpp"
#include "run_state.hpp"
#include "tls_pin.hpp"

namespace vespid::agent {

namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) == 0 && buf[0] != '\0') return buf;
  return "node";
}

std::string platform_name() {
  utsname u{};
  if (::uname(&u) != 0) return "linux";
  std::string s = u.sysname;
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string state_path_of(const CommonOptions& common, const std::string& flag) {
  if (!flag.empty()) return flag;
  return resolve_node_state_path(flag, resolve_credentials_path(common.config));
}

// Which gateway, from the flags, discovery, or what was saved. Returns an exit code on failure.
std::optional<int> choose_bridge(const NodeStartOptions& o, NodeState& state, NodeGateway& out) {
  if (!o.host.empty()) {
    out.host = o.host;
    out.port = o.port;
    out.tls = o.tls || !o.tls_fingerprint.empty();
    out.tls_fingerprint = o.tls_fingerprint;
    return std::nullopt;
  }
  if (o.discover) {
    std::vector<DiscoveredGateway> found;
    try {
      found = gateways_from(browse_services(o.browse.browser, o.browse.type,
                                            std::chrono::milliseconds(o.browse.timeout_ms)));
    } catch (const BrowseError& e) {
      std::cerr << "error: " << e.what() << "\n";
      return kExitConfig;
    }
    GatewayChoice choice = choose_gateway(found, o.gateway_name, ::isatty(STDIN_FILENO) == 1);
    if (choice.ask) choice.index = ask_gateway(found, std::cin, std::cerr);
    if (!choice.index) {
      std::cerr << "error: " << (choice.error.empty() ? "no gateway chosen" : choice.error)
                << (found.empty() ? " (browsed " + o.browse.type + ")" : "") << "\n";
      return kExitFailed;
    }
    const DiscoveredGateway& g = found[*choice.index];
    const std::uint16_t port = g.bridge_port != 0 ? g.bridge_port : g.port;
    if (g.addresses.empty() || port == 0) {
      std::cerr << "error: \"" << g.name << "\" announces no bridge address and port\n";
      return kExitFailed;
    }
    out.host = g.addresses.front();
    out.port = port;
    out.tls = g.bridge_tls || o.tls || !o.tls_fingerprint.empty();
    out.tls_fingerprint = o.tls_fingerprint.empty() ? g.bridge_tls_sha256 : o.tls_fingerprint;
    // Trust on first use, then never silently again: someone on the LAN can announce a record
    // of their own. Only the user can say a new certificate is the gateway's.
    if (o.tls_fingerprint.empty() && state.gateway && !state.gateway->tls_fingerprint.empty() &&
        state.gateway->tls_fingerprint != out.tls_fingerprint) {
      std::cerr << "error: this node pinned the bridge certificate sha256 "
                << state.gateway->tls_fingerprint << ", but \"" << g.name << "\" announces "
                << (out.tls_fingerprint.empty() ? "no TLS fingerprint"
                                                : "sha256 " + out.tls_fingerprint)
                << "; refusing. If the gateway's certificate really changed, pass "
                   "--tls-fingerprint with the new one (vespid-gateway tls fingerprint)\n";
      return kExitFailed;
    }
    std::cerr << "found \"" << g.name << "\": bridge at " << out.host << ":" << out.port
              << (out.tls ? " (TLS)" : "") << "\n";
    return std::nullopt;
  }
  if (state.gateway && !state.gateway->host.empty()) {
    out = *state.gateway;
  } else {
    out.host = "127.0.0.1";
  }
  if (o.port_given) out.port = o.port;
  if (o.tls) out.tls = true;
  if (!o.tls_fingerprint.empty()) {
    out.tls = true;
    out.tls_fingerprint = o.tls_fingerprint;
  }
  return std::nullopt;
}

}  // namespace

int cmd_node_start(const CommonOptions& common, const NodeStartOptions& o) {
  const std::string path = state_path_of(common, o.state_file);
  NodeStartOptions opts = o;
  if (!opts.tls_fingerprint.empty()) {
    auto fp = normalize_sha256(opts.tls_fingerprint);
    if (!fp) {
      throw std::invalid_argument(
          "--tls-fingerprint must be a SHA-256 (64 hex digits, colons "
          "allowed): " +
          opts.tls_fingerprint);
    }
    opts.tls_fingerprint = *fp;
  }
  NodeState state;
  try {
    state = load_node_state(path);
  } catch (const NodeStateError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitConfig;
  }
  if (const std::optional<RunState> run = read_run_state(path); run && run->alive) {
    std::cerr << "error: vespid-agent node start is already running for " << path << " (pid "
              << run->pid << "); one node id, one connection\n";
    return kExitConfig;
  }
  std::vector<std::string> allow = state.allow;
  allow.insert(allow.end(), opts.allow.begin(), opts.allow.end());
  BridgeLinkOptions lo;
  lo.invoke.allow = ExecAllowlist(allow);  // std::invalid_argument: a usage error
  NodeGateway gw;
  if (auto code = choose_bridge(opts, state, gw)) return *code;
  if (opts.pair_again && !state.token.empty()) {
    spdlog::warn("--pair-again: forgetting the saved token of node {}", state.node_id);
    state.token.clear();
  }
  if (!opts.name.empty()) state.display_name = opts.name;
  if (state.display_name.empty()) state.display_name = host_name();
  state.gateway = gw;
  save_node_state(path, state);

  RunStateFile run_state(path);
  lo.host = gw.host;
  lo.port = gw.port;
  lo.tls = gw.tls;
  lo.tls_fingerprint = gw.tls_fingerprint;
  lo.tls_ca_file = opts.tls_ca_file;
  lo.identity.node_id = state.node_id;
  lo.identity.display_name = state.display_name;
  lo.identity.platform = platform_name();
  lo.identity.version = agent_version();
  lo.identity.device_family = lo.identity.platform;
  lo.identity.model_identifier = host_name();
  lo.identity.caps = {"system"};
  lo.identity.commands = node_commands();
  lo.token = state.token;
  lo.invoke.limits.max_output_bytes = static_cast<std::size_t>(opts.max_output_bytes);
  lo.invoke.limits.default_timeout = std::chrono::milliseconds(opts.default_timeout_ms);
  lo.invoke.limits.max_timeout = std::chrono::milliseconds(opts.max_timeout_ms);
  lo.invoke.own_env = own_safe_environment();
  lo.max_concurrent_invokes = opts.max_concurrent;
  lo.ping_interval = std::chrono::milliseconds(opts.ping_interval_ms);
  lo.idle_timeout = std::chrono::milliseconds(opts.idle_timeout_ms);
  lo.reconnect_min = std::chrono::milliseconds(opts.reconnect_min_ms);
  lo.reconnect_max = std::chrono::milliseconds(opts.reconnect_max_ms);
  // The token reaches the disk before anything else happens: a crash right after pair-ok must
  // not cost the operator a second approval.
  lo.on_token = [&](const std::string& token) {
    state.token = token;
    save_node_state(path, state);
  };
  lo.on_forget_token = [&] {
    state.token.clear();
    save_node_state(path, state);
  };
  lo.on_connected = [&run_state](const std::string& where) { run_state.connected(where); };
  lo.on_disconnected = [&run_state] { run_state.disconnected(); };
  spdlog::info("vespid-agent {} node {} (\"{}\") starting: state {}, gateway {}:{}{}{}",
               agent_version(), state.node_id, state.display_name, path, gw.host, gw.port,
               gw.tls ? " (TLS" : "",
               gw.tls ? (gw.tls_fingerprint.empty() ? ", CA verification)"
                                                    : ", pinned sha256 " + gw.tls_fingerprint + ")")
                      : "");
  if (state.token.empty()) spdlog::info("not paired yet: this run asks the gateway to pair");
  BridgeLink link(std::move(lo));
  const int code = link.run();
  if (code == kNodeRefused) {
    std::cerr << "vespid-agent node: stopped (exit 4): the gateway refused node " << state.node_id
              << ": it was revoked, its pairing was rejected, or its token belongs to another "
                 "gateway. To ask to pair again: vespid-agent node start --pair-again (with the "
                 "same options); an operator must approve it anew.\n";
    return kExitRefused;
  }
  if (code == kNodeConfig) return kExitConfig;
  return code;
}

int cmd_node_status(const CommonOptions& common, const NodeStatusOptions& o) {
  const std::string path = state_path_of(common, o.state_file);
  NodeState s;
  try {
    s = load_node_state(path);
  } catch (const NodeStateError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitConfig;
  }
  const bool exists = ::access(path.c_str(), F_OK) == 0;
  const std::optional<RunState> run = read_run_state(path);
  const bool running = run && run->alive;
  std::string gateway = "-";
  if (s.gateway) {
    gateway = s.gateway->host + ":" + std::to_string(s.gateway->port);
    if (s.gateway->tls) {
      gateway += s.gateway->tls_fingerprint.empty()
                     ? " (TLS, CA verification)"
                     : " (TLS, pinned sha256 " + s.gateway->tls_fingerprint + ")";
    }
  }
  if (o.json) {
    nlohmann::json j = {{"stateFile", path},
                        {"exists", exists},
                        {"nodeId", exists ? nlohmann::json(s.node_id) : nlohmann::json()},
                        {"displayName", s.display_name},
                        {"paired", !s.token.empty()},
                        {"allow", s.allow},
                        {"running", running},
                        {"connected", running && run->connected}};
    if (s.gateway) {
      j["gateway"] = {{"host", s.gateway->host},
                      {"port", s.gateway->port},
                      {"tls", s.gateway->tls},
                      {"tlsFingerprint", s.gateway->tls_fingerprint}};
    }
    if (running && run->connected) j["connectedSince"] = run->connected_since;
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  if (!exists) {
    std::cout << "no bridge node here yet (" << path
              << " does not exist): vespid-agent node start --host H --allow CMD\n";
    return kExitOk;
  }
  std::string allow;
  for (const auto& a : s.allow) allow += (allow.empty() ? "" : " ") + a;
  std::cout << "node:        " << s.node_id << " (\"" << s.display_name << "\")\n"
            << "paired:      " << (s.token.empty() ? "no" : "yes (token saved, hidden)") << "\n"
            << "gateway:     " << gateway << "\n"
            << "process:     "
            << (!running ? std::string("not running")
                         : "running (pid " + std::to_string(run->pid) + "), " +
                               (run->connected ? "connected since " + run->connected_since
                                               : std::string("not connected (retrying)")))
            << "\n"
            << "allow (file): " << (allow.empty() ? "-" : allow) << "\n"
            << "state file:  " << path << "\n";
  return kExitOk;
}

}  // namespace vespid::agent
