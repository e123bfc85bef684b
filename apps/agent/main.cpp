// vespid-agent: the Vespid node host. Pairs with a gateway once (`connect`), then keeps a
// WebSocket to it (`start`) and runs the agent executes the gateway routes here.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>

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
  connect
      ->add_option("--gateway-name", con.gateway_name,
                   "With --discover: the gateway to pair with when several answer")
      ->needs(discover_flag);
  connect->add_option("--type", con.browse.type, "With --discover: the service type to browse")
      ->needs(discover_flag);
  connect
      ->add_option("--timeout-ms", con.browse.timeout_ms,
                   "With --discover: how long to browse (default 3000)")
      ->check(CLI::Range(100, 600'000))
      ->needs(discover_flag);
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
      "discover", "List the gateways that answer on the LAN (Bonjour, through avahi-daemon)");
  discover->add_option("--type", disc.browse.type, "Service type (default _vespid-gw._tcp)");
  discover->add_option("--timeout-ms", disc.browse.timeout_ms, "How long to browse (default 3000)")
      ->check(CLI::Range(100, 600'000));
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
  start->add_option("--ping-interval-ms", st.ping_interval_ms, "Ping period (default 15000)")
      ->check(CLI::Range(50, 3'600'000));
  start
      ->add_option("--idle-timeout-ms", st.idle_timeout_ms,
                   "Reconnect when nothing arrived for this long (default 45000)")
      ->check(CLI::Range(100, 3'600'000));
  start->add_option("--reconnect-min-ms", st.reconnect_min_ms, "First backoff step (default 500)")
      ->check(CLI::Range(1, 3'600'000));
  start->add_option("--reconnect-max-ms", st.reconnect_max_ms, "Backoff ceiling (default 30000)")
      ->check(CLI::Range(1, 3'600'000));
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
  auto* ndiscover = nstart->add_flag(
      "--discover", ns.discover,
      "Find the bridge on the LAN (_vespid-bridge._tcp through avahi-daemon), with the TLS pin "
      "its record announces");
  host_opt->excludes(ndiscover);
  nstart
      ->add_option("--gateway-name", ns.gateway_name,
                   "With --discover: which gateway, when several answer")
      ->needs(ndiscover);
  nstart->add_option("--type", ns.browse.type, "With --discover: the service type to browse")
      ->needs(ndiscover);
  nstart->add_option("--timeout-ms", ns.browse.timeout_ms, "With --discover: how long to browse")
      ->check(CLI::Range(100, 600'000))
      ->needs(ndiscover);
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
  nstart->add_option("--ping-interval-ms", ns.ping_interval_ms, "Ping period (default 30000)")
      ->check(CLI::Range(50, 3'600'000));
  nstart
      ->add_option("--idle-timeout-ms", ns.idle_timeout_ms,
                   "Reconnect when nothing arrived for this long (default 75000)")
      ->check(CLI::Range(100, 3'600'000));
  nstart->add_option("--reconnect-min-ms", ns.reconnect_min_ms, "First backoff step (default 500)")
      ->check(CLI::Range(1, 3'600'000));
  nstart->add_option("--reconnect-max-ms", ns.reconnect_max_ms, "Backoff ceiling (default 30000)")
      ->check(CLI::Range(1, 3'600'000));
  nstart->footer(
      "Exit codes: 0 stopped by SIGINT/SIGTERM; 2 usage; 3 configuration (state file, CA file, "
      "avahi); 4 the gateway refused the node (revoked, pairing rejected, another gateway's "
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
