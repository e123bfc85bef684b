// Modules built against the frozen ABI 1.0, 1.1, 1.2 and 1.3 headers (tests/abi/headers-1.*) load
// and work in the gateway of this build (1.3 added the bus kind; a 1.2 module knows nothing of
// it; the 1.3 module is a storage backend whose table ends at `commit`). A change to the host or
// to the current headers that breaks an already-built module of an older minor fails here. See
// tests/abi/README.md.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "build_paths.hpp"
#include "gateway_process.hpp"
#include "operator_client.hpp"
#include "process.hpp"
#include "temp_dir.hpp"
#include "web_test_client.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct OldAbi {
  const char* tag;  // FX_TAG of the build, see tests/abi/CMakeLists.txt
  const char* abi;  // what its vsp_module_info declares
};
constexpr OldAbi kOldAbis[] = {{"abi10", "1.0"}, {"abi11", "1.1"}, {"abi12", "1.2"}};

// Every fixture module: its vsp_module_info name and version, and the plugins it offers.
struct OldModule {
  const char* name;
  const char* abi;
  std::set<std::pair<std::string, std::string>> plugins;  // {id, kind}
};
const std::vector<OldModule>& old_modules() {
  static const std::vector<OldModule> modules = {
      {"vespid-abi10-fixture",
       "1.0",
       {{"abi10-transport", "transport"}, {"abi10-netbind", "netbind"}}},
      {"vespid-abi11-fixture",
       "1.1",
       {{"abi11-transport", "transport"}, {"abi11-netbind", "netbind"}}},
      {"vespid-abi12-fixture",
       "1.2",
       {{"abi12-transport", "transport"}, {"abi12-netbind", "netbind"}}},
      {"vespid-abi13-storage-fixture", "1.3", {{"abi13-storage", "storage"}}},
  };
  return modules;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// Storage and the admin socket (wait_ready needs it), then every plugin of the fixture modules.
// The 1.1 transport watches a spec only the 1.0 netbind answers and the 1.2 transport one only
// the 1.1 netbind answers, so one start exercises host services and netbind tables of different
// minors together. No bus instance: the gateway adds the local one.
std::string fixture_config() {
  json instances = json::array({{{"name", "storage"}, {"plugin", "sqlite"}},
                                {{"name", "local"}, {"plugin", "unix"}},
                                {{"name", "names10"}, {"plugin", "abi10-netbind"}},
                                {{"name", "names11"}, {"plugin", "abi11-netbind"}},
                                {{"name", "names12"}, {"plugin", "abi12-netbind"}},
                                {{"name", "echo10"}, {"plugin", "abi10-transport"}},
                                {{"name", "echo11"},
                                 {"plugin", "abi11-transport"},
                                 {"config", {{"bind_spec", "abi10-fixture"}}}},
                                {{"name", "echo12"},
                                 {"plugin", "abi12-transport"},
                                 {"config", {{"bind_spec", "abi11-fixture"}}}}});
  return json{{"plugins", {{"instances", instances}}}}.dump(2);
}

TEST(OldAbiPlugins, ListedAsLoadableWithTheAbiTheyWereBuiltFor) {
  auto r = run_command({gateway_bin(), "plugins", "--json", "--plugin-dir", VESPID_ABI_FIXTURE_DIR},
                       {}, 20s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json modules = json::parse(r.out)["modules"];
  for (const auto& old : old_modules()) {
    SCOPED_TRACE(old.name);
    const json* found = nullptr;
    for (const auto& m : modules) {
      if (m.value("name", "") == old.name) found = &m;
    }
    ASSERT_NE(found, nullptr) << r.out;
    EXPECT_EQ((*found)["abi"], old.abi);
    EXPECT_EQ((*found)["loadable"], true) << (*found)["error"];
    std::set<std::pair<std::string, std::string>> plugins;
    for (const auto& p : (*found)["plugins"]) {
      plugins.emplace(p.value("id", ""), p.value("kind", ""));
    }
    EXPECT_EQ(plugins, old.plugins) << found->dump();
  }
}

TEST(OldAbiPlugins, TransportsCarryOperatorRequestsEndToEnd) {
  TempDir dir;
  write_file(dir.file("cfg.json"), fixture_config());
  GatewayProcess gw;
  gw.start(dir.file("state"),
           {"--config", dir.file("cfg.json"), "--plugin-dir", VESPID_ABI_FIXTURE_DIR});
  ASSERT_TRUE(gw.wait_ready());

  for (const auto& old : kOldAbis) {
    SCOPED_TRACE(old.tag);
    auto client = cli::OperatorClient::connect(dir.file("state/") + old.tag + ".sock");

    // One request: in through conn_recv, the answer out through the old table's `send`.
    json status = client.call("status", json::object(), 10s);
    bool seen = false;
    for (const auto& inst : status["instances"]) {
      if (inst["plugin"] == std::string(old.tag) + "-transport") {
        seen = true;
        EXPECT_EQ(inst["state"], "running") << inst.dump();
      }
    }
    EXPECT_TRUE(seen) << status.dump();

    // Several requests in one write: the host batches their replies, and a table from before
    // 1.2 has no send_batch, so every reply must still arrive, in order, through `send`.
    std::string burst;
    for (int i = 1; i <= 5; ++i) {
      burst += json{{"type", "req"},
                    {"id", "p" + std::to_string(i)},
                    {"method", "health"},
                    {"params", json::object()}}
                   .dump() +
               "\n";
    }
    client.send_raw(burst);
    for (int i = 1; i <= 5; ++i) {
      auto line = client.read_line(10s);
      ASSERT_TRUE(line.has_value()) << "reply " << i << " missing\n" << gw.log_text();
      json res = json::parse(*line);
      EXPECT_EQ(res["id"], "p" + std::to_string(i)) << *line;
      EXPECT_EQ(res["ok"], true) << *line;
    }
    client.close();
  }

  const std::string log = gw.log_text();
  EXPECT_NE(log.find("built for plugin ABI 1.0, host speaks 1."), std::string::npos) << log;
  EXPECT_NE(log.find("built for plugin ABI 1.1, host speaks 1."), std::string::npos) << log;
  EXPECT_NE(log.find("built for plugin ABI 1.2, host speaks 1."), std::string::npos) << log;
  EXPECT_NE(log.find("bind_watch(abi10-fixture): [127.0.0.10]"), std::string::npos) << log;
  EXPECT_NE(log.find("bind_watch(abi11-fixture): [127.0.0.11]"), std::string::npos) << log;
  EXPECT_NE(log.find("bus \"bus\" (local) up"), std::string::npos) << log;

  // stop and destroy of the old tables, with the gateway's exit status telling they finished.
  EXPECT_EQ(gw.terminate(), 0) << gw.log_text();
}

// ---- The 1.3 storage fixture as the gateway's store
// ----------------------------------------------

// The gateway's one storage instance is the 1.3 fixture's in-memory store; the admin socket for
// the CLI and a rest.v1 listener on loopback for the REST API, as a user would have them.
std::string storage_fixture_config(int api_port) {
  const json api_routes = json::array({{{"prefix", "/v1/"}, {"dialect", "rest.v1"}},
                                       {{"path", "/healthz"}, {"dialect", "rest.v1"}}});
  json instances = json::array(
      {{{"name", "storage"}, {"plugin", "abi13-storage"}},
       {{"name", "local"}, {"plugin", "unix"}},
       {{"name", "api"},
        {"plugin", "ws"},
        {"config", {{"host", "127.0.0.1"}, {"port", api_port}, {"routes", api_routes}}}}});
  return json{{"plugins", {{"instances", instances}}}}.dump(2);
}

class OldAbiStorage : public ::testing::Test {
 protected:
  void SetUp() override {
    api_port_ = pick_free_port();
    write_file(dir_.file("cfg.json"), storage_fixture_config(api_port_));
    state_ = dir_.file("state");
    gw_.start(state_, {"--config", dir_.file("cfg.json"), "--plugin-dir", VESPID_ABI_FIXTURE_DIR});
    ASSERT_TRUE(gw_.wait_ready());
  }

  static std::string describe(const CommandResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
  }

  // `vespid --state-dir <state> --json <args...>` over the admin socket: must succeed; its payload.
  json cli(const std::vector<std::string>& args) {
    std::vector<std::string> argv{cli_bin(), "--state-dir", state_, "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandResult r = run_command(argv);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    json out = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(out.is_discarded()) << describe(r);
    return out;
  }

  // One REST request to the api listener on 127.0.0.1.
  HttpReply rest(const std::string& method, const std::string& path, const std::string& bearer,
                 const json& body = nullptr) {
    WebTarget t;
    t.port = api_port_;
    Headers h;
    if (!bearer.empty()) h["Authorization"] = "Bearer " + bearer;
    if (!body.is_null()) h["content-type"] = "application/json";
    return http_request(t, method, path, h, body.is_null() ? "" : body.dump());
  }

  // An org with one admin and an access token for them, all made through the CLI.
  struct Tenant {
    std::string org_id, user_id, token, token_id;
  };
  Tenant make_tenant(const std::string& org, const std::string& user) {
    Tenant t;
    t.org_id = cli({"org", "create", org})["org"].value("id", "");
    t.user_id =
        cli({"user", "create", user, "--org", org, "--role", "admin"})["user"].value("id", "");
    json tok = cli({"token", "create", "--user", user, "--org", org, "--name", user + "-abi13"});
    t.token = tok.value("token", "");
    t.token_id = tok.value("tokenId", "");
    EXPECT_FALSE(t.org_id.empty());
    EXPECT_FALSE(t.user_id.empty());
    EXPECT_EQ(t.token.rfind("vat_", 0), 0u) << tok.dump();
    EXPECT_FALSE(t.token_id.empty()) << tok.dump();
    return t;
  }

  // Pairs a node host into `t`'s org through the REST API, as `vespid-agent connect` does: a
  // single-use pairing token, then the pair. Its agent id.
  std::string pair(const Tenant& t, const std::string& name, const json& tags) {
    HttpReply pt = rest("POST", "/v1/orgs/" + t.org_id + "/agents/pairing-tokens", t.token);
    EXPECT_EQ(pt.status, 201) << pt.raw_body << pt.error;
    const std::string pairing_token = pt.body.value("token", "");
    EXPECT_EQ(pairing_token.rfind(t.org_id + ".", 0), 0u) << pt.raw_body;
    const json body = {
        {"pairingToken", pairing_token}, {"name", name}, {"agentVersion", "0.9.0"}, {"tags", tags}};
    HttpReply r = rest("POST", "/v1/agents/pair", "", body);
    EXPECT_EQ(r.status, 201) << r.raw_body << r.error;
    EXPECT_EQ(r.body.value("organizationId", ""), t.org_id) << r.raw_body;
    // Single use: the store holds it as used now, so the same token pairs nothing more.
    HttpReply again = rest("POST", "/v1/agents/pair", "", body);
    EXPECT_EQ(again.status, 401) << again.raw_body;
    EXPECT_NE(again.raw_body.find("PAIRING_TOKEN_INVALID"), std::string::npos) << again.raw_body;
    return r.body.value("agentId", "");
  }

  // The org's agents as GET /v1/orgs/:org/agents lists them, by name.
  std::map<std::string, json> agents(const Tenant& t) {
    HttpReply r = rest("GET", "/v1/orgs/" + t.org_id + "/agents", t.token);
    EXPECT_EQ(r.status, 200) << r.raw_body << r.error;
    std::map<std::string, json> out;
    for (const auto& a : r.body.value("agents", json::array())) {
      EXPECT_TRUE(out.emplace(a.value("name", ""), a).second) << "listed twice: " << a.dump();
    }
    return out;
  }

  // The storage revision `status` reports, after checking that the store is the fixture's.
  uint64_t storage_revision() {
    json status = cli({"status"});
    EXPECT_EQ(status["storage"].value("plugin", ""), "abi13-storage") << status.dump();
    return status["storage"].value("revision", uint64_t{0});
  }

  TempDir dir_;
  std::string state_;
  int api_port_ = 0;
  GatewayProcess gw_;
};

TEST_F(OldAbiStorage, TheGatewaysDataGoesThroughA13StorageTableAndReadsBack) {
  const uint64_t revision_at_start = storage_revision();

  // Two tenants: every list below must hold exactly its own org's records, so a scan that
  // strayed outside its range, or a lookup that found the wrong key, would show.
  Tenant acme = make_tenant("acme", "alice");
  Tenant beta = make_tenant("beta", "bob");

  // A second org of the same name is refused: the name is taken in the store.
  {
    std::vector<std::string> argv{cli_bin(), "--state-dir", state_, "org", "create", "acme"};
    CommandResult dup = run_command(argv);
    EXPECT_EQ(dup.exit_code, 1) << describe(dup);
    EXPECT_EQ(dup.err.rfind("error: CONFLICT: ", 0), 0u) << describe(dup);
  }

  // What the CLI wrote, the CLI reads back.
  json orgs = cli({"org", "list"})["orgs"];
  std::set<std::string> org_names;
  for (const auto& o : orgs) org_names.insert(o.value("name", ""));
  EXPECT_EQ(org_names, (std::set<std::string>{"acme", "beta"})) << orgs.dump();
  json members = cli({"user", "list", "--org", "acme"})["users"];
  ASSERT_EQ(members.size(), 1u) << members.dump();
  EXPECT_EQ(members[0].value("name", ""), "alice");
  EXPECT_EQ(members[0].value("id", ""), acme.user_id);
  EXPECT_EQ(members[0].value("role", ""), "admin");

  // Node hosts paired over REST with the tokens made above (each request authenticates by
  // looking the token up in the store).
  const std::string a1 = pair(acme, "lab-a1", {"gpu"});
  const std::string a2 = pair(acme, "lab-a2", {"cpu", "group:eu"});
  const std::string b1 = pair(beta, "lab-b1", {"arm"});

  auto acme_agents = agents(acme);
  ASSERT_EQ(acme_agents.size(), 2u);
  ASSERT_EQ(acme_agents.count("lab-a1"), 1u);
  ASSERT_EQ(acme_agents.count("lab-a2"), 1u);
  EXPECT_EQ(acme_agents["lab-a1"].value("id", ""), a1);
  EXPECT_EQ(acme_agents["lab-a1"]["tags"], json({"gpu"}));
  EXPECT_EQ(acme_agents["lab-a2"].value("id", ""), a2);
  EXPECT_EQ(acme_agents["lab-a2"]["tags"], json({"cpu", "group:eu"}));
  EXPECT_EQ(acme_agents["lab-a2"].value("agentVersion", ""), "0.9.0");
  for (const auto& [name, a] : acme_agents) {
    EXPECT_EQ(a.value("status", ""), "offline") << a.dump();
    EXPECT_TRUE(a["revokedAt"].is_null()) << a.dump();
  }
  auto beta_agents = agents(beta);
  ASSERT_EQ(beta_agents.size(), 1u);
  EXPECT_EQ(beta_agents["lab-b1"].value("id", ""), b1);
  // One org's token does not reach another org's agents.
  HttpReply cross = rest("GET", "/v1/orgs/" + beta.org_id + "/agents", acme.token);
  EXPECT_NE(cross.status, 200) << cross.raw_body;

  // Overwrite: new tags replace the stored ones (sorted, de-duplicated) and read back.
  HttpReply tags = rest("PUT", "/v1/orgs/" + acme.org_id + "/agents/" + a1 + "/tags", acme.token,
                        {{"tags", {"zeta", "gpu", "abi13", "gpu"}}});
  ASSERT_EQ(tags.status, 200) << tags.raw_body;
  EXPECT_EQ(tags.body["agent"]["tags"], json({"abi13", "gpu", "zeta"})) << tags.raw_body;
  EXPECT_EQ(agents(acme)["lab-a1"]["tags"], json({"abi13", "gpu", "zeta"}));

  // Revoke one agent: it reads back revoked, the other untouched; revoking again keeps the
  // first revokedAt.
  HttpReply rev = rest("POST", "/v1/orgs/" + acme.org_id + "/agents/" + a2 + "/revoke", acme.token);
  ASSERT_EQ(rev.status, 200) << rev.raw_body;
  const json revoked_at = rev.body["agent"]["revokedAt"];
  EXPECT_TRUE(revoked_at.is_string()) << rev.raw_body;
  HttpReply rev2 =
      rest("POST", "/v1/orgs/" + acme.org_id + "/agents/" + a2 + "/revoke", acme.token);
  ASSERT_EQ(rev2.status, 200) << rev2.raw_body;
  EXPECT_EQ(rev2.body["agent"]["revokedAt"], revoked_at) << rev2.raw_body;
  acme_agents = agents(acme);
  ASSERT_EQ(acme_agents.size(), 2u);
  EXPECT_EQ(acme_agents["lab-a2"].value("status", ""), "revoked");
  EXPECT_EQ(acme_agents["lab-a2"]["revokedAt"], revoked_at);
  EXPECT_EQ(acme_agents["lab-a1"].value("status", ""), "offline");
  EXPECT_EQ(agents(beta).at("lab-b1").value("status", ""), "offline");

  // Workflows: stored per org, listed newest first a page at a time (a reverse scan with a
  // limit), each update a new revision (a compare on the stored version), fixed once published.
  const std::string workflows = "/v1/orgs/" + acme.org_id + "/workflows";
  const json spec = {{"version", "v2"},
                     {"trigger", {{"type", "trigger.manual"}}},
                     {"nodes", json::array({{{"id", "j"}, {"type", "parallel.join"}}})}};
  std::vector<std::string> wf_ids;
  for (const char* name : {"first", "second", "third"}) {
    HttpReply w = rest("POST", workflows, acme.token, {{"name", name}, {"dsl", spec}});
    ASSERT_EQ(w.status, 201) << w.raw_body;
    wf_ids.push_back(w.body["workflow"].value("id", ""));
    // The list orders by creation time in milliseconds: keep the three apart.
    std::this_thread::sleep_for(5ms);
  }
  HttpReply beta_wf = rest("POST", "/v1/orgs/" + beta.org_id + "/workflows", beta.token,
                           {{"name", "beta-only"}, {"dsl", spec}});
  ASSERT_EQ(beta_wf.status, 201) << beta_wf.raw_body;
  HttpReply page = rest("GET", workflows + "?limit=2", acme.token);
  ASSERT_EQ(page.status, 200) << page.raw_body;
  ASSERT_EQ(page.body["workflows"].size(), 2u) << page.raw_body;
  EXPECT_EQ(page.body["workflows"][0]["id"], wf_ids[2]) << page.raw_body;
  EXPECT_EQ(page.body["workflows"][1]["id"], wf_ids[1]) << page.raw_body;
  ASSERT_TRUE(page.body["nextCursor"].is_string()) << page.raw_body;
  HttpReply last =
      rest("GET", workflows + "?limit=2&cursor=" + page.body["nextCursor"].get<std::string>(),
           acme.token);
  ASSERT_EQ(last.status, 200) << last.raw_body;
  ASSERT_EQ(last.body["workflows"].size(), 1u) << last.raw_body;
  EXPECT_EQ(last.body["workflows"][0]["id"], wf_ids[0]) << last.raw_body;
  EXPECT_EQ(last.body["workflows"][0]["name"], "first") << last.raw_body;
  EXPECT_TRUE(last.body["nextCursor"].is_null()) << last.raw_body;
  for (const char* name : {"first, again", "first, at last"}) {
    HttpReply u = rest("PUT", workflows + "/" + wf_ids[0], acme.token, {{"name", name}});
    ASSERT_EQ(u.status, 200) << u.raw_body;
  }
  HttpReply revisions = rest("GET", workflows + "/" + wf_ids[0] + "/revisions", acme.token);
  ASSERT_EQ(revisions.status, 200) << revisions.raw_body;
  ASSERT_EQ(revisions.body["revisions"].size(), 3u) << revisions.raw_body;
  EXPECT_EQ(revisions.body["revisions"][0]["revision"], 3) << revisions.raw_body;
  EXPECT_EQ(revisions.body["revisions"][0]["name"], "first, at last") << revisions.raw_body;
  EXPECT_EQ(revisions.body["revisions"][2]["name"], "first") << revisions.raw_body;
  HttpReply two = rest("GET", workflows + "/" + wf_ids[0] + "/revisions?limit=2", acme.token);
  ASSERT_EQ(two.status, 200) << two.raw_body;
  ASSERT_EQ(two.body["revisions"].size(), 2u) << two.raw_body;
  EXPECT_EQ(two.body["revisions"][1]["revision"], 2) << two.raw_body;

  // Updates racing on one draft: each reads the workflow and commits its next revision only if
  // the stored version is still the one it read, so every update answered 200 is exactly one
  // stored revision (a lost one would show as fewer revisions than successes).
  std::atomic<int> ok_updates{0};
  std::atomic<int> other{0};
  std::vector<std::thread> racers;
  for (int r = 0; r < 6; ++r) {
    racers.emplace_back([&, r] {
      for (int i = 0; i < 5; ++i) {
        const std::string name = "race " + std::to_string(r) + "." + std::to_string(i);
        const int status =
            rest("PUT", workflows + "/" + wf_ids[1], acme.token, {{"name", name}}).status;
        if (status == 200) {
          ok_updates++;
        } else if (status != 409) {
          other++;
        }
      }
    });
  }
  for (auto& t : racers) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(ok_updates.load(), 0);
  HttpReply raced = rest("GET", workflows + "/" + wf_ids[1] + "/revisions?limit=200", acme.token);
  ASSERT_EQ(raced.status, 200) << raced.raw_body;
  const json& raced_revisions = raced.body["revisions"];
  ASSERT_EQ(raced_revisions.size(), static_cast<size_t>(ok_updates.load()) + 1) << raced.raw_body;
  for (size_t i = 0; i < raced_revisions.size(); ++i) {
    EXPECT_EQ(raced_revisions[i]["revision"], raced_revisions.size() - i) << raced.raw_body;
  }
  EXPECT_EQ(rest("GET", workflows + "/" + wf_ids[1], acme.token).body["workflow"]["name"],
            raced_revisions[0]["name"]);

  HttpReply published = rest("POST", workflows + "/" + wf_ids[0] + "/publish", acme.token);
  ASSERT_EQ(published.status, 200) << published.raw_body;
  EXPECT_EQ(published.body["workflow"]["status"], "published") << published.raw_body;
  EXPECT_EQ(rest("PUT", workflows + "/" + wf_ids[0], acme.token, {{"name", "x"}}).status, 409);
  HttpReply shown = rest("GET", workflows + "/" + wf_ids[0], acme.token);
  EXPECT_EQ(shown.body["workflow"]["name"], "first, at last") << shown.raw_body;
  EXPECT_EQ(shown.body["workflow"]["status"], "published") << shown.raw_body;

  // The access tokens: listed per user (never the secret), revoked through the CLI, after which
  // the REST API refuses the revoked one and still takes the other.
  json alice_tokens = cli({"token", "list", "--user", "alice"})["tokens"];
  ASSERT_EQ(alice_tokens.size(), 1u) << alice_tokens.dump();
  EXPECT_EQ(alice_tokens[0].value("tokenId", ""), acme.token_id);
  EXPECT_EQ(alice_tokens[0].value("name", ""), "alice-abi13");
  EXPECT_EQ(alice_tokens.dump().find("vat_"), std::string::npos) << alice_tokens.dump();
  cli({"token", "revoke", acme.token_id});
  alice_tokens = cli({"token", "list", "--user", "alice"})["tokens"];
  ASSERT_EQ(alice_tokens.size(), 1u) << alice_tokens.dump();
  EXPECT_EQ(alice_tokens[0].value("revoked", false), true) << alice_tokens.dump();
  EXPECT_EQ(rest("GET", "/v1/orgs/" + acme.org_id + "/agents", acme.token).status, 401);
  EXPECT_EQ(rest("GET", "/v1/orgs/" + beta.org_id + "/agents", beta.token).status, 200);
  json bob_tokens = cli({"token", "list", "--user", "bob"})["tokens"];
  ASSERT_EQ(bob_tokens.size(), 1u) << bob_tokens.dump();
  EXPECT_EQ(bob_tokens[0].value("tokenId", ""), beta.token_id) << bob_tokens.dump();
  EXPECT_FALSE(bob_tokens[0].value("revoked", false)) << bob_tokens.dump();
  // Using a token records when it was last used: a write on the request path, read back here.
  EXPECT_TRUE(bob_tokens[0].contains("lastUsedAt")) << bob_tokens.dump();

  // All of it was committed through the fixture: the store's revision moved, and the fixture's
  // own count at stop agrees with what status last saw.
  const uint64_t revision_now = storage_revision();
  EXPECT_GT(revision_now, revision_at_start + 10);

  ASSERT_EQ(gw_.terminate(), 0) << gw_.log_text();
  const std::string log = gw_.log_text();
  EXPECT_NE(log.find("abi13-storage: built for plugin ABI 1.3, host speaks 1."), std::string::npos)
      << log;
  std::smatch m;
  const std::regex stopped("abi13-storage: stopping with ([0-9]+) keys at revision ([0-9]+)");
  ASSERT_TRUE(std::regex_search(log, m, stopped)) << log;
  EXPECT_GT(std::stoull(m[1].str()), 0u);
  EXPECT_GE(std::stoull(m[2].str()), revision_now) << log;
}

}  // namespace
}  // namespace vespid::test
