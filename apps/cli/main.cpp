// vespid: the command-line client of a local Vespid gateway. It speaks operator.v1 over the
// gateway's admin socket (<state dir>/gateway.sock), which only the gateway's own user can open.
//
// Exit codes: 0 ok; 1 the gateway answered an error; 2 usage error; 3 cannot reach the gateway.
#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>

#include "command_words.hpp"
#include "commands.hpp"
#include "context.hpp"
#include "usage_error.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitGatewayError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;

}  // namespace

int main(int argc, char** argv) {
  using namespace vespid::cli;

  CLI::App app{"Administer a local Vespid gateway over its admin socket."};
  app.name("vespid");
  // Inherited by every subcommand created below, so global options also work after them:
  // `vespid org list --json`.
  app.fallthrough();
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("vespid ") + VESPID_CLI_VERSION);

  GlobalOptions opts;
  app.add_option("--state-dir", opts.state_dir,
                 "The gateway's state directory (default $XDG_STATE_HOME/vespid, else "
                 "~/.local/state/vespid)");
  app.add_option("--socket", opts.socket, "The admin socket (default <state dir>/gateway.sock)");
  app.add_flag("--json", opts.json, "Print the gateway's answer as JSON instead of a table");

  Context ctx(opts);
  std::function<void()> action;
  Registry reg{app, ctx, action};
  add_status_command(reg);
  add_org_commands(reg);
  add_user_commands(reg);
  add_member_commands(reg);
  add_token_commands(reg);
  add_nodes_commands(reg);
  add_agents_commands(reg);
  add_dispatch_commands(reg);
  add_session_commands(reg);
  add_workflow_commands(reg);
  add_web_commands(reg);
  add_conventional_aliases(app);
  use_error_form(app);
  // Set last: a footer set earlier would be inherited by every subcommand.
  app.footer(
      "Examples:\n  vespid status\n  vespid org create acme\n  vespid --json user list --org acme\n"
      "  vespid nodes pending\n"
      "\nExit codes: 0 ok, 1 the gateway answered an error, 2 usage error, 3 cannot reach the "
      "gateway.");

  // Before CLI11, whose answer to a mistyped or missing command is "A subcommand is required".
  if (report_command_word_error(app, argc, argv, std::cerr)) return kExitUsage;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints help (exit 0) or the usage message; every usage failure is exit 2.
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }

  try {
    if (action) action();
    return kExitOk;
  } catch (const OperatorError& e) {
    std::cerr << "error: " << e.code << ": " << e.message << '\n';
    // A list of problems (a refused workflow spec) reads best one a line.
    if (e.details.is_object() && e.details.contains("issues") && e.details["issues"].is_array()) {
      for (const auto& issue : e.details["issues"]) {
        std::cerr << "  " << issue.value("field", std::string("-")) << ": "
                  << issue.value("message", std::string()) << '\n';
      }
    } else if (!e.details.is_null() && !e.details.empty()) {
      std::cerr << "details: "
                << e.details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    }
    return kExitGatewayError;
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << '\n';
    return kExitUsage;
  } catch (const ConnectionError& e) {
    std::cerr << "error: " << e.what() << '\n';
    return kExitUnreachable;
  } catch (const std::exception& e) {
    // An answer we could not make sense of (a field of the wrong type): the gateway answered,
    // but not usefully.
    std::cerr << "error: unexpected answer from the gateway: " << e.what() << '\n';
    return kExitGatewayError;
  }
}
