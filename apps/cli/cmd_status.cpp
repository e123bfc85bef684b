// vespid status
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.hpp"
#include "output.hpp"

namespace vespid::cli {

namespace {

void print_status(const nlohmann::json& s) {
  std::string storage = text(s.value("storage", nlohmann::json::object()), "plugin");
  if (s.contains("storage") && s["storage"].contains("revision")) {
    storage += " (revision " + text(s["storage"], "revision") + ")";
  }
  const auto uptime = s.find("uptimeMs");
  Table facts({"", ""});
  facts.add_row({"version:", text(s, "version")});
  facts.add_row({"abi:", text(s, "abi")});
  facts.add_row({"pid:", text(s, "pid")});
  facts.add_row({"uptime:", uptime != s.end() && uptime->is_number()
                                ? duration_text(uptime->get<long long>())
                                : "-"});
  facts.add_row({"state dir:", text(s, "stateDir")});
  facts.add_row({"connections:", text(s, "connections")});
  facts.add_row({"storage:", storage});
  facts.print(std::cout, /*with_header=*/false);

  const auto instances = s.value("instances", nlohmann::json::array());
  if (!instances.empty()) {
    std::cout << '\n';
    Table t({"INSTANCE", "PLUGIN", "KIND", "STATE"});
    for (const auto& i : instances) {
      t.add_row({text(i, "name"), text(i, "plugin"), text(i, "kind"), text(i, "state")});
    }
    t.print(std::cout);
  }
}

}  // namespace

void add_status_command(Registry& reg) {
  auto* sub = reg.app.add_subcommand("status", "Show the gateway's version, uptime and plugins");
  sub->footer("Example:\n  vespid status\n  vespid --json status");
  on_run(sub, reg, [&ctx = reg.ctx] {
    auto payload = ctx.call("status");
    if (ctx.json()) {
      print_json(payload);
    } else {
      print_status(payload);
    }
  });
}

}  // namespace vespid::cli
