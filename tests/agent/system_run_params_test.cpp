// system.run / system.which parameters in the reference's shape, the child's environment, the
// output cap and the fitting of a result into one bridge line.
#include "system_run_params.hpp"

#include <gtest/gtest.h>

#include "node_invoke.hpp"
#include "output_cap.hpp"

using namespace vespid::agent;
using nlohmann::json;

namespace {

std::optional<RunParams> parse(const json& p, std::string* error = nullptr,
                               const RunLimits& limits = {}) {
  ParamsError e;
  auto r = parse_run_params(p, limits, e);
  if (error) *error = e.message;
  return r;
}

TEST(SystemRunParams, TheReferenceShape) {
  auto r = parse({{"command", {"echo", "a b"}},
                  {"cwd", "/tmp"},
                  {"env", {{"FOO", "1"}, {"PATH", "/evil"}, {"LD_PRELOAD", "x.so"}}},
                  {"timeoutMs", 1500},
                  {"sessionKey", "main"},
                  {"agentId", "a1"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->argv, (std::vector<std::string>{"echo", "a b"}));
  EXPECT_EQ(r->cwd, "/tmp");
  EXPECT_EQ(r->env, (std::map<std::string, std::string>{{"FOO", "1"}}));
  EXPECT_EQ(r->dropped_env, (std::vector<std::string>{"LD_PRELOAD", "PATH"}));
  EXPECT_EQ(r->timeout.count(), 1500);
  EXPECT_EQ(r->session_key, "main");
  EXPECT_EQ(r->command_text, "echo \"a b\"");
}

TEST(SystemRunParams, DefaultsAndCaps) {
  RunLimits limits;
  limits.default_timeout = std::chrono::milliseconds(7000);
  limits.max_timeout = std::chrono::milliseconds(9000);
  auto r = parse({{"command", {"true"}}}, nullptr, limits);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->timeout.count(), 7000);
  EXPECT_EQ(r->session_key, "node");
  EXPECT_EQ(parse({{"command", {"true"}}, {"timeoutMs", 0}}, nullptr, limits)->timeout.count(),
            7000)
      << "0 is 'no timeout' in the reference: the default here";
  EXPECT_EQ(parse({{"command", {"true"}}, {"timeoutMs", 1e12}}, nullptr, limits)->timeout.count(),
            9000);
  EXPECT_EQ(parse({{"command", {"true"}}, {"rawCommand", "  true  "}})->command_text, "true");
}

TEST(SystemRunParams, MalformedParamsSayWhat) {
  std::string why;
  EXPECT_FALSE(parse(nullptr, &why));
  EXPECT_NE(why.find("paramsJSON required"), std::string::npos);
  EXPECT_FALSE(parse({{"command", "echo hi"}}, &why)) << "a string is not argv: no shell";
  EXPECT_NE(why.find("command required"), std::string::npos) << why;
  EXPECT_FALSE(parse({{"command", json::array()}}, &why));
  EXPECT_FALSE(parse({{"command", {"echo", 5}}}, &why));
  EXPECT_FALSE(parse({{"command", {""}}}, &why));
  EXPECT_FALSE(parse({{"command", {std::string("a\0b", 3)}}}, &why));
  EXPECT_FALSE(parse({{"command", {"ls"}}, {"cwd", "relative"}}, &why));
  EXPECT_NE(why.find("absolute"), std::string::npos);
  EXPECT_FALSE(parse({{"command", {"ls"}}, {"cwd", 5}}, &why));
  EXPECT_FALSE(parse({{"command", {"ls"}}, {"env", {{"A", 1}}}}, &why));
  EXPECT_FALSE(parse({{"command", {"ls"}}, {"env", {{"A=B", "1"}}}}, &why));
  EXPECT_FALSE(parse({{"command", {"ls"}}, {"timeoutMs", -1}}, &why));
  EXPECT_FALSE(parse({{"command", {"ls"}}, {"timeoutMs", "10"}}, &why));
  RunLimits few;
  few.max_args = 2;
  EXPECT_FALSE(parse({{"command", {"a", "b", "c"}}}, &why, few));
}

TEST(SystemWhichParams, Bins) {
  ParamsError e;
  auto bins = parse_which_params({{"bins", {" echo ", "", "ls"}}}, e);
  ASSERT_TRUE(bins);
  EXPECT_EQ(*bins, (std::vector<std::string>{"echo", "ls"}));
  EXPECT_FALSE(parse_which_params({{"bins", "echo"}}, e));
  EXPECT_FALSE(parse_which_params(nullptr, e));
}

TEST(ChildEnvironment, OnlyTheSafeMinimumOfTheAgentsOwn) {
  const std::map<std::string, std::string> own = {
      {"HOME", "/home/n"}, {"PATH", "/opt/bin:/usr/bin"}, {"LANG", "C.UTF-8"}};
  auto env = child_environment({{"FOO", "bar"}, {"LD_PRELOAD", "x"}, {"HOME", "/tmp"}}, own);
  EXPECT_EQ(env, (std::vector<std::string>{"FOO=bar", "HOME=/tmp", "LANG=C.UTF-8",
                                           "PATH=/opt/bin:/usr/bin"}));
  EXPECT_EQ(child_path({}), "/usr/local/bin:/usr/bin:/bin");
  for (const char* k : {"PATH", "path", "LD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES", "BASH_ENV",
                        "NODE_OPTIONS", "PYTHONPATH"}) {
    EXPECT_TRUE(env_key_blocked(k)) << k;
  }
  EXPECT_FALSE(env_key_blocked("FOO"));
}

TEST(OutputCap, StdoutAndStderrShareOneCap) {
  OutputCap cap(10);
  cap.add_stdout("12345");
  cap.add_stderr("abc");
  cap.add_stdout("6789");
  EXPECT_EQ(cap.stdout_text(), "1234567");
  EXPECT_EQ(cap.stderr_text(), "abc");
  EXPECT_TRUE(cap.truncated());
  EXPECT_EQ(cap.dropped_bytes(), 2u);
  OutputCap roomy(10);
  roomy.add_stdout("0123456789");
  EXPECT_FALSE(roomy.truncated()) << "exactly the cap is not truncated";
}

TEST(OutputCap, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(valid_utf8("h\xC3\xA9llo"), "h\xC3\xA9llo");
  EXPECT_EQ(valid_utf8("cut \xE2\x82"), "cut \xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(valid_utf8("\xC0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD") << "overlong NUL";
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << "surrogate";
}

TEST(FitRunResponse, ShrinksOutputUntilTheFrameFitsOneLine) {
  json payload = {{"stdout", std::string(5000, '\x01')},
                  {"stderr", "boom"},
                  {"truncated", false},
                  {"exitCode", 0}};
  const std::string line = fit_run_response("inv-1", payload, 4000);
  EXPECT_LE(line.size(), 4000u);
  EXPECT_EQ(payload["truncated"], true);
  EXPECT_EQ(payload["stderr"], "boom") << "the short stream survives";
  const json frame = json::parse(line);
  EXPECT_EQ(frame["type"], "invoke-res");
  EXPECT_EQ(frame["ok"], true);
  EXPECT_EQ(json::parse(frame["payloadJSON"].get<std::string>())["stderr"], "boom");

  json small = {{"stdout", "hi\n"}, {"stderr", ""}, {"truncated", false}};
  fit_run_response("inv-2", small, 4000);
  EXPECT_EQ(small["truncated"], false) << "what fits is left alone";
}

}  // namespace
