// vespid-gateway: the gateway daemon and its maintenance commands.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "config/config.hpp"
#include "config_check.hpp"
#include "dns_sd_zone.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/gateway.hpp"
#include "host/plugins/module_catalog.hpp"
#include "runtime/logging.hpp"
#include "version.hpp"
#include "vespid/abi.h"

namespace {

struct Options {
  std::string config_file;
  std::string state_dir;
  std::vector<std::string> plugin_dirs;
  std::string log_level;
  std::string log_format;
  bool json = false;
  bool strict = false;
};

vespid::config::LoadOptions load_options(const Options& o) {
  vespid::config::LoadOptions lo;
  lo.file = o.config_file;
  if (lo.file.empty()) {
    if (const char* env = std::getenv("VESPID_CONFIG"); env && *env) lo.file = env;
  }
  lo.env = vespid::config::process_env();
  if (!o.state_dir.empty()) lo.flags["state_dir"] = o.state_dir;
  if (!o.log_level.empty()) lo.flags["log.level"] = o.log_level;
  if (!o.log_format.empty()) lo.flags["log.format"] = o.log_format;
  return lo;
}

// The built-in plugin directory first, then the config's, then the command line's.
std::vector<std::string> plugin_dirs(const vespid::config::GatewayConfig& cfg, const Options& o) {
  std::vector<std::string> dirs{vespid::core::ModuleCatalog::builtin_dir()};
  dirs.insert(dirs.end(), cfg.plugin_dirs.begin(), cfg.plugin_dirs.end());
  dirs.insert(dirs.end(), o.plugin_dirs.begin(), o.plugin_dirs.end());
  return dirs;
}

void add_common(CLI::App& app, Options& o) {
  app.add_option(
      "-c,--config", o.config_file,
      "JSON config file (comments allowed); default: $VESPID_CONFIG, else built-in defaults");
  app.add_option("--state-dir", o.state_dir,
                 "State directory (database, admin socket); default $XDG_STATE_HOME/vespid");
  app.add_option("--plugin-dir", o.plugin_dirs,
                 "Extra directory to search for plugin modules (repeatable)");
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error or off");
  app.add_option("--log-format", o.log_format, "text or json");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"vespid-gateway: the Vespid gateway daemon. With no command it runs the gateway.",
               "vespid-gateway"};
  app.footer(
      "Examples:\n"
      "  vespid-gateway                       run on defaults (SQLite and the admin socket in the "
      "state dir)\n"
      "  vespid-gateway run -c /etc/vespid/vespid.json\n"
      "  vespid-gateway plugins               list plugin modules and whether they load\n"
      "  vespid-gateway config show           print the effective configuration\n"
      "  vespid-gateway tls fingerprint       the certificate fingerprint nodes pin\n"
      "  vespid-gateway config check          every problem `run` would stop at, at once\n"
      "Exit codes: 0 ok, 1 runtime failure, 2 bad config or usage, 3 state dir unusable,\n"
      "  4 state dir in use by another gateway, 5 cannot listen, 6 plugin failure, 7 storage "
      "failure");
  add_common(app, o);
  app.fallthrough();

  auto* run = app.add_subcommand("run", "Run the gateway (the default)");
  auto* plugins = app.add_subcommand(
      "plugins", "List plugin modules, their plugins and whether they would load");
  plugins->add_flag("--json", o.json, "Print JSON");
  auto* config = app.add_subcommand("config", "Check or show the configuration");
  auto* check = config->add_subcommand(
      "check",
      "Check everything `run` would, short of listening and opening the database: keys, "
      "environment, plugins and each instance's config; report every problem and exit "
      "(0 ok, 2 errors)");
  check->add_flag("--strict", o.strict, "Warnings fail the check too (exit 2)");
  auto* show = config->add_subcommand("show", "Print the effective configuration (secrets masked)");
  config->require_subcommand(1);
  auto* tls = app.add_subcommand("tls", "TLS certificate tools");
  auto* fingerprint = tls->add_subcommand("fingerprint",
                                          "Print the SHA-256 fingerprint (lowercase hex) of the "
                                          "gateway's certificate, for nodes to pin");
  fingerprint->add_flag("--json", o.json, "Print JSON");
  tls->require_subcommand(1);
  auto* dns_sd = app.add_subcommand("dns-sd", "DNS-SD tools for wide-area (unicast DNS) discovery");
  vespid::app::ZoneOptions zone_opts;
  auto* zone = dns_sd->add_subcommand(
      "zone", "Print PTR/SRV/TXT (and A/AAAA) records of the published listeners for a DNS zone");
  zone->add_option("--domain", zone_opts.domain, "The zone's domain, e.g. vespid.example.net")
      ->required();
  zone->add_option("--host", zone_opts.host, "SRV target label (default: this host's name)");
  zone->add_option("--address", zone_opts.addresses,
                   "A/AAAA address of the target (repeatable; default: tailnet addresses)");
  zone->add_option("--ttl", zone_opts.ttl, "TTL of every record (default 120)")
      ->check(CLI::Range(1, 604800));
  dns_sd->require_subcommand(1);
  auto* version = app.add_subcommand("version", "Print the version and the plugin ABI");
  app.set_version_flag("--version", std::string("vespid-gateway ") + vespid::kVersion +
                                        " (plugin ABI " + std::to_string(VSP_ABI_MAJOR) + "." +
                                        std::to_string(VSP_ABI_MINOR) + ")");
  for (auto* sub : {run, plugins, check, show, fingerprint, dns_sd, zone}) sub->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return vespid::exit_code::kConfig;
  }

  if (version->parsed()) {
    std::cout << "vespid-gateway " << vespid::kVersion << " (plugin ABI " << VSP_ABI_MAJOR << "."
              << VSP_ABI_MINOR << ")\n";
    return 0;
  }

  if (check->parsed()) {
    auto cfg = vespid::config::load_reporting_all(load_options(o));
    return vespid::app::config_check(cfg, plugin_dirs(cfg, o), o.strict);
  }
  vespid::config::GatewayConfig cfg;
  try {
    cfg = vespid::config::load(load_options(o));
  } catch (const vespid::config::ConfigError& e) {
    // One line per problem, each saying whose message it is.
    std::stringstream lines(e.what());
    for (std::string line; std::getline(lines, line);)
      std::cerr << "vespid-gateway: " << line << "\n";
    return vespid::exit_code::kConfig;
  }
  if (plugins->parsed()) return vespid::app::list_plugins(plugin_dirs(cfg, o), o.json);
  if (show->parsed()) return vespid::app::config_show(cfg);
  if (fingerprint->parsed()) return vespid::app::tls_fingerprint(cfg, o.json);
  if (zone->parsed()) return vespid::app::dns_sd_zone(cfg, zone_opts);

  vespid::log::configure({cfg.log_level, cfg.log_format, cfg.log_components,
                          static_cast<size_t>(cfg.integer("log.tail_lines"))});
  vespid::core::Gateway gateway(cfg, plugin_dirs(cfg, o));
  // SIGHUP reads the same file, environment and flags again (its log levels apply live).
  gateway.set_reloader([&o] { return vespid::config::load(load_options(o)); });
  return gateway.run();
}
