// vespid-agent: the Vespid node host. Pairs with a gateway once (`connect`), then keeps a
// WebSocket to it (`start`) and runs the agent executes the gateway routes here.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>

#include "commands.hpp"
#include "credentials.hpp"
#include "node_state.hpp"

using namespace vespid::agent;

namespace {

void setup_logging(const std::string& level_flag) {
  auto logger = spdlog::stderr_color_mt("vespid-agent");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  std::string level = level_flag;
  if (level.empty()) {
    const char* env = std::getenv("VESPID_AGENT_LOG_LEVEL");
    level = env != nullptr ? env : "info";
  }
  spdlog::set_level(spdlog::level::from_str(level));
}

// --browser: which mDNS backend browses (mdns_browse.hpp), also from VESPID_AGENT_BROWSER. Not
// tied to --discover with needs(): a browser set in the environment must not make every
// `connect --api` a usage error.
void add_browser_option(CLI::App* cmd, BrowseOptions& browse, const std::string& lead) {
  const std::map<std::string, Browser> names{{"avahi", Browser::avahi}, {"dnssd", Browser::dnssd}};
  std::string built;
  for (Browser b : {Browser::avahi, Browser::dnssd}) {
    if (browser_built_in(b)) built += std::string(built.empty() ? "" : ", ") + browser_name(b);
  }
  cmd->add_option("--browser", browse.browser,
                  fmt::format("{} to browse: avahi (avahi-daemon over D-Bus) or dnssd (the "
                              "dns_sd.h API: mDNSResponder, or Avahi's compatibility library); "
                              "default {}; built in: {}",
                              lead, browser_name(default_browser()),
                              built.empty() ? std::string("none") : built))
      ->transform(CLI::CheckedTransformer(names))
      ->envname("VESPID_AGENT_BROWSER")
      ->option_text("avahi|dnssd (Env:VESPID_AGENT_BROWSER)");
}

// --gateway-name, --type, --timeout-ms, --browser: which gateway `connect --discover` and `node
// start
// --discover` pick and how they browse; each needs `discover`. The help texts stay each
// command's own.
void add_discover_options(CLI::App* cmd, CLI::Option* discover, std::string& gateway_name,
                          BrowseOptions& browse, const std::string& gateway_name_help,
                          const std::string& timeout_help) {
  cmd->add_option("--gateway-name", gateway_name, gateway_name_help)->needs(discover);
  cmd->add_option("--type", browse.type, "With --discover: the service type to browse")
      ->needs(discover);
  cmd->add_option("--timeout-ms", browse.timeout_ms, timeout_help)
      ->check(CLI::Range(100, 600'000))
      ->needs(discover);
  add_browser_option(cmd, browse, "With --discover: how");
}

// --ping-interval-ms, --idle-timeout-ms, --reconnect-min-ms, --reconnect-max-ms: the timing of
// a link to the gateway, for `start` and `node start`. Each help text shows the value the
// option holds now, its default, which the two commands choose differently.
void add_link_timing_options(CLI::App* cmd, int& ping_interval_ms, int& idle_timeout_ms,
                             int& reconnect_min_ms, int& reconnect_max_ms) {
  cmd->add_option("--ping-interval-ms", ping_interval_ms,
                  fmt::format("Ping period (default {})", ping_interval_ms))
      ->check(CLI::Range(50, 3'600'000));
  cmd->add_option(
         "--idle-timeout-ms", idle_timeout_ms,
         fmt::format("Reconnect when nothing arrived for this long (default {})", idle_timeout_ms))
      ->check(CLI::Range(100, 3'600'000));
  cmd->add_option("--reconnect-min-ms", reconnect_min_ms,
                  fmt::format("First backoff step (default {})", reconnect_min_ms))
      ->check(CLI::Range(1, 3'600'000));
  cmd->add_option("--reconnect-max-ms", reconnect_max_ms,
                  fmt::format("Backoff ceiling (default {})", reconnect_max_ms))
      ->check(CLI::Range(1, 3'600'000));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "The Vespid node host: pairs with a gateway, keeps a WebSocket to it and runs the agent "
      "work it routes here (engines vespid.echo.v1 and vespid.loop.v1)."};
  app.name("vespid-agent");
  app.fallthrough();
  app.require_subcommand(1);
  // "<program> <version>", one line, as the other programs and help2man expect.
  app.set_version_flag("--version", std::string("vespid-agent ") + agent_version());

  CommonOptions common;
  std::string log_level;
  app.add_option("--config", common.config,
                 "Credentials file (default $VESPID_AGENT_CONFIG, else ~/.vespid/agent.json)");
  app.add_option("--log-level", log_level,
                 "trace, debug, info, warn, error (default $VESPID_AGENT_LOG_LEVEL, else info)");

  std::function<int()> action;

  ConnectOptions con;
  auto* connect = app.add_subcommand(
      "connect", "Pair with a gateway using a pairing token and save the credentials (0600)");
  connect->add_option("--pairing-token", con.pairing_token, "Single-use pairing token")->required();
  auto* api_opt =
      connect->add_option("--api", con.api, "The gateway's HTTP API, e.g. http://127.0.0.1:3001");
  auto* discover_flag = connect->add_flag(
      "--discover", con.discover,
      "Find the gateway on the LAN (Bonjour) instead of --api; pins its TLS certificate");
  api_opt->excludes(discover_flag);
  add_discover_options(connect, discover_flag, con.gateway_name, con.browse,
                       "With --discover: the gateway to pair with when several answer",
                       "With --discover: how long to browse (default 3000)");
  connect->add_option("--name", con.name, "Name of this node host (default: the host name)");
  connect->add_option("--tags", con.tags, "Initial tags, comma separated (a,b)")->delimiter(',');
  connect
      ->add_option("--gateway", con.gateways,
                   "WebSocket URL(s) to save instead of the one the gateway announces; several "
                   "(comma separated or repeated) are tried in turn")
      ->delimiter(',');
  connect->add_option("--max-in-flight", con.max_in_flight, "Concurrent executes (default 10)")
      ->check(CLI::Range(1, 1000));
  connect->add_flag("--force", con.force,
                    "Pair again although credentials are saved, replacing them (the old node host "
                    "stays on the gateway until `vespid nodes rm`)");
  connect->callback([&] {
    if (con.api.empty() && !con.discover) throw CLI::RequiredError("--api (or --discover)");
    action = [&] { return cmd_connect(common, con); };
  });

  DiscoverOptions disc;
  auto* discover = app.add_subcommand(
      "discover",
      "List the gateways that answer on the LAN (Bonjour: avahi-daemon or dns_sd, --browser)");
  discover->add_option("--type", disc.browse.type, "Service type (default _vespid-gw._tcp)");
  discover->add_option("--timeout-ms", disc.browse.timeout_ms, "How long to browse (default 3000)")
      ->check(CLI::Range(100, 600'000));
  add_browser_option(discover, disc.browse, "How");
  discover->add_flag("--json", disc.json, "Print a JSON array instead of text");
  discover->callback([&] { action = [&] { return cmd_discover(disc); }; });

  StartOptions st;
  auto* start = app.add_subcommand("start", "Connect to the gateway with the saved credentials");
  start
      ->add_option("--gateway", st.gateways,
                   "Override the saved gateway WebSocket URL(s); several (comma separated or "
                   "repeated) are tried in turn, moving on when one fails")
      ->delimiter(',');
  start->add_option("--name", st.name, "Override the saved name");
  auto* tags_opt = start
                       ->add_option("--tags", st.tags,
                                    "Tags reported in hello (a hint; the gateway's "
                                    "stored tags decide routing)")
                       ->delimiter(',');
  start->add_option("--max-in-flight", st.max_in_flight, "Concurrent executes (default 10)")
      ->check(CLI::Range(1, 1000));
  add_link_timing_options(start, st.ping_interval_ms, st.idle_timeout_ms, st.reconnect_min_ms,
                          st.reconnect_max_ms);
  start
      ->add_option("--echo-delay-ms", st.echo_delay_ms,
                   "Pause between words of vespid.echo.v1 (default $VESPID_AGENT_ECHO_DELAY_MS, "
                   "else 20)")
      ->check(CLI::Range(0, 60'000));
  start->callback([&] {
    st.tags_given = tags_opt->count() > 0;
    action = [&] { return cmd_start(common, st); };
  });

  StatusOptions so;
  auto* status = app.add_subcommand(
      "status",
      "Whether `start` runs for these credentials and is connected, and what is saved (the "
      "token's secret hidden)");
  status->add_flag("--json", so.json, "Print JSON instead of text");
  status->callback([&] { action = [&] { return cmd_status(common, so); }; });

  // node: this machine as a bridge.v1 node (docs/agent.md, "Bridge node mode").
  auto* node = app.add_subcommand(
      "node",
      "Run this machine as a bridge node (bridge.v1, as the Clawdbot node host): pair with an "
      "operator's approval, then answer system.run / system.which for allowed executables");
  node->require_subcommand(1);
  NodeStartOptions ns;
  auto* nstart = node->add_subcommand(
      "start",
      "Connect to the gateway's bridge and serve until SIGINT/SIGTERM; the first run asks to "
      "pair and waits for `vespid nodes approve`");
  auto* host_opt = nstart->add_option("--host", ns.host,
                                      "The gateway's bridge host (default: the saved one, "
                                      "else 127.0.0.1)");
  auto* port_opt = nstart->add_option("--port", ns.port, "The bridge port (default 18790)")
                       ->check(CLI::Range(1, 65535));
  nstart->add_flag("--tls", ns.tls,
                   "Speak TLS; without --tls-fingerprint the certificate is verified against the "
                   "system store (and --tls-ca-file)");
  nstart->add_option("--tls-fingerprint", ns.tls_fingerprint,
                     "Pin the gateway's certificate: its SHA-256 as `vespid-gateway tls "
                     "fingerprint` prints it (implies --tls)");
  nstart->add_option("--tls-ca-file", ns.tls_ca_file,
                     "A PEM bundle of CAs trusted besides the system store (TLS without a pin)");
  auto* ndiscover = nstart->add_flag("--discover", ns.discover,
                                     "Find the bridge on the LAN (_vespid-bridge._tcp by Bonjour, "
                                     "see --browser), with the TLS pin "
                                     "its record announces");
  host_opt->excludes(ndiscover);
  add_discover_options(nstart, ndiscover, ns.gateway_name, ns.browse,
                       "With --discover: which gateway, when several answer",
                       "With --discover: how long to browse");
  nstart->add_option("--name", ns.name, "Display name (default: the saved one, else host name)");
  nstart->add_option("--allow", ns.allow,
                     "An executable system.run may start: a name looked up on PATH (echo) or an "
                     "absolute path (/usr/bin/echo); repeatable. Default: none, everything is "
                     "refused. Also read from \"allow\" in the state file");
  nstart->add_option("--state-file", ns.state_file,
                     "The node's id and token (default $VESPID_AGENT_NODE_STATE, else node.json "
                     "next to the credentials file: ~/.vespid/node.json)");
  nstart->add_flag("--pair-again", ns.pair_again,
                   "Forget the saved token and ask to pair (after a revoke)");
  nstart
      ->add_option("--max-output-bytes", ns.max_output_bytes,
                   "system.run: stdout+stderr kept, the rest dropped and flagged (default 200000)")
      ->check(CLI::Range(1024, 16 * 1024 * 1024));
  nstart
      ->add_option("--default-timeout-ms", ns.default_timeout_ms,
                   "system.run without timeoutMs: killed after this long (default 30000)")
      ->check(CLI::Range(100, 86'400'000));
  nstart
      ->add_option("--max-timeout-ms", ns.max_timeout_ms,
                   "system.run: a larger timeoutMs is cut to this (default 300000)")
      ->check(CLI::Range(100, 86'400'000));
  nstart->add_option("--max-concurrent", ns.max_concurrent, "Invokes run at once (default 4)")
      ->check(CLI::Range(1, 64));
  add_link_timing_options(nstart, ns.ping_interval_ms, ns.idle_timeout_ms, ns.reconnect_min_ms,
                          ns.reconnect_max_ms);
  nstart->footer(
      "Exit codes: 0 stopped by SIGINT/SIGTERM; 2 usage; 3 configuration (state file, CA file, "
      "mDNS daemon); 4 the gateway refused the node (revoked, pairing rejected, another gateway's "
      "token): see --pair-again.\n"
      "Example: vespid-agent node start --host gw.lan --tls-fingerprint <sha256> --allow echo "
      "--allow /usr/bin/uptime");
  nstart->callback([&] {
    ns.port_given = port_opt->count() > 0;
    action = [&] { return cmd_node_start(common, ns); };
  });
  NodeStatusOptions nso;
  auto* nstatus = node->add_subcommand(
      "status",
      "The node's id, whether it is paired (token hidden), its gateway, and whether "
      "`node start` runs and is connected");
  nstatus->add_option("--state-file", nso.state_file, "As for node start");
  nstatus->add_flag("--json", nso.json, "Print JSON instead of text");
  nstatus->callback([&] { action = [&] { return cmd_node_status(common, nso); }; });

  ExecOptions ex;
  auto* exec = app.add_subcommand(
      "exec", "Run one execute locally, no gateway; print its events and result as JSON lines");
  exec->add_option("--payload", ex.payload, "The execute payload: a JSON file, or - for stdin")
      ->required();
  exec->add_option("--kind", ex.kind, "agent.run (default), agent.execute or connector.action");
  exec->add_option("--request-id", ex.request_id, "requestId to print (default local-1)");
  exec->add_option("--echo-delay-ms", ex.echo_delay_ms, "Pause between echo words")
      ->check(CLI::Range(0, 60'000));
  exec->callback([&] { action = [&] { return cmd_exec(ex); }; });

  app.footer(
      "Examples:\n"
      "  vespid-agent connect --pairing-token <token> --api http://127.0.0.1:3001 --tags gpu\n"
      "  vespid-agent discover\n"
      "  vespid-agent connect --pairing-token <token> --discover --gateway-name 'Office gateway'\n"
      "  vespid-agent start\n"
      "  vespid-agent status            (is start running, connected where; --json)\n"
      "  vespid-agent node start --host gw.lan --tls-fingerprint <sha256> --allow echo\n"
      "                                 (a bridge node: `vespid-agent node start --help`)\n"
      "  echo '{\"engine\":\"vespid.echo.v1\",\"message\":\"hi there\"}' | vespid-agent exec "
      "--payload -\n"
      "\nEnvironment: OPENAI_API_KEY, OPENAI_BASE_URL (vespid.loop.v1), VESPID_AGENT_TLS_CA_FILE,\n"
      "VESPID_AGENT_CONFIG, TOOLSET_SKILLS_MAX_BUNDLES / _MAX_CHARS_PER_BUNDLE / "
      "_MAX_TOTAL_CHARS.\n"
      "Exit codes: 0 ok, 1 failed, 2 usage, 3 configuration/credentials/unreachable, 4 refused "
      "by the gateway.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  setup_logging(log_level);
  try {
    return action ? action() : kExitUsage;
  } catch (const NodeStateError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitConfig;
  } catch (const CredentialsError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitConfig;
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitFailed;
  }
}
