// A newcomer's first hour (issue 21): the real `vespid` (and `vespid-agent`) binaries against a
// real gateway, checking what a user following the README sees: org names wherever an org is
// asked for, errors that name what was expected and what was given, did-you-mean for a mistyped
// command, one exit code per kind of failure (2 for usage), no Boost internals, a default engine
// that works without a key, headers on tables, one error line, tokens' last use.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent_host.hpp"
#include "build_paths.hpp"
#include "node_host_support.hpp"
#include "operator_client.hpp"
#include "process.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

class CliFirstHour : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    ws_config_extra_ = {
        {"routes",
         json::array(
             {{{"path", "/ws"}, {"dialect", "vespid.node.v1"}, {"websocket", true}},
              {{"path", "/ws/client"}, {"dialect", "vespid.client.v1"}, {"websocket", true}}})}};
    start_gateway();
    bootstrap_identity();
    api_url_ = "http://127.0.0.1:" + std::to_string(api_port_);
    gw_url_ = "ws://127.0.0.1:" + std::to_string(ws_port_) + "/ws/client";
    // bob's token bound to acme, as `vespid token create --user bob --org acme` makes it.
    auto admin = cli::OperatorClient::connect(gw_.socket_path());
    acme_token_ = admin.call("tokens.create", {{"user", "bob"}, {"org", "acme"}})["token"];
  }

  // The CLI with nothing from the test's environment standing in for an option.
  CommandResult vespid(std::vector<std::string> args,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    args.insert(args.begin(), VESPID_CLI_BIN);
    return run_command(args,
                       {{"VESPID_API", ""},
                        {"VESPID_GATEWAY", ""},
                        {"VESPID_ORG", ""},
                        {"VESPID_TOKEN", ""},
                        {"XDG_STATE_HOME", ""}},
                       timeout);
  }
  // The same against this gateway's admin socket.
  CommandResult admin(std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", gw_.socket_path()});
    return vespid(std::move(args));
  }
  std::vector<std::string> over_rest(std::vector<std::string> args, const std::string& org,
                                     const std::string& token) {
    args.insert(args.end(), {"--api", api_url_, "--org", org, "--token", token});
    return args;
  }
  std::vector<std::string> over_ws(std::vector<std::string> args, const std::string& org,
                                   const std::string& token) {
    args.insert(args.end(), {"--gateway", gw_url_, "--org", org, "--token", token});
    return args;
  }
  std::unique_ptr<AgentHost> start_agent(const std::string& name) {
    auto a = std::make_unique<AgentHost>(dir_, name, pairing_token(admin_token_), api_port_);
    a->start();
    EXPECT_TRUE(wait_agent_status(a->id(), "online")) << a->log();
    return a;
  }

  std::string api_url_, gw_url_, acme_token_;
};

