// The `vespid` CLI against a real gateway over the local admin socket: identity created through
// the CLI, survives a restart, errors map to exit codes, and the socket itself behaves.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "build_paths.hpp"
#include "gateway_process.hpp"
#include "operator_client.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;

class CliLocalAdmin : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = dir_.file("state");
    gw_.start(state_);
    ASSERT_TRUE(gw_.wait_ready());
  }

  // `vespid --state-dir <state> <args...>`
  CommandResult vespid(const std::vector<std::string>& args) {
    std::vector<std::string> argv{cli_bin(), "--state-dir", state_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }

  // Runs a command with --json, expects success and returns the parsed payload.
  json vespid_json(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    CommandResult r = vespid(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json out = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(out.is_discarded()) << "--json output is not JSON:\n" << r.out;
    return out;
  }

  static std::string describe(const CommandResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
  }

  TempDir dir_;
  std::string state_;
  GatewayProcess gw_;
};

// Finds the element of `list` whose `key` equals `value`, or null.
json find_by(const json& list, const std::string& key, const std::string& value) {
  for (const auto& item : list) {
    if (item.value(key, "") == value) return item;
  }
  return nullptr;
}

TEST_F(CliLocalAdmin, CreatesOrgUserAndTokenThatSurviveARestart) {
  CommandResult org = vespid({"org", "create", "acme"});
  ASSERT_EQ(org.exit_code, 0) << describe(org);
  EXPECT_NE(org.out.find("acme"), std::string::npos) << describe(org);
  EXPECT_EQ(org.err, "");

  CommandResult user = vespid({"user", "create", "alice", "--email", "alice@example.com", "--org",
                               "acme", "--role", "admin"});
  ASSERT_EQ(user.exit_code, 0) << describe(user);
  EXPECT_NE(user.out.find("alice@example.com"), std::string::npos) << describe(user);

  CommandResult token =
      vespid({"token", "create", "--user", "alice", "--org", "acme", "--name", "ci"});
  ASSERT_EQ(token.exit_code, 0) << describe(token);
  // Only the secret on stdout, so `$(vespid token create ...)` works; the warning on stderr.
  ASSERT_EQ(token.out.rfind("vat_", 0), 0u) << describe(token);
  EXPECT_EQ(token.out.find('\n'), token.out.size() - 1) << describe(token);
  EXPECT_NE(token.err.find("will not be shown again"), std::string::npos) << describe(token);

  json created = vespid_json({"token", "create", "--user", "alice", "--ttl", "3600"});
  EXPECT_EQ(created.value("token", "").rfind("vat_", 0), 0u) << created.dump();
  EXPECT_TRUE(created.contains("tokenId")) << created.dump();
  EXPECT_TRUE(created.contains("expiresAt")) << created.dump();

  auto check_everything_listed = [&] {
    json orgs = vespid_json({"org", "list"});
    json acme = find_by(orgs["orgs"], "name", "acme");
    ASSERT_TRUE(acme.is_object()) << orgs.dump();

    json members = vespid_json({"user", "list", "--org", "acme"});
    json alice = find_by(members["users"], "name", "alice");
    ASSERT_TRUE(alice.is_object()) << members.dump();
    EXPECT_EQ(alice.value("role", ""), "admin");
    EXPECT_EQ(alice.value("email", ""), "alice@example.com");

    json tokens = vespid_json({"token", "list", "--user", "alice"});
    ASSERT_EQ(tokens["tokens"].size(), 2u) << tokens.dump();
    EXPECT_TRUE(find_by(tokens["tokens"], "name", "ci").is_object()) << tokens.dump();
    EXPECT_TRUE(find_by(tokens["tokens"], "tokenId", created.value("tokenId", "")).is_object());
    // Secrets are shown once, at creation, and never listed.
    EXPECT_EQ(tokens.dump().find("vat_"), std::string::npos) << tokens.dump();

    CommandResult table = vespid({"org", "list"});
    EXPECT_EQ(table.exit_code, 0);
    EXPECT_EQ(table.out.rfind("ID", 0), 0u) << "a table with a header:\n" << table.out;
  };
  check_everything_listed();

  ASSERT_EQ(gw_.terminate(), 0) << gw_.log_text();
  struct stat st {};
  EXPECT_NE(::stat(gw_.socket_path().c_str(), &st), 0) << "socket file left behind";
  CommandResult down = vespid({"org", "list"});
  EXPECT_EQ(down.exit_code, 3) << describe(down);

  gw_.start(state_);
  ASSERT_TRUE(gw_.wait_ready());
  check_everything_listed();
}

TEST_F(CliLocalAdmin, StatusAnswersInBothForms) {
  CommandResult human = vespid({"status"});
  ASSERT_EQ(human.exit_code, 0) << describe(human);
  EXPECT_NE(human.out.find(state_), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("unix"), std::string::npos) << human.out;

  json status = vespid_json({"status"});
  EXPECT_EQ(status.value("stateDir", ""), state_);
  EXPECT_EQ(status.value("pid", 0), gw_.pid());
  EXPECT_EQ(status.value("abi", ""), "1.6");
}

TEST_F(CliLocalAdmin, SocketFileIsPrivateToItsOwner) {
  struct stat st {};
  ASSERT_EQ(::stat(gw_.socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());
}

TEST_F(CliLocalAdmin, GatewayErrorsExitOneWithTheirCode) {
  CommandResult r = vespid({"user", "create", "bob", "--org", "nope"});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_EQ(r.err.rfind("error: NOT_FOUND: ", 0), 0u) << describe(r);
  EXPECT_EQ(r.out, "");

  ASSERT_EQ(vespid({"org", "create", "dup"}).exit_code, 0);
  CommandResult again = vespid({"org", "create", "dup"});
  EXPECT_EQ(again.exit_code, 1) << describe(again);
  EXPECT_EQ(again.err.rfind("error: CONFLICT: ", 0), 0u) << describe(again);
}

TEST_F(CliLocalAdmin, UsageErrorsExitTwoWithoutAskingTheGateway) {
  CommandResult bad_role = vespid({"member", "add", "--org", "a", "--user", "b", "--role", "god"});
  EXPECT_EQ(bad_role.exit_code, 2) << describe(bad_role);
  CommandResult missing = vespid({"token", "create"});
  EXPECT_EQ(missing.exit_code, 2) << describe(missing);
  EXPECT_NE(missing.err.find("--user"), std::string::npos) << describe(missing);
  CommandResult help = vespid({"token", "create", "--help"});
  EXPECT_EQ(help.exit_code, 0) << describe(help);
  EXPECT_NE(help.out.find("Example"), std::string::npos) << help.out;
}

TEST_F(CliLocalAdmin, SecondGatewayOnTheSameStateDirExitsQuickly) {
  GatewayProcess second;
  second.start(state_);
  const int code = second.wait_exit(std::chrono::seconds(10));
  EXPECT_NE(code, -1) << "still running after 10 s:\n" << second.log_text();
  EXPECT_NE(code, 0) << second.log_text();
  EXPECT_NE(second.log_text().find(state_), std::string::npos) << second.log_text();
  // The first one is unharmed: its socket was not stolen.
  CommandResult r = vespid({"status"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
}

TEST_F(CliLocalAdmin, OversizedLineGetsAnErrorThenTheConnectionCloses) {
  auto client = cli::OperatorClient::connect(gw_.socket_path(), state_);
  // Default max_message_bytes is 1 MiB. The gateway stops reading once it is exceeded, so the
  // tail of this write may be refused; the answer must arrive either way.
  try {
    client.send_raw(std::string((1u << 20) + 100, 'x') + "\n");
  } catch (const cli::ConnectionError&) {
  }
  std::optional<std::string> line = client.read_line(std::chrono::seconds(10));
  ASSERT_TRUE(line.has_value()) << "no answer to an oversized line";
  json res = json::parse(*line);
  EXPECT_EQ(res.value("type", ""), "res") << *line;
  EXPECT_EQ(res.value("ok", true), false) << *line;
  EXPECT_EQ(res["error"].value("code", ""), "INVALID_REQUEST") << *line;
  EXPECT_NE(res["error"].value("message", "").find("max_message_bytes (1048576)"),
            std::string::npos)
      << *line;
  EXPECT_THROW(
      {
        // Anything still readable, then the end of the stream.
        while (client.read_line(std::chrono::seconds(10))) {
        }
        ADD_FAILURE() << "the connection stayed open";
        throw cli::ConnectionError("not closed");
      },
      cli::ConnectionError);

  // The gateway is fine, and a new connection works.
  auto fresh = cli::OperatorClient::connect(gw_.socket_path(), state_);
  EXPECT_EQ(fresh.call("health").value("ok", false), true);
}

TEST(CliUnreachable, NoGatewayExitsThreeNamingTheSocketAndStateDir) {
  TempDir dir;
  const std::string state = dir.file("nothing-here");
  CommandResult r = run_command({cli_bin(), "--state-dir", state, "org", "list"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("cannot reach the gateway at " + state + "/gateway.sock"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("is vespid-gateway running? (state dir: " + state + ")"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace vespid::test
