// Running a command for system.run: argv without a shell, no stdin, only the environment given,
// a deadline that kills the whole group, output capped, start failures reported.
#include "process_runner.hpp"

#include <gtest/gtest.h>

#include "exec_allowlist.hpp"
#include "node_invoke.hpp"

using namespace vespid::agent;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

ProcessSpec spec(std::vector<std::string> argv) {
  ProcessSpec s;
  s.path = *find_on_path(argv.front(), "/usr/bin:/bin");
  s.argv = std::move(argv);
  s.env = {"PATH=/usr/bin:/bin"};
  s.timeout = 5s;
  return s;
}

TEST(RunProcess, ArgvIsNotAShellLine) {
  ProcessResult r = run_process(spec({"echo", "$HOME", "a;b", "*"}));
  EXPECT_TRUE(r.success()) << r.error;
  EXPECT_EQ(r.stdout_text, "$HOME a;b *\n");
  EXPECT_EQ(r.exit_code, 0);
}

TEST(RunProcess, NoStdinAndOnlyTheEnvironmentGiven) {
  ProcessResult cat = run_process(spec({"cat"}));
  EXPECT_TRUE(cat.success()) << "stdin is /dev/null: cat ends at once";
  EXPECT_EQ(cat.stdout_text, "");
  ProcessSpec s = spec({"env"});
  s.env = {"ONLY=this"};
  ProcessResult env = run_process(s);
  EXPECT_EQ(env.stdout_text, "ONLY=this\n");
}

TEST(RunProcess, ExitCodesStderrAndCwd) {
  ProcessSpec s = spec({"sh", "-c", "pwd; echo oops >&2; exit 3"});
  s.cwd = "/tmp";
  ProcessResult r = run_process(s);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.success());
  EXPECT_EQ(r.stdout_text, "/tmp\n");
  EXPECT_EQ(r.stderr_text, "oops\n");
  s.cwd = "/no/such/dir";
  ProcessResult bad = run_process(s);
  EXPECT_FALSE(bad.exit_code);
  EXPECT_NE(bad.error.find("/no/such/dir"), std::string::npos) << bad.error;
}

TEST(RunProcess, ATimeoutKillsTheGroup) {
  // The shell's child holds the pipe too: killing only the shell would wait for the sleep.
  ProcessSpec s = spec({"sh", "-c", "sleep 30 & sleep 30"});
  s.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  ProcessResult r = run_process(s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.success());
  EXPECT_EQ(r.signal, 9);
}

TEST(RunProcess, OutputIsCapped) {
  ProcessSpec s = spec({"head", "-c", "100000", "/dev/zero"});
  s.max_output_bytes = 1000;
  ProcessResult r = run_process(s);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.stdout_text.size(), 1000u);
  EXPECT_EQ(r.exit_code, 0);
}

TEST(RunProcess, AStopFlagEndsIt) {
  std::atomic<bool> stop{true};
  ProcessSpec s = spec({"sleep", "30"});
  s.stop = &stop;
  ProcessResult r = run_process(s);
  EXPECT_TRUE(r.stopped);
}

// handle_invoke end to end, with the reference's answer and events.
TEST(HandleInvoke, SystemRunAnswersInTheReferenceShape) {
  NodeInvokeConfig cfg;
  cfg.allow = ExecAllowlist({"echo"});
  cfg.own_env = {{"PATH", "/usr/bin:/bin"}};
  std::vector<json> events;
  const json invoke = {{"type", "invoke"},
                       {"id", "i-1"},
                       {"command", "system.run"},
                       {"paramsJSON", R"({"command":["echo","hi"],"timeoutMs":5000})"}};
  const json res = json::parse(handle_invoke(invoke, cfg, [&](json e) { events.push_back(e); }));
  EXPECT_EQ(res["type"], "invoke-res");
  EXPECT_EQ(res["id"], "i-1");
  EXPECT_EQ(res["ok"], true);
  const json p = json::parse(res["payloadJSON"].get<std::string>());
  EXPECT_EQ(p["stdout"], "hi\n");
  EXPECT_EQ(p["stderr"], "");
  EXPECT_EQ(p["exitCode"], 0);
  EXPECT_EQ(p["success"], true);
  EXPECT_EQ(p["timedOut"], false);
  EXPECT_TRUE(p["error"].is_null());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["event"], "exec.started");
  EXPECT_EQ(events[1]["event"], "exec.finished");
  const json fin = json::parse(events[1]["payloadJSON"].get<std::string>());
  EXPECT_EQ(fin["host"], "node");
  EXPECT_EQ(fin["command"], "echo hi");
  EXPECT_EQ(fin["output"], "hi\n");

  events.clear();
  const json denied =
      json::parse(handle_invoke({{"id", "i-2"},
                                 {"command", "system.run"},
                                 {"paramsJSON", R"({"command":["rm","-rf","/x"]})"}},
                                cfg, [&](json e) { events.push_back(e); }));
  EXPECT_EQ(denied["ok"], false);
  EXPECT_EQ(denied["error"]["code"], "UNAVAILABLE");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["event"], "exec.denied");

  const json unknown =
      json::parse(handle_invoke({{"id", "i-3"}, {"command", "camera.snap"}}, cfg, [](json) {}));
  EXPECT_EQ(unknown["error"]["code"], "UNAVAILABLE");
  const json bad = json::parse(handle_invoke(
      {{"id", "i-4"}, {"command", "system.run"}, {"paramsJSON", "{"}}, cfg, [](json) {}));
  EXPECT_EQ(bad["error"]["code"], "INVALID_REQUEST");
}

}  // namespace