// Item 1: `--org acme` works over REST and /ws/client with a token bound to acme; a token bound
// to another org, and an org one is not a member of, are told naming what was given.
// Item 9: create defaults to the engine that needs no key and says how to switch.
// Item 10: `session events` has a header in table output and none in --json.
TEST_F(CliFirstHour, OrgNamesWorkEverywhereAndMismatchesNameBothOrgs) {
  auto agent = start_agent("first-hour-host");
  CommandResult created =
      vespid(over_rest({"session", "create", "--title", "try"}, "acme", acme_token_));
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  const std::string sid = first_line(created.out);
  ASSERT_FALSE(sid.empty());
  EXPECT_EQ(created.out, sid + "\n") << "the id alone on stdout";
  EXPECT_NE(created.err.find("engine vespid.echo.v1"), std::string::npos) << created.err;
  EXPECT_NE(created.err.find("--engine vespid.loop.v1 --model"), std::string::npos) << created.err;
  EXPECT_NE(created.err.find("OPENAI_API_KEY"), std::string::npos) << created.err;

  CommandResult sent = vespid(over_ws(
      {"session", "send", "--session", sid, "--message", "hello first hour"}, "acme", acme_token_));
  ASSERT_EQ(sent.exit_code, 0) << sent.out << sent.err << agent->log();
  EXPECT_EQ(sent.out, "hello first hour\n") << "the echo engine answers without a key";

  CommandResult trail = vespid(over_rest({"session", "events", sid}, "acme", acme_token_));
  ASSERT_EQ(trail.exit_code, 0) << trail.err;
  const std::string header = first_line(trail.out);
  EXPECT_EQ(header.rfind("SEQ", 0), 0u) << trail.out;
  EXPECT_NE(header.find("EVENT"), std::string::npos) << trail.out;
  EXPECT_NE(trail.out.find("agent_final"), std::string::npos) << trail.out;
  CommandResult trail_json =
      vespid(over_rest({"--json", "session", "events", sid}, "acme", acme_token_));
  ASSERT_EQ(trail_json.exit_code, 0) << trail_json.err;
  const json parsed = json::parse(trail_json.out, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << "no header in --json: " << trail_json.out;
  EXPECT_FALSE(parsed["events"].empty());

  // The id still works, and names the same org.
  CommandResult by_id = vespid(over_rest({"session", "list"}, org_id_, acme_token_));
  ASSERT_EQ(by_id.exit_code, 0) << by_id.err;
  EXPECT_NE(by_id.out.find(sid), std::string::npos) << by_id.out;

  CommandResult elsewhere = vespid(over_rest({"session", "list"}, "globex", acme_token_));
  EXPECT_EQ(elsewhere.exit_code, 1) << elsewhere.out << elsewhere.err;
  EXPECT_NE(elsewhere.err.find("FORBIDDEN: this access token is bound to org \"acme\" (" + org_id_ +
                               "), not to \"globex\""),
            std::string::npos)
      << elsewhere.err;
  CommandResult ws_elsewhere = vespid(
      over_ws({"session", "send", "--session", sid, "--message", "x"}, "globex", acme_token_));
  EXPECT_EQ(ws_elsewhere.exit_code, 1) << ws_elsewhere.err;
  EXPECT_NE(ws_elsewhere.err.find("bound to org \"acme\""), std::string::npos) << ws_elsewhere.err;

  CommandResult stranger = vespid(over_rest({"session", "list"}, "globex", member_token_));
  EXPECT_EQ(stranger.exit_code, 1) << stranger.err;
  EXPECT_NE(stranger.err.find("FORBIDDEN: you are not a member of org \"globex\""),
            std::string::npos)
      << stranger.err;
  // An org that does not exist gets the same answer: orgs are not to be probed.
  CommandResult nowhere = vespid(over_rest({"session", "list"}, "initech", member_token_));
  EXPECT_EQ(nowhere.exit_code, 1) << nowhere.err;
  EXPECT_NE(nowhere.err.find("FORBIDDEN: you are not a member of org \"initech\""),
            std::string::npos)
      << nowhere.err;
}

// Item 2: a mistyped session is SESSION_NOT_FOUND at once, exit 1 (the gateway answered), not a
// 30 s wait blamed on the network.
TEST_F(CliFirstHour, AMistypedSessionIsNotFoundAtOnce) {
  CommandResult sent = vespid(
      over_ws({"session", "send", "--session", "ses_nope", "--message", "hi"}, "acme", acme_token_),
      std::chrono::seconds(10));
  EXPECT_EQ(sent.exit_code, 1) << "-1 is a hang: " << sent.out << sent.err;
  EXPECT_NE(sent.err.find("SESSION_NOT_FOUND"), std::string::npos) << sent.err;
  EXPECT_EQ(sent.err.find("cannot reach"), std::string::npos) << sent.err;
}

// Item 4: did-you-mean, the aliases people type, --version, plain `vespid`.
TEST_F(CliFirstHour, CommandWordsSuggestAcceptAliasesAndShowVersions) {
  CommandResult typo = admin({"org", "craete", "acme2"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("\"craete\" is not a command of vespid org; did you mean \"create\"?"),
            std::string::npos)
      << typo.err;
  CommandResult not_created = admin({"--json", "org", "list"});
  ASSERT_EQ(not_created.exit_code, 0) << not_created.err;
  EXPECT_EQ(not_created.out.find("acme2"), std::string::npos) << "a usage error asks nothing";

  CommandResult far = admin({"frobnicate"});
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << "nothing is near: " << far.err;
  EXPECT_NE(far.err.find("vespid commands: status, org,"), std::string::npos) << far.err;

  CommandResult ls = admin({"nodes", "ls"});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_EQ(ls.out.rfind("NODE", 0), 0u) << ls.out;
  CommandResult org_ls = admin({"org", "ls"});
  EXPECT_EQ(org_ls.exit_code, 0) << org_ls.err;
  EXPECT_NE(org_ls.out.find("globex"), std::string::npos) << org_ls.out;
  // `rm` is `token revoke`: the gateway is asked, and knows no such token.
  CommandResult rm = admin({"token", "rm", "0000000000000000"});
  EXPECT_EQ(rm.exit_code, 1) << rm.err;
  EXPECT_NE(rm.err.find("NOT_FOUND"), std::string::npos) << rm.err;

  CommandResult version = vespid({"--version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
  EXPECT_EQ(version.out.rfind("vespid 0.", 0), 0u) << version.out;
  CommandResult agent_version = run_command({VESPID_AGENT_BIN, "--version"});
  EXPECT_EQ(agent_version.exit_code, 0) << agent_version.err;
  EXPECT_EQ(agent_version.out.rfind("vespid-agent 0.", 0), 0u) << agent_version.out;
  CommandResult gateway_version = run_command({gateway_bin(), "--version"});
  EXPECT_EQ(gateway_version.exit_code, 0) << gateway_version.err;
  EXPECT_EQ(gateway_version.out.rfind("vespid-gateway 0.", 0), 0u) << gateway_version.out;
  EXPECT_NE(gateway_version.out.find("(plugin ABI "), std::string::npos) << gateway_version.out;

  CommandResult bare = vespid({});
  EXPECT_EQ(bare.exit_code, 2);
  EXPECT_NE(bare.err.find("usage: vespid COMMAND"), std::string::npos) << bare.err;
  EXPECT_NE(bare.err.find("session"), std::string::npos) << bare.err;
  EXPECT_EQ(bare.err.find("A subcommand is required"), std::string::npos) << bare.err;
  CommandResult group = vespid({"org"});
  EXPECT_EQ(group.exit_code, 2);
  EXPECT_NE(group.err.find("`vespid org` needs a command"), std::string::npos) << group.err;
  EXPECT_NE(group.err.find("create"), std::string::npos) << group.err;
}

// Item 8: a usage error is exit 2 and names the option, wherever it is found; --tag and --tags
// are both accepted.
TEST_F(CliFirstHour, UsageErrorsExitTwoNamingTheOptionAndTagsTakeBothSpellings) {
  CommandResult no_org = vespid({"session", "list", "--api", api_url_, "--token", acme_token_});
  EXPECT_EQ(no_org.exit_code, 2) << no_org.err;
  EXPECT_NE(no_org.err.find("--org (or VESPID_ORG) is required"), std::string::npos) << no_org.err;
  CommandResult no_token = vespid({"session", "list", "--api", api_url_, "--org", "acme"});
  EXPECT_EQ(no_token.exit_code, 2) << no_token.err;
  EXPECT_NE(no_token.err.find("--token (or VESPID_TOKEN) is required"), std::string::npos)
      << no_token.err;
  CommandResult empty_url =
      vespid({"session", "list", "--api", api_url_ + ",", "--org", "acme", "--token", "t"});
  EXPECT_EQ(empty_url.exit_code, 2) << empty_url.err;
  EXPECT_NE(empty_url.err.find("--api has an empty URL"), std::string::npos) << empty_url.err;
  CommandResult missing = admin({"dispatch", "send", "--user", "alice"});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_EQ(missing.err,
            "error: --org is required\n`vespid dispatch send --help` shows the options and an "
            "example.\n");

  for (const char* spelling : {"--tag", "--tags"}) {
    CommandResult tagged = vespid(
        over_rest({"--json", "session", "create", spelling, "kitchen"}, "acme", acme_token_));
    ASSERT_EQ(tagged.exit_code, 0) << spelling << ": " << tagged.err;
    const json session = json::parse(tagged.out, nullptr, false);
    ASSERT_TRUE(session.is_object()) << tagged.out;
    EXPECT_EQ(session["session"]["selector"].value("tag", ""), "kitchen") << tagged.out;
    // No node host carries the tag: the gateway's answer, so the option was taken.
    CommandResult dispatched = admin({"dispatch", "send", "--org", "acme", "--user", "alice",
                                      spelling, "kitchen", "--payload", "{}"});
    EXPECT_EQ(dispatched.exit_code, 1) << spelling << ": " << dispatched.err;
    EXPECT_NE(dispatched.err.find("NO_AGENT_AVAILABLE"), std::string::npos) << dispatched.err;
  }
}

// Item 9: nobody listening is `connect: Connection refused` and what to check, no Boost source
// paths; exit 3.
TEST_F(CliFirstHour, NobodyListeningSaysWhatToCheckWithoutBoostInternals) {
  const std::string dead = std::to_string(pick_free_port());
  CommandResult rest = vespid({"session", "list", "--api", "http://127.0.0.1:" + dead, "--org",
                               "acme", "--token", acme_token_});
  EXPECT_EQ(rest.exit_code, 3) << rest.err;
  EXPECT_NE(rest.err.find("http://127.0.0.1:" + dead +
                          ": connect: Connection refused; is "
                          "vespid-gateway running"),
            std::string::npos)
      << rest.err;
  EXPECT_NE(rest.err.find("--api or VESPID_API"), std::string::npos) << rest.err;
  EXPECT_EQ(rest.err.find("boost"), std::string::npos) << rest.err;
  EXPECT_EQ(rest.err.find("[system:"), std::string::npos) << rest.err;

  CommandResult ws =
      vespid({"session", "send", "--session", "ses_x", "--message", "hi", "--gateway",
              "ws://127.0.0.1:" + dead + "/ws/client", "--org", "acme", "--token", acme_token_});
  EXPECT_EQ(ws.exit_code, 3) << ws.err;
  EXPECT_NE(ws.err.find("connect: Connection refused; is vespid-gateway running"),
            std::string::npos)
      << ws.err;
  EXPECT_NE(ws.err.find("--gateway or VESPID_GATEWAY"), std::string::npos) << ws.err;
  EXPECT_EQ(ws.err.find("boost"), std::string::npos) << ws.err;
}

// Item 10: a failed `dispatch send --wait` says its error once; `token list` fills LAST USED.
TEST_F(CliFirstHour, AFailedDispatchSaysItOnceAndTokensShowTheirLastUse) {
  auto agent = start_agent("first-hour-worker");
  CommandResult failed = admin({"dispatch", "send", "--org", "acme", "--user", "alice", "--wait",
                                "--payload", R"({"engine":"vespid.nope.v1","message":"hi"})"});
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  EXPECT_NE(failed.out.find("status: failed"), std::string::npos) << failed.out;
  EXPECT_EQ(count_of(failed.out + failed.err, "ENGINE_NOT_AVAILABLE"), 1u)
      << "stdout:\n"
      << failed.out << "stderr:\n"
      << failed.err;

  // acme_token_ is used by this call; bob's unbound token (member_token_) is used by nobody.
  CommandResult used = vespid(over_rest({"session", "list"}, "acme", acme_token_));
  ASSERT_EQ(used.exit_code, 0) << used.err;
  const std::string used_id = acme_token_.substr(4, 16);
  const std::string unused_id = member_token_.substr(4, 16);
  CommandResult listed = admin({"--json", "token", "list", "--user", "bob"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const json tokens = json::parse(listed.out, nullptr, false);
  ASSERT_TRUE(tokens.is_object()) << listed.out;
  int seen = 0;
  for (const auto& tok : tokens["tokens"]) {
    if (tok["tokenId"] == used_id) {
      ++seen;
      EXPECT_TRUE(tok.contains("lastUsedAt") && tok["lastUsedAt"].is_string()) << tok.dump();
    } else if (tok["tokenId"] == unused_id) {
      ++seen;
      EXPECT_FALSE(tok.contains("lastUsedAt")) << tok.dump();
    }
  }
  EXPECT_EQ(seen, 2) << listed.out;
  CommandResult table = admin({"token", "list", "--user", "bob"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  for (std::string rest = table.out; !rest.empty();) {
    const std::string line = first_line(rest);
    rest = rest.size() > line.size() ? rest.substr(line.size() + 1) : "";
    if (line.rfind(used_id, 0) == 0) {
      EXPECT_EQ(line.back(), 'Z') << "LAST USED is a time: " << line;
    }
  }
}

}  // namespace
}  // namespace vespid::test
