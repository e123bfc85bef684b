#include "commands.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "credentials.hpp"
#include "dial_url.hpp"  // libs/url
#include "executor.hpp"
#include "gateway_link.hpp"
#include "http_client.hpp"
#include "pairing_client.hpp"
#include "run_state.hpp"

namespace vespid::agent {

namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) == 0 && buf[0] != '\0') return buf;
  return "node-host";
}

std::chrono::milliseconds echo_delay(int flag) {
  if (flag >= 0) return std::chrono::milliseconds(flag);
  if (const char* env = std::getenv("VESPID_AGENT_ECHO_DELAY_MS"); env != nullptr && *env) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v >= 0) return std::chrono::milliseconds(v);
    spdlog::warn("ignoring VESPID_AGENT_ECHO_DELAY_MS={} (not a non-negative integer)", env);
  }
  return std::chrono::milliseconds(20);
}

}  // namespace

const char* agent_version() {
  return VESPID_AGENT_VERSION;
}

namespace {

// `connect` twice would make a second node host on the gateway while a running `start` keeps
// the first identity, and leave the first one listed for ever. So saved credentials are kept
// unless the user says --force: refusing (rather than quietly reusing them) never spends or
// ignores the pairing token the user brought, which may well be meant for another gateway.
// Returns the message to refuse with, or empty to go on.
std::string already_paired(const std::string& path, const ConnectOptions& opts) {
  Credentials old;
  try {
    old = load_credentials(path);
  } catch (const CredentialsError&) {
    return {};  // nothing usable saved (missing or damaged): pairing writes a good file
  }
  if (opts.force) {
    spdlog::warn(
        "replacing the saved node host {} (\"{}\"); remove its entry on the gateway "
        "with `vespid nodes rm {}`",
        old.agent_id, old.name, old.agent_id);
    return {};
  }
  return "this machine is already paired as node host " + old.agent_id + " (\"" + old.name +
         "\") of organization " + old.organization_id + " with " + old.api_url +
         "; its credentials are in " + path +
         " (the pairing token was not used).\nPairing again would make a second node host while "
         "the saved one stays listed.\n"
         "  to use the saved one:   vespid-agent start" +
         " --config " + path +
         "\n  to replace it:          vespid-agent connect --force ... (the same options), then "
         "`vespid nodes rm " +
         old.agent_id +
         "` on the gateway\n  to add another one:     vespid-agent connect --config "
         "OTHER_PATH ...";
}

// A running `start` keeps the old token in memory: say so after --force replaced it.
void warn_if_running(const std::string& path) {
  const std::optional<RunState> run = read_run_state(path);
  if (run && run->alive) {
    std::cerr << "note: vespid-agent start (pid " << run->pid
              << ") is running with the previous credentials; restart it to use the new ones\n";
  }
}

}  // namespace

int cmd_connect(const CommonOptions& common, const ConnectOptions& opts) {
  const std::string path = resolve_credentials_path(common.config);
  if (const std::string refusal = already_paired(path, opts); !refusal.empty()) {
    std::cerr << "error: " << refusal << "\n";
    return kExitConfig;
  }
  if (opts.discover) {
    if (!opts.api.empty()) throw std::invalid_argument("--api and --discover exclude each other");
    return cmd_connect_discovered(common, opts);
  }
  if (opts.api.empty()) throw std::invalid_argument("connect needs --api URL or --discover");
  PairingTarget target;
  target.api_url = opts.api;
  return pair_and_save(common, opts, target);
}

namespace {

// The pin of the discovered /ws listener belongs to that listener: it is kept when the URL the
// node host will dial is that listener, and dropped (CA verification then) when the gateway
// announced another URL (agents.gateway_ws_url behind a TLS terminator, say) or --gateway
// points elsewhere.
std::string gateway_pin_for(const std::string& ws_url, const PairingTarget& t) {
  if (t.gateway_pin.empty() || t.discovered_ws_url.empty()) return {};
  try {
    const DialUrl dial = parse_dial_url(ws_url);
    const DialUrl found = parse_dial_url(t.discovered_ws_url);
    if (dial.tls && dial.host == found.host && dial.port == found.port) return t.gateway_pin;
  } catch (const std::invalid_argument&) {
    // Not a URL we can dial: `start` says so; there is nothing to pin.
  }
  spdlog::warn(
      "the gateway URL {} is not the discovered listener {}; it is verified against CAs, "
      "not pinned",
      ws_url, t.discovered_ws_url);
  return {};
}

}  // namespace

