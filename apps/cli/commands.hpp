// One function per command group; each adds its subcommands to the registry's app. A new group
// (session, dispatch) is a new cmd_<group>.cpp plus one line here and one in main.cpp.
#pragma once

#include "context.hpp"

namespace vespid::cli {

void add_status_command(Registry& reg);
void add_org_commands(Registry& reg);
void add_user_commands(Registry& reg);
void add_member_commands(Registry& reg);
void add_token_commands(Registry& reg);
void add_nodes_commands(Registry& reg);
void add_dispatch_commands(Registry& reg);
void add_agents_commands(Registry& reg);
void add_session_commands(Registry& reg);
void add_workflow_commands(Registry& reg);
void add_web_commands(Registry& reg);
// run, runs, events, cancel: under `workflow` (cmd_workflow_runs.cpp).
void add_workflow_run_commands(CLI::App* workflow_group, Registry& reg);

// The roles a membership can have, for option validation and help text.
inline const std::vector<std::string> kRoles = {"owner", "admin", "member"};

}  // namespace vespid::cli
