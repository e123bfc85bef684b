// The bridge node's allowlist for system.run: names on PATH, exact absolute paths, nothing else.
#include "exec_allowlist.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "temp_dir.hpp"

using namespace vespid::agent;
using vespid::test::TempDir;

namespace {

// An executable file `name` in `dir`.
std::string make_tool(const TempDir& dir, const std::string& sub, const std::string& name) {
  const std::string d = dir.file(sub);
  ::mkdir(d.c_str(), 0700);
  const std::string path = d + "/" + name;
  std::ofstream(path) << "#!/bin/sh\n";
  ::chmod(path.c_str(), 0700);
  return path;
}

TEST(ExecAllowlist, EmptyRefusesEverythingAndNamesTheFlag) {
  ExecAllowlist none;
  const AllowDecision d = none.check("echo", "/usr/bin:/bin");
  EXPECT_FALSE(d.allowed());
  EXPECT_FALSE(d.invalid);
  EXPECT_NE(d.error.find("SYSTEM_RUN_DENIED"), std::string::npos) << d.error;
  EXPECT_NE(d.error.find("--allow"), std::string::npos) << d.error;
}

TEST(ExecAllowlist, ANameIsLookedUpOnPath) {
  TempDir dir;
  const std::string tool = make_tool(dir, "bin", "tool");
  make_tool(dir, "other", "tool");
  const std::string path_var = "relative/dir::" + dir.file("bin") + ":" + dir.file("other");
  ExecAllowlist allow({"tool"});
  const AllowDecision d = allow.check("tool", path_var);
  ASSERT_TRUE(d.allowed()) << d.error;
  EXPECT_EQ(d.path, tool) << "the first absolute PATH entry that has it";
  EXPECT_EQ(allow.which("tool", path_var), tool);
  EXPECT_FALSE(allow.check("other", path_var).allowed());
  EXPECT_EQ(allow.which("other", path_var), std::nullopt);
}

TEST(ExecAllowlist, AnAllowedNameNotOnPathFailsClearly) {
  ExecAllowlist allow({"no-such-tool-here"});
  const AllowDecision d = allow.check("no-such-tool-here", "/nonexistent");
  EXPECT_FALSE(d.allowed());
  EXPECT_NE(d.error.find("not found on PATH"), std::string::npos) << d.error;
}

TEST(ExecAllowlist, AbsolutePathsMatchAsWrittenNeverThroughSymlinks) {
  TempDir dir;
  const std::string tool = make_tool(dir, "bin", "tool");
  const std::string link = dir.file("bin/alias");
  ASSERT_EQ(::symlink(tool.c_str(), link.c_str()), 0);
  ExecAllowlist by_path({tool});
  EXPECT_TRUE(by_path.check(tool, "/nonexistent").allowed());
  // A link to the allowed file is another name: a multicall binary behind many names must not
  // make one allowed name allow them all.
  EXPECT_FALSE(by_path.check(link, dir.file("bin")).allowed());
  EXPECT_FALSE(by_path.check("alias", dir.file("bin")).allowed());
  // The name, run by name, when PATH finds exactly the allowed file.
  EXPECT_TRUE(by_path.check("tool", dir.file("bin")).allowed());

  // An allowed name covers its absolute path only where PATH would find it.
  ExecAllowlist by_name({"tool"});
  EXPECT_TRUE(by_name.check(tool, dir.file("bin")).allowed());
  EXPECT_FALSE(by_name.check(tool, "/usr/bin:/bin").allowed());
}

TEST(ExecAllowlist, OddProgramsAreInvalidRequests) {
  ExecAllowlist allow({"echo"});
  for (const char* argv0 : {"./echo", "bin/echo", "/usr/bin/../bin/echo", "/usr//bin/echo", ".."}) {
    const AllowDecision d = allow.check(argv0, "/usr/bin:/bin");
    EXPECT_FALSE(d.allowed()) << argv0;
    EXPECT_TRUE(d.invalid) << argv0;
  }
}

TEST(ExecAllowlist, EntriesMustBeNamesOrNormalAbsolutePaths) {
  EXPECT_THROW(ExecAllowlist({"./x"}), std::invalid_argument);
  EXPECT_THROW(ExecAllowlist({"a/b"}), std::invalid_argument);
  EXPECT_THROW(ExecAllowlist({"/usr/../bin/x"}), std::invalid_argument);
  EXPECT_THROW(ExecAllowlist({""}), std::invalid_argument);
  EXPECT_NO_THROW(ExecAllowlist({"echo", "/usr/bin/uptime", "echo"}));
  EXPECT_EQ(ExecAllowlist({"echo", "echo"}).entries().size(), 1u);
}

TEST(FindOnPath, SkipsRelativeEntriesAndNonExecutables) {
  TempDir dir;
  const std::string d = dir.file("bin");
  ::mkdir(d.c_str(), 0700);
  std::ofstream(d + "/data") << "not a program";
  ::chmod((d + "/data").c_str(), 0600);
  EXPECT_EQ(find_on_path("data", d), std::nullopt);
  EXPECT_EQ(find_on_path("sh", ".:bin"), std::nullopt);
  EXPECT_EQ(find_on_path("a/b", "/bin"), std::nullopt);
}

}  // namespace
