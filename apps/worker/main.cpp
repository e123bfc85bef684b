// vespid-worker: runs workflow runs. Claims runs from the gateway over its internal routes,
// executes their nodes (some itself, some on node hosts) and reports progress with checkpoints.
// This file only wires the command line, logging and signals; the rest is vespid_worker_lib.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <thread>

#include "gateway_api.hpp"
#include "options.hpp"
#include "worker_loop.hpp"

using namespace vespid::worker;

namespace {

void setup_logging(const std::string& level_flag) {
  auto logger = spdlog::stderr_color_mt("vespid-worker");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  std::string level = level_flag;
  if (level.empty()) {
    const char* env = std::getenv("VESPID_WORKER_LOG_LEVEL");
    level = env != nullptr ? env : "info";
  }
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "The Vespid workflow worker: claims workflow runs from a gateway, runs their nodes in "
      "order (condition, parallel.join and http.request itself; agent.run, agent.execute and "
      "connector.action on node hosts through the gateway) and saves each step with the "
      "gateway. Several workers may serve one gateway; a run whose worker dies is taken over "
      "by another from its last checkpoint."};
  app.name("vespid-worker");
  // "<program> <version>", one line, as the other programs and help2man expect.
  app.set_version_flag("--version", "vespid-worker " + worker_version());

  WorkerOptions o;
  app.add_option("--gateway", o.gateway,
                 std::string("The gateway's HTTP API, serving /internal/v1 (default "
                             "$VESPID_GATEWAY_URL, else ") +
                     kDefaultGatewayUrl + ")");
  app.add_option("--ca-file", o.ca_file,
                 "PEM CA to verify an https gateway with (default $VESPID_CA_FILE, else the "
                 "system's CAs)");
  app.add_option("--token-file", o.token_file,
                 "File whose first line is the gateway's internal.token (default: the "
                 "VESPID_INTERNAL_TOKEN variable)");
  app.add_option("--id", o.id, "This worker's name in leases and events (default hostname-pid)");
  app.add_option("--concurrency", o.concurrency, "Runs executed at once (default 4)")
      ->check(CLI::Range(1, 256));
  app.add_option("--lease-ms", o.lease_ms,
                 "Lease asked for each run; renewed every third of it. Another worker takes a "
                 "run over this long after this one dies (default 30000)")
      ->check(CLI::Range(1000, 600'000));
  app.add_option("--max-node-timeout-ms", o.max_node_timeout_ms,
                 "Cap on a node's own timeout (config.limits.timeoutMs or config.timeoutMs, "
                 "default 60000) (default 600000)")
      ->check(CLI::Range(1000, 600'000));
  app.add_option("--log-level", o.log_level,
                 "trace, debug, info, warn, error (default $VESPID_WORKER_LOG_LEVEL, else info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.footer(
      "Examples:\n"
      "  VESPID_INTERNAL_TOKEN=... vespid-worker\n"
      "  vespid-worker --gateway https://gw.example:3001 --ca-file ca.pem \\\n"
      "      --token-file /etc/vespid/internal-token --concurrency 8\n"
      "\nSIGTERM or SIGINT: stop claiming, let each run reach its next checkpoint and leave it\n"
      "for another worker, exit 0 (a second signal exits at once, 1). An unreachable gateway\n"
      "is retried with backoff, never a reason to exit. See docs/worker.md.\n"
      "Exit codes: 0 stopped by a signal, 1 failed, 2 usage, 3 configuration (token or CA file).");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }

  std::string token, warning;
  std::optional<GatewayApi> api;
  WorkerSettings settings;
  try {
    token = load_token(o, &warning);
    api.emplace(gateway_endpoint(o, token));
    settings = worker_settings(o);
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitUsage;
  } catch (const ConfigError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitConfig;
  }
  try {
    setup_logging(o.log_level);
  } catch (const std::exception& e) {
    std::cerr << "error: --log-level: " << e.what() << "\n";
    return kExitUsage;
  }
  if (!warning.empty()) spdlog::warn("{}", warning);

  // Signals are taken by sigwait on this thread only: blocked before any thread starts, so
  // every thread inherits the mask and none is interrupted by them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  spdlog::info("vespid-worker {} as {}: gateway {}, {} executors, lease {} ms", worker_version(),
               settings.worker_id, api->endpoint().url, settings.concurrency, settings.lease_ms);
  Worker worker(*api, settings);
  worker.start();

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("{}: no more claims; runs in progress stop at their next checkpoint",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
  worker.request_stop();
  // A second signal while they finish: out at once (their leases expire and others take over).
  std::thread([signals] {
    int again = 0;
    sigwait(&signals, &again);
    spdlog::warn("second signal: exiting now");
    spdlog::shutdown();
    std::_Exit(kExitFailed);
  }).detach();
  worker.join();
  spdlog::info("stopped");
  return kExitOk;
}
