#include "credentials.hpp"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "temp_dir.hpp"

using namespace vespid::agent;
using vespid::test::TempDir;

namespace {

Credentials sample() {
  Credentials c;
  c.agent_id = "agent-1";
  c.agent_token = "org-1.s3cr3t";
  c.organization_id = "org-1";
  c.gateway_ws_url = "ws://127.0.0.1:3002/ws";
  c.api_url = "http://127.0.0.1:3001";
  c.name = "laptop";
  c.tags = {"gpu", "linux"};
  return c;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  return out;
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace

TEST(Credentials, SavedWithMode0600InA0700DirectoryAndReadBack) {
  TempDir tmp;
  const std::string dir = tmp.file("home/.vespid");
  const std::string path = dir + "/agent.json";
  save_credentials(path, sample());
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_EQ(entries(dir), std::vector<std::string>{"agent.json"});  // no temporary left
  const Credentials c = load_credentials(path);
  EXPECT_EQ(c.agent_id, "agent-1");
  EXPECT_EQ(c.agent_token, "org-1.s3cr3t");
  EXPECT_EQ(c.organization_id, "org-1");
  EXPECT_EQ(c.gateway_ws_url, "ws://127.0.0.1:3002/ws");
  EXPECT_EQ(c.api_url, "http://127.0.0.1:3001");
  EXPECT_EQ(c.name, "laptop");
  EXPECT_EQ(c.tags, (std::vector<std::string>{"gpu", "linux"}));
}

TEST(Credentials, ReplacingIsAtomicAndTightensAWideMode) {
  TempDir tmp;
  const std::string path = tmp.file("agent.json");
  write(path, "{\"old\": true}");
  ::chmod(path.c_str(), 0644);
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  save_credentials(path, sample());
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  // A new inode renamed over the old one: readers see the old file or the new one, never half.
  EXPECT_NE(before.st_ino, after.st_ino);
  EXPECT_EQ(after.st_mode & 07777, 0600u);
  EXPECT_EQ(load_credentials(path).agent_id, "agent-1");
  EXPECT_EQ(entries(tmp.path()).size(), 1u);
}

TEST(Credentials, MalformedFilesAreRefusedWithAClearError) {
  TempDir tmp;
  const std::string path = tmp.file("agent.json");
  write(path, "{not json");
  try {
    load_credentials(path);
    FAIL() << "accepted invalid JSON";
  } catch (const CredentialsError& e) {
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  write(path, R"({"agentId":"a","organizationId":"o","gatewayWsUrl":"ws://x/ws","agentToken":7})");
  try {
    load_credentials(path);
    FAIL() << "accepted a numeric token";
  } catch (const CredentialsError& e) {
    EXPECT_NE(std::string(e.what()).find("agentToken"), std::string::npos) << e.what();
  }
  write(path, "[]");
  EXPECT_THROW(load_credentials(path), CredentialsError);
  EXPECT_THROW(load_credentials(tmp.file("missing.json")), CredentialsError);
}

// TLS pins learned from discovery survive a save and load; a damaged pin is refused rather than
// read as "no pin" (which would quietly fall back to CA verification).
TEST(Credentials, TlsPinsAreKeptAndValidated) {
  TempDir tmp;
  const std::string path = tmp.file("agent.json");
  Credentials c = sample();
  c.gateway_tls_sha256 = std::string(64, 'a');
  c.api_tls_sha256 = std::string(64, 'b');
  save_credentials(path, c);
  const Credentials back = load_credentials(path);
  EXPECT_EQ(back.gateway_tls_sha256, std::string(64, 'a'));
  EXPECT_EQ(back.api_tls_sha256, std::string(64, 'b'));
  EXPECT_EQ(mode_of(path), 0600u);

  save_credentials(path, sample());  // no pins: no keys at all
  EXPECT_EQ(load_credentials(path).gateway_tls_sha256, "");

  write(path, R"({"agentId":"a","agentToken":"o.s","organizationId":"o",)"
              R"("gatewayWsUrl":"wss://x/ws","gatewayTlsSha256":"12ab"})");
  try {
    load_credentials(path);
    FAIL() << "accepted a truncated pin";
  } catch (const CredentialsError& e) {
    EXPECT_NE(std::string(e.what()).find("gatewayTlsSha256"), std::string::npos) << e.what();
  }
}

TEST(Credentials, PathResolution) {
  EXPECT_EQ(resolve_credentials_path("/x/y.json"), "/x/y.json");
  ::setenv("VESPID_AGENT_CONFIG", "/from/env.json", 1);
  EXPECT_EQ(resolve_credentials_path(""), "/from/env.json");
  ::unsetenv("VESPID_AGENT_CONFIG");
  const char* old_home = std::getenv("HOME");
  const std::string saved = old_home != nullptr ? old_home : "";
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(resolve_credentials_path(""), "/home/someone/.vespid/agent.json");
  if (old_home != nullptr) {
    ::setenv("HOME", saved.c_str(), 1);
  } else {
    ::unsetenv("HOME");
  }
}

TEST(Credentials, RedactedTokenKeepsOnlyTheOrg) {
  EXPECT_EQ(redact_token("org-1.s3cr3t"), "org-1.****");
  EXPECT_EQ(redact_token("nodot"), "****");
}
