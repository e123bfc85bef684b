// vespid dispatch send|result, vespid agents pairing-token
//
// Trying internal dispatch by hand from the gateway's machine: the same request a worker sends to
// POST /internal/v1/dispatch-async, over the local admin socket (no service token needed there).
// Methods: dispatch.submit, dispatch.result, agents.pairingToken.
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "commands.hpp"
#include "output.hpp"
#include "random_id.hpp"
#include "validators.hpp"

namespace vespid::cli {

namespace {

using nlohmann::json;

struct SendOptions {
  std::string org, kind = "agent.execute", payload = "{}", tag, group, agent, node_id = "cli";
  std::string user, run_id, workflow_id;  // empty: see the options' help
  int attempt = 1;
  long long timeout_ms = 0;
  bool wait = false;
};

// A failed result's error is not printed here: fail_if_failed says it, once, on stderr.
void print_result(Context& ctx, const json& answer) {
  if (ctx.json()) return print_json(answer);
  const json& r = answer["result"];
  std::cout << "status: " << text(r, "status") << '\n';
  if (r.contains("output")) {
    std::cout << "output: " << r["output"].dump(2, ' ', false, json::error_handler_t::replace)
              << '\n';
  }
  if (r.contains("error") && r.value("status", "") != "failed") {
    std::cout << "error: " << text(r, "error") << '\n';
  }
}

// Exit 1 for a failed result, so scripts can tell.
void fail_if_failed(const json& answer) {
  const json& r = answer["result"];
  if (r.value("status", "") == "failed") {
    throw OperatorError("DISPATCH_FAILED", "the node host reported: " + r.value("error", "?"),
                        {{"requestId", answer.value("requestId", "")}});
  }
}

// The option the operator typed for a body field the gateway refused, so the error can say so.
const char* option_for(const std::string& field) {
  static const std::map<std::string, const char*> options = {
      {"organizationId", "--org"},  {"requestedByUserId", "--user"}, {"runId", "--run-id"},
      {"workflowId", "--workflow"}, {"nodeId", "--node-id"},         {"attemptCount", "--attempt"},
      {"kind", "--kind"},           {"payload", "--payload"},        {"selectorTag", "--tag"},
      {"selectorGroup", "--group"}, {"selectorAgentId", "--agent"},  {"timeoutMs", "--timeout"}};
  auto it = options.find(field);
  return it == options.end() ? nullptr : it->second;
}

// dispatch.submit, with the gateway's refusal of a field told in terms of the command line.
json submit(Context& ctx, const json& body, const SendOptions& o) {
  try {
    return ctx.call("dispatch.submit", body);
  } catch (const OperatorError& e) {
    const std::string field = e.details.is_object() ? e.details.value("field", "") : "";
    if (field == "requestedByUserId" && o.user.empty() && e.code == "INVALID_REQUEST") {
      // The admin socket acts for no user, so the gateway cannot fill in who asked. Still the
      // gateway's refusal (exit 1, its code), told as the option to add.
      throw OperatorError(
          e.code,
          "--user is required: the admin socket acts for no user, so name the member of the "
          "org the work is done for, by id or name (`vespid user list --org " +
              o.org + "` lists them), e.g. vespid dispatch send --org " + o.org +
              " --user alice ...",
          json::object());
    }
    const char* option = option_for(field);
    if (option == nullptr) throw;
    throw OperatorError(e.code, e.message + " (" + option + ")", e.details);
  }
}

}  // namespace

void add_dispatch_commands(Registry& reg) {
  auto* group = reg.app.add_subcommand("dispatch", "Send work to node hosts and read results");
  group->require_subcommand(1);
  group->footer(
      "Examples:\n"
      "  vespid dispatch send --org acme --user alice --payload '{\"engine\":\"vespid.echo.v1\","
      "\"message\":\"hi\"}' --wait\n"
      "  vespid dispatch send --org acme --user alice --kind connector.action --tag gpu \\\n"
      "      --payload '{\"connectorId\":\"echo\",\"actionId\":\"say\",\"input\":{\"x\":1}}'\n"
      "  vespid dispatch result 0f8e2c4a-5b1d-4e7f-9a3c-6d2b8e1f4a70:cli:1\n"
      "\n"
      "--user is required here: the admin socket acts for no user, and the node host is told who\n"
      "the work is for (`vespid user list --org acme` shows the org's members). runId and\n"
      "workflowId are uuids, as the reference requires; fresh ones unless given.");

  auto o = std::make_shared<SendOptions>();
  auto* send = group->add_subcommand(
      "send", "Dispatch one request (as POST /internal/v1/dispatch-async) and print its requestId");
  send->add_option("--org", o->org, "The org whose node hosts may run it (id or name)")->required();
  send->add_option("--kind", o->kind, "agent.execute, agent.run or connector.action")
      ->capture_default_str()
      ->check(CLI::IsMember({"agent.execute", "agent.run", "connector.action"}));
  send->add_option("--payload", o->payload, "The payload the node host gets, as JSON")
      ->capture_default_str()
      ->check(json_value_validator());
  send->add_option("--tag,--tags", o->tag, "Only node hosts with this stored tag");
  send->add_option("--group", o->group, "Only node hosts tagged group:<name>");
  send->add_option("--agent", o->agent, "Exactly this node host (its id)");
  send->add_option("--user", o->user,
                   "requestedByUserId: the member of the org the work is done for, by id or name "
                   "(required: the admin socket acts for no user; `vespid user list --org ORG`)");
  send->add_option("--run-id", o->run_id, "runId, a uuid (default: a fresh one)");
  send->add_option("--workflow", o->workflow_id, "workflowId, a uuid (default: a fresh one)");
  send->add_option("--node-id", o->node_id, "nodeId, the workflow node")->capture_default_str();
  send->add_option("--attempt", o->attempt, "attemptCount (1 to 1000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  send->add_option("--timeout", o->timeout_ms,
                   "Milliseconds before the result is NODE_EXECUTION_TIMEOUT "
                   "(default: dispatch.default_timeout_ms)")
      ->check(CLI::Range(1000LL, 86400000LL));
  send->add_flag("--wait", o->wait, "Wait for the result and print it (exit 1 if it failed)");
  on_run(send, reg, [&ctx = reg.ctx, o] {
    json body = {{"organizationId", o->org},
                 {"runId", o->run_id.empty() ? random_uuid() : o->run_id},
                 {"workflowId", o->workflow_id.empty() ? random_uuid() : o->workflow_id},
                 {"nodeId", o->node_id},
                 {"nodeType", o->kind},
                 {"attemptCount", o->attempt},
                 {"kind", o->kind},
                 {"payload", json::parse(o->payload)}};
    if (!o->tag.empty()) body["selectorTag"] = o->tag;
    if (!o->group.empty()) body["selectorGroup"] = o->group;
    if (!o->agent.empty()) body["selectorAgentId"] = o->agent;
    if (o->timeout_ms > 0) body["timeoutMs"] = o->timeout_ms;
    // Left out without --user, so a caller that is a user is taken as the one who asked.
    if (!o->user.empty()) body["requestedByUserId"] = o->user;
    json sent = submit(ctx, body, *o);
    const std::string id = text(sent, "requestId");
    if (!o->wait) {
      if (ctx.json()) return print_json(sent);
      std::cout << id << std::endl;
      if (sent.value("cached", false)) std::cerr << "(a result is already stored for it)\n";
      return;
    }
    if (!ctx.json()) {
      std::cerr << "dispatched " << id << " to node host " << text(sent, "agentId")
                << "; waiting for the result" << std::endl;
    }
    // The gateway stores a NODE_EXECUTION_TIMEOUT result when the host stays silent, so this
    // loop ends; the bound only guards against a gateway that went away.
    const auto limit = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(o->timeout_ms > 0 ? o->timeout_ms : 600000) +
                       std::chrono::seconds(10);
    for (;;) {
      json r = ctx.call("dispatch.result", {{"requestId", id}});
      if (r.value("ready", false)) {
        print_result(ctx, r);
        fail_if_failed(r);
        return;
      }
      if (std::chrono::steady_clock::now() > limit) {
        throw OperatorError("TIMEOUT", "no result for " + id + " in time", json::object());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  auto id = std::make_shared<std::string>();
  auto* result = group->add_subcommand("result", "Print a dispatch's stored result");
  result->add_option("requestId", *id, "<runId>:<nodeId>:<attemptCount>")->required();
  on_run(result, reg, [&ctx = reg.ctx, id] {
    json r = ctx.call("dispatch.result", {{"requestId", *id}});
    if (!r.value("ready", false)) {
      throw OperatorError("RESULT_NOT_READY", "no result stored for " + *id + " (yet)",
                          json::object());
    }
    print_result(ctx, r);
    fail_if_failed(r);
  });
}

void add_agents_commands(Registry& reg) {
  auto* group = reg.app.add_subcommand("agents", "Node hosts (vespid-agent): pairing tokens");
  group->require_subcommand(1);
  auto org = std::make_shared<std::string>();
  auto* pt = group->add_subcommand("pairing-token",
                                   "Create a single-use pairing token for `vespid-agent connect`");
  pt->add_option("--org", *org, "The org the node host will belong to (id or name)")->required();
  pt->footer(
      "Example:\n  vespid-agent connect --pairing-token \"$(vespid agents pairing-token --org "
      "acme)\" --api http://127.0.0.1:3001");
  on_run(pt, reg, [&ctx = reg.ctx, org] {
    json r = ctx.call("agents.pairingToken", {{"org", *org}});
    if (ctx.json()) return print_json(r);
    std::cout << text(r, "token") << std::endl;
    std::cerr << "single use; expires " << time_text(r, "expiresAt") << '\n';
  });
}

}  // namespace vespid::cli
