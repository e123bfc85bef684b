// vespid session list|create|send|events|cancel|reset
//
// The control-client side of sessions, as the seed writes it: REST for the records
// (`--api http://HOST:3001`), the vespid.client.v1 WebSocket for sending and streaming
// (`--gateway ws://HOST:3002/ws/client`), an access token and an org on every call. These talk
// to the gateway over the network, not over the admin socket, so they work from any machine;
// remote.cpp finds a gateway that answers when several are given, session_stream.cpp streams a
// turn.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <vector>

#include "commands.hpp"
#include "output.hpp"
#include "remote.hpp"
#include "session_stream.hpp"

namespace vespid::cli {

namespace {

using nlohmann::json;

void print_sessions(const json& list) {
  Table t({"SESSION", "TITLE", "ENGINE", "PINNED TO", "LAST ACTIVITY"});
  for (const auto& s : list) {
    t.add_row({text(s, "id"), text(s, "title"), text(s, "engine"), text(s, "pinnedAgentId"),
               time_text(s, "lastActivityAt")});
  }
  t.print(std::cout);
}

void print_events(const json& events) {
  Table t({"SEQ", "TIME", "EVENT", "PAYLOAD"});
  for (const auto& ev : events) {
    t.add_row({text(ev, "seq"), time_text(ev, "createdAt"), text(ev, "eventType"),
               ev.contains("payload")
                   ? ev["payload"].dump(-1, ' ', false, json::error_handler_t::replace)
                   : "-"});
  }
  t.print(std::cout);
}

// The engine a session gets unless told otherwise: the one that answers without an API key on
// the node host, so a first `session send` works; a model is one option away.
constexpr const char* kDefaultEngine = "vespid.echo.v1";
constexpr const char* kModelHint =
    "for a model: --engine vespid.loop.v1 --model M (the node host needs OPENAI_API_KEY)";

struct CreateOptions {
  std::string title, engine = kDefaultEngine, model, instructions, tag, group;
};

}  // namespace

void add_session_commands(Registry& reg) {
  auto* group = reg.app.add_subcommand(
      "session", "Interactive sessions pinned to node hosts (over the network: --api, --gateway)");
  group->require_subcommand(1);
  group->footer(
      "Examples:\n"
      "  vespid session list --api http://localhost:3001 --org acme --token $TOKEN\n"
      "  vespid session create --api http://localhost:3001 --org acme --token $TOKEN\n"
      "  vespid session create --engine vespid.loop.v1 --model gpt-4.1-mini --instructions "
      "\"...\"\n"
      "  vespid session send --gateway ws://localhost:3002/ws/client --org acme --token $TOKEN "
      "--session $SID --message \"hello\"\n"
      "  vespid session events $SID --after 10\n"
      "  vespid session cancel $SID\n"
      "  vespid session send --gateway ws://gw-a:3002/ws/client,ws://gw-b:3002/ws/client ...\n"
      "VESPID_API, VESPID_GATEWAY, VESPID_ORG and VESPID_TOKEN stand in for the options.");

  auto lr = std::make_shared<Remote>();
  auto limit = std::make_shared<int>(50);
  auto* list = group->add_subcommand("list", "List the org's sessions, newest activity first");
  add_remote_options(list, *lr, false);
  list->add_option("--limit", *limit, "At most this many")
      ->capture_default_str()
      ->check(CLI::Range(1, 200));
  on_run(list, reg, [&ctx = reg.ctx, lr, limit] {
    json r = rest_call(*lr, "GET", "/sessions?limit=" + std::to_string(*limit));
    if (ctx.json()) return print_json(r);
    print_sessions(r.value("sessions", json::array()));
  });

  auto cr = std::make_shared<Remote>();
  auto co = std::make_shared<CreateOptions>();
  auto* create = group->add_subcommand("create", "Create a session and print its id");
  add_remote_options(create, *cr, false);
  create->add_option("--title", co->title, "A title to recognise it by");
  create
      ->add_option("--engine", co->engine,
                   std::string("vespid.echo.v1 (answers with what it is sent; needs no key) or "
                               "vespid.loop.v1 (a model; the node host needs OPENAI_API_KEY)"))
      ->capture_default_str();
  create->add_option("--model", co->model,
                     "With vespid.loop.v1: the model the node host asks its LLM provider for");
  create->add_option("--instructions", co->instructions, "The system prompt");
  create->add_option("--tag,--tags", co->tag, "Pin only to node hosts with this stored tag");
  create->add_option("--group", co->group, "Pin only to node hosts tagged group:<name>");
  on_run(create, reg, [&ctx = reg.ctx, cr, co] {
    json body = {{"engine", co->engine}};
    if (!co->title.empty()) body["title"] = co->title;
    if (!co->model.empty()) body["model"] = co->model;
    if (!co->instructions.empty()) body["instructions"] = co->instructions;
    json selector = json::object();
    if (!co->tag.empty()) selector["tag"] = co->tag;
    if (!co->group.empty()) selector["group"] = co->group;
    if (!selector.empty()) body["selector"] = selector;
    json r = rest_call(*cr, "POST", "/sessions", body);
    if (ctx.json()) return print_json(r);
    // The id alone on stdout, so `SID=$(vespid session create)` captures exactly it.
    std::cout << text(r["session"], "id") << std::endl;
    std::cerr << "engine " << co->engine;
    if (co->engine == kDefaultEngine)
      std::cerr << " (answers with what it is sent); " << kModelHint;
    std::cerr << '\n';
  });

  auto sr = std::make_shared<Remote>();
  auto so = std::make_shared<SendOptions>();
  auto* send = group->add_subcommand(
      "send", "Send a message and stream the answer; exit 0 on agent_final, 1 on error");
  add_remote_options(send, *sr, true);
  send->add_option("--session", so->session, "The session id")->required();
  send->add_option("--message", so->message, "What to say")->required();
  send->add_option("--idempotency-key", so->idempotency_key,
                   "Sending again with the same key does not run the turn twice");
  send->add_option("--timeout", so->timeout_s, "Seconds to wait for the answer")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  on_run(send, reg, [&ctx = reg.ctx, sr, so] { send_and_stream(ctx, *sr, *so); });

  auto er = std::make_shared<Remote>();
  auto eid = std::make_shared<std::string>();
  auto after = std::make_shared<long long>(0);
  auto* events =
      group->add_subcommand("events", "Print a session's stored events (its audit trail)");
  add_remote_options(events, *er, false);
  events->add_option("session", *eid, "The session id")->required();
  events->add_option("--after", *after, "Only events with a larger seq")->capture_default_str();
  on_run(events, reg, [&ctx = reg.ctx, er, eid, after] {
    json all = json::array();
    long long cursor = *after;
    for (;;) {
      json page = rest_call(
          *er, "GET", "/sessions/" + *eid + "/events?limit=200&afterSeq=" + std::to_string(cursor));
      for (const auto& ev : page.value("events", json::array())) all.push_back(ev);
      if (!page.contains("nextCursor") || page["nextCursor"].is_null()) break;
      cursor = page["nextCursor"].get<long long>();
    }
    if (ctx.json()) return print_json({{"events", all}});
    print_events(all);
  });

  auto stop_remote = std::make_shared<Remote>();
  auto stop_id = std::make_shared<std::string>();
  auto* cancel = group->add_subcommand(
      "cancel",
      "Stop the session's running turn: its events end with an error TURN_CANCELED and the node "
      "host is told to stop");
  add_remote_options(cancel, *stop_remote, false);
  cancel->add_option("session", *stop_id, "The session id")->required();
  on_run(cancel, reg, [&ctx = reg.ctx, stop_remote, stop_id] {
    json r = rest_call(*stop_remote, "POST", "/sessions/" + *stop_id + "/cancel", json::object());
    if (ctx.json()) return print_json(r);
    if (!r.value("cancelled", false)) {
      std::cout << "session " << *stop_id << " has no turn running on this gateway" << std::endl;
      return;
    }
    std::cout << "turn " << text(r, "requestId") << " cancelled";
    if (!r.value("hostNotified", true)) std::cout << " (its node host could not be told)";
    std::cout << std::endl;
  });

  auto rr = std::make_shared<Remote>();
  auto rid = std::make_shared<std::string>();
  auto* reset = group->add_subcommand(
      "reset", "Unpin the session from its node host; the next send picks one again");
  add_remote_options(reset, *rr, false);
  reset->add_option("session", *rid, "The session id")->required();
  on_run(reset, reg, [&ctx = reg.ctx, rr, rid] {
    json r = rest_call(*rr, "POST", "/sessions/" + *rid + "/reset", json::object());
    if (ctx.json()) return print_json(r);
    std::cout << "session " << *rid << " unpinned" << std::endl;
  });
}

}  // namespace vespid::cli