int pair_and_save(const CommonOptions& common, const ConnectOptions& opts,
                  const PairingTarget& target) {
  const std::string path = resolve_credentials_path(common.config);
  for (const auto& gateway : opts.gateways) {
    const DialUrl u = parse_dial_url(gateway);  // usage errors surface before pairing
    if (u.scheme != "ws" && u.scheme != "wss") {
      throw std::invalid_argument("--gateway must be a ws:// or wss:// URL: " + gateway);
    }
  }
  PairingRequest req;
  req.api_url = target.api_url;
  req.tls_pin_sha256 = target.api_pin;
  req.pairing_token = opts.pairing_token;
  req.name = opts.name.empty() ? host_name() : opts.name;
  req.agent_version = agent_version();
  req.capabilities = agent_capabilities(opts.max_in_flight, opts.tags);
  req.tags = opts.tags;
  spdlog::info("pairing with {} as \"{}\"{}", req.api_url, req.name,
               target.api_pin.empty() ? "" : " (TLS pinned to sha256 " + target.api_pin + ")");
  Credentials creds;
  try {
    creds = pair_agent(req);
  } catch (const TlsPinMismatch& e) {
    std::cerr << "error: refusing the gateway: " << e.what() << "\n";
    return kExitFailed;
  } catch (const PairingRefused& e) {
    std::cerr << "error: the gateway refused the pairing: HTTP " << e.status << " " << e.code
              << ": " << e.message << "\n";
    if (e.status == 401) {
      std::cerr << "hint: pairing tokens are single use and expire after 15 minutes; ask for a "
                   "new one.\n";
    }
    return kExitFailed;
  } catch (const HttpError& e) {
    std::cerr << "error: cannot reach the API: " << e.what() << "\n";
    return kExitConfig;
  } catch (const std::runtime_error& e) {
    std::cerr << "error: unexpected pairing answer: " << e.what() << "\n";
    return kExitFailed;
  }
  if (!opts.gateways.empty()) {
    creds.gateway_ws_url = opts.gateways.front();
    creds.more_gateway_ws_urls.assign(opts.gateways.begin() + 1, opts.gateways.end());
  }
  creds.api_tls_sha256 = target.api_pin;
  creds.gateway_tls_sha256 = gateway_pin_for(creds.gateway_ws_url, target);
  save_credentials(path, creds);
  if (opts.force) warn_if_running(path);
  std::cout << "paired: agent " << creds.agent_id << " in organization " << creds.organization_id
            << "\ngateway: " << creds.gateway_ws_url;
  if (!creds.gateway_tls_sha256.empty()) {
    std::cout << "\nTLS pinned: sha256 " << creds.gateway_tls_sha256;
  }
  std::cout << "\ncredentials saved to " << path << " (mode 0600)\nnext: vespid-agent start"
            << (common.config.empty() ? "" : " --config " + path) << "\n";
  return kExitOk;
}

int cmd_start(const CommonOptions& common, const StartOptions& opts) {
  const std::string path = resolve_credentials_path(common.config);
  const Credentials creds = load_credentials(path);
  // One token, one connection: a second `start` on the same credentials would fight the first.
  if (const std::optional<RunState> run = read_run_state(path); run && run->alive) {
    std::cerr << "error: vespid-agent start is already running for " << path << " (pid " << run->pid
              << ", since " << run->started_at << "); `vespid-agent status` shows it\n";
    return kExitConfig;
  }
  RunStateFile state(path);
  LinkOptions lo;
  lo.creds = creds;
  if (opts.gateways.empty()) {
    lo.gateway_urls.push_back(creds.gateway_ws_url);
    lo.gateway_urls.insert(lo.gateway_urls.end(), creds.more_gateway_ws_urls.begin(),
                           creds.more_gateway_ws_urls.end());
  } else {
    lo.gateway_urls = opts.gateways;
  }
  lo.tls_pin_sha256 = creds.gateway_tls_sha256;
  lo.name = !opts.name.empty() ? opts.name : (!creds.name.empty() ? creds.name : host_name());
  lo.agent_version = agent_version();
  lo.tags = opts.tags_given ? opts.tags : creds.tags;
  lo.max_in_flight = opts.max_in_flight;
  lo.ping_interval = std::chrono::milliseconds(opts.ping_interval_ms);
  lo.idle_timeout = std::chrono::milliseconds(opts.idle_timeout_ms);
  lo.reconnect_min = std::chrono::milliseconds(opts.reconnect_min_ms);
  lo.reconnect_max = std::chrono::milliseconds(opts.reconnect_max_ms);
  lo.exec.echo_delay = echo_delay(opts.echo_delay_ms);
  lo.exec.skill_caps = SkillCaps::from_env();
  lo.on_connected = [&state](const std::string& url) { state.connected(url); };
  lo.on_disconnected = [&state] { state.disconnected(); };
  spdlog::info("vespid-agent {} starting: agent {} ({}), org {}, credentials {}", agent_version(),
               creds.agent_id, lo.name, creds.organization_id, path);
  GatewayLink link(std::move(lo));
  const int code = link.run();
  if (code == kLinkRefused) return kExitRefused;
  if (code == 3) return kExitConfig;
  return code;
}

int cmd_exec(const ExecOptions& opts) {
  std::string text;
  if (opts.payload == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(opts.payload, std::ios::binary);
    if (!in) {
      std::cerr << "error: cannot read payload file " << opts.payload << "\n";
      return kExitConfig;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  const auto payload = nlohmann::json::parse(text, nullptr, false);
  if (payload.is_discarded()) {
    std::cerr << "error: the payload is not valid JSON\n";
    return kExitUsage;
  }
  ExecutorConfig cfg;
  cfg.echo_delay = echo_delay(opts.echo_delay_ms);
  cfg.skill_caps = SkillCaps::from_env();
  auto print = [](const nlohmann::json& frame) {
    std::cout << frame.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  };
  const std::string id = opts.request_id;
  print({{"type", "execute_received"}, {"requestId", id}});
  const ExecResult r = run_execute(
      opts.kind, payload,
      [&](const nlohmann::json& ev) {
        print({{"type", "execute_event"}, {"requestId", id}, {"event", ev}});
      },
      cfg);
  print(r.frame(id));
  return r.ok ? kExitOk : kExitFailed;
}

}  // namespace vespid::agent
