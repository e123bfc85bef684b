// Web sign-in through the real gateway and the real `vespid` CLI (docs/web-ui.md): the one-time
// link, the cookie and its attributes, single use and expiry of the code, the cookie on REST,
// /ws/client and /ws/operator, sign-out, the Origin rule against cross-site use, and org
// boundaries. The web client's listener is modelled as the gateway will serve it: pages, /v1/
// and the WebSockets on one origin.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "build_paths.hpp"
#include "node_host_support.hpp"
#include "operator_client.hpp"
#include "process.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The attributes of one Set-Cookie line, names lowercased ("vespid_session" -> its value).
std::map<std::string, std::string> cookie_attributes(const std::string& line) {
  std::map<std::string, std::string> out;
  size_t at = 0;
  while (at <= line.size()) {
    size_t end = line.find(';', at);
    if (end == std::string::npos) end = line.size();
    std::string part = line.substr(at, end - at);
    while (!part.empty() && part.front() == ' ') part.erase(0, 1);
    const size_t eq = part.find('=');
    std::string name = part.substr(0, eq);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!name.empty()) out[name] = eq == std::string::npos ? "" : part.substr(eq + 1);
    at = end + 1;
  }
  return out;
}

// Reads what the server still sends until it closes the socket; true if it did within `wait`.
bool closes(WsClient& c, std::chrono::milliseconds wait = 5s) {
  for (int i = 0; i < 20 && c.read(wait); ++i) {
  }
  return c.closed();
}

class WebSignin : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    // One origin for the web client: its REST API and its WebSockets on the same listener.
    ws_config_extra_ = {
        {"routes",
         json::array(
             {{{"prefix", "/v1/"}, {"dialect", "rest.v1"}},
              {{"path", "/ws/client"}, {"dialect", "vespid.client.v1"}, {"websocket", true}},
              {{"path", "/ws/operator"}, {"dialect", "operator.v1"}, {"websocket", true}}})}};
  }

  void start() {
    start_gateway();
    bootstrap_identity();
  }

  std::string origin() const { return "http://127.0.0.1:" + std::to_string(ws_port_); }

  // `vespid --state-dir <state> <args...>`
  CommandResult vespid(const std::vector<std::string>& args) {
    std::vector<std::string> argv{cli_bin(), "--state-dir", gw_.state_dir()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }

  // The code of a link printed by `vespid web login`, asserting the link's shape.
  std::string login_code(const std::string& user, const std::string& org = "") {
    std::vector<std::string> args = {"web", "login", "--user", user, "--url", origin()};
    if (!org.empty()) args.insert(args.end(), {"--org", org});
    CommandResult r = vespid(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string link = r.out;
    while (!link.empty() && link.back() == '\n') link.pop_back();
    const std::string prefix = origin() + "/#login=";
    EXPECT_EQ(link.rfind(prefix, 0), 0u) << link;
    EXPECT_EQ(link.find('\n'), std::string::npos) << "the link alone on stdout: " << r.out;
    return link.size() > prefix.size() ? link.substr(prefix.size()) : "";
  }

  HttpReply call(const std::string& method, const std::string& path, const Headers& headers,
                 const json& body = nullptr) {
    return http_request(ws(), method, path, headers, body.is_null() ? "" : body.dump());
  }

  // Exchanges a code (or {accessToken}) for the session cookie, from the gateway's own page.
  HttpReply sign_in(const json& body) {
    return call("POST", "/v1/web/session", {{"Origin", origin()}}, body);
  }

  static std::string cookie_of(const HttpReply& r) {
    auto lines = r.header_values("set-cookie");
    if (lines.size() != 1) return "";
    return cookie_attributes(lines[0])["vespid_session"];
  }

  // Signs `user` in by a link; returns the cookie header value ("vespid_session=...").
  std::string signed_in(const std::string& user, const std::string& org = "") {
    HttpReply r = sign_in({{"loginCode", login_code(user, org)}});
    EXPECT_EQ(r.status, 200) << r.raw_body;
    const std::string value = cookie_of(r);
    EXPECT_FALSE(value.empty()) << r.raw_body;
    return "vespid_session=" + value;
  }

  std::unique_ptr<WsClient> upgrade(const std::string& path, const Headers& headers, int* status,
                                    json* refusal = nullptr) {
    auto c = std::make_unique<WsClient>(ws());
    *status = c->connect(path, headers, refusal);
    return c;
  }
};

TEST_F(WebSignin, TheCliLinkSignsInOnceWithAnHttpOnlyStrictCookie) {
  start();
  const std::string code = login_code("alice", "acme");
  ASSERT_EQ(code.rfind("vwl_", 0), 0u) << code;
  EXPECT_EQ(gw_.log_text().find(code.substr(21)), std::string::npos)
      << "the code's secret never reaches the gateway's log";

  HttpReply r = sign_in({{"loginCode", code}});
  ASSERT_EQ(r.status, 200) << r.raw_body;
  EXPECT_EQ(r.body["user"]["name"], "alice");
  ASSERT_EQ(r.body["orgs"].size(), 1u);
  EXPECT_EQ(r.body["orgs"][0]["id"], org_id_);
  EXPECT_EQ(r.body["orgs"][0]["role"], "admin");
  EXPECT_EQ(r.body["session"]["orgId"], org_id_);
  EXPECT_EQ(r.raw_body.find("vws_"), std::string::npos) << "the cookie's value is not in the body";
  EXPECT_EQ(r.header_values("cache-control"), std::vector<std::string>{"no-store"});

  auto lines = r.header_values("set-cookie");
  ASSERT_EQ(lines.size(), 1u);
  auto attrs = cookie_attributes(lines[0]);
  EXPECT_EQ(attrs["vespid_session"].rfind("vws_", 0), 0u) << lines[0];
  EXPECT_TRUE(attrs.count("httponly")) << lines[0];
  EXPECT_EQ(attrs["samesite"], "Strict") << lines[0];
  EXPECT_EQ(attrs["path"], "/") << lines[0];
  const long max_age = std::stol(attrs["max-age"]);
  EXPECT_GE(max_age, 43200 - 5) << "web.session_ttl_ms, 12 h by default: " << lines[0];
  EXPECT_LE(max_age, 43200);
  EXPECT_FALSE(attrs.count("secure")) << "plain HTTP: a Secure cookie would never come back";

  HttpReply again = sign_in({{"loginCode", code}});
  EXPECT_EQ(again.status, 401) << again.raw_body;
  EXPECT_EQ(again.body["code"], "UNAUTHORIZED");
  EXPECT_EQ(again.body["details"]["reason"], "LOGIN_CODE_INVALID");
  EXPECT_NE(again.body.value("message", "").find("vespid web login"), std::string::npos)
      << again.raw_body;
  EXPECT_TRUE(again.header_values("set-cookie").empty());

  HttpReply made_up = sign_in({{"loginCode", "vwl_0000000000000000_" + std::string(43, 'A')}});
  EXPECT_EQ(made_up.status, 401);

  // The CLI's other answers: --json gives the whole payload; a non-member is refused.
  CommandResult j = vespid({"--json", "web", "login", "--user", "bob"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  json payload = json::parse(j.out);
  EXPECT_EQ(payload["link"].get<std::string>().rfind("http://127.0.0.1:3000/#login=vwl_", 0), 0u)
      << "web.url by default: " << j.out;
  EXPECT_EQ(payload["user"], "bob");
  CommandResult refused = vespid({"web", "login", "--user", "carol", "--org", "acme"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("not a member"), std::string::npos) << refused.err;
}

TEST_F(WebSignin, AnExpiredCodeIsRefusedWithWhatToDo) {
  config_patch_ = {{"web", {{"login_code_ttl_ms", 1}}}};
  start();
  const std::string code = login_code("alice");
  std::this_thread::sleep_for(50ms);
  HttpReply r = sign_in({{"loginCode", code}});
  EXPECT_EQ(r.status, 401) << r.raw_body;
  EXPECT_EQ(r.body["details"]["reason"], "LOGIN_CODE_EXPIRED");
  const std::string message = r.body.value("message", "");
  EXPECT_NE(message.find("expired"), std::string::npos) << message;
  EXPECT_NE(message.find("vespid web login"), std::string::npos) << message;
  EXPECT_TRUE(r.header_values("set-cookie").empty());
}

TEST_F(WebSignin, TheCookieWorksOnRestAndWebSocketsUntilSignOut) {
  start();
  const std::string cookie = signed_in("alice");
  const Headers same_origin = {{"Cookie", cookie}, {"Origin", origin()}};

  HttpReply me = call("GET", "/v1/web/session", {{"Cookie", cookie}});
  ASSERT_EQ(me.status, 200) << me.raw_body;
  EXPECT_EQ(me.body["user"]["name"], "alice");
  EXPECT_EQ(me.body["orgs"].size(), 1u) << "alice belongs to acme only";
  EXPECT_TRUE(me.body["session"].contains("expiresAt"));

  // The cookie is accepted where access tokens are: org-scoped REST, reads and writes.
  HttpReply created = call("POST", "/v1/orgs/" + org_id_ + "/sessions", same_origin,
                           {{"title", "from the browser"}, {"engine", "vespid.echo.v1"}});
  ASSERT_EQ(created.status, 201) << created.raw_body;
  const std::string session_id = created.body["session"].value("id", "");
  HttpReply listed = call("GET", "/v1/orgs/" + org_id_ + "/sessions", {{"Cookie", cookie}});
  ASSERT_EQ(listed.status, 200) << listed.raw_body;
  EXPECT_NE(listed.raw_body.find(session_id), std::string::npos);

  // ... and on the upgrades of /ws/client and /ws/operator.
  int status = 0;
  json refusal;
  // A browser cannot set headers on a WebSocket: the org comes in the query.
  const Headers client_headers = same_origin;
  auto client = upgrade("/ws/client?orgId=acme", client_headers, &status, &refusal);
  ASSERT_EQ(status, 101) << refusal.dump();
  client->send({{"type", "client_hello"}});
  auto hello = client->read_type("client_hello_ok");
  ASSERT_TRUE(hello);
  EXPECT_EQ((*hello)["organizationId"], org_id_);
  auto op = upgrade("/ws/operator", same_origin, &status, &refusal);
  ASSERT_EQ(status, 101) << refusal.dump();
  op->send({{"type", "req"}, {"id", 1}, {"method", "whoami"}});
  auto who = op->read_type("res");
  ASSERT_TRUE(who);
  EXPECT_EQ((*who)["payload"]["role"], "operator") << who->dump();
  EXPECT_FALSE((*who)["payload"].value("userId", "").empty());

  // Sign-out: revoked server-side, the cookie cleared, the open sockets closed.
  HttpReply out = call("DELETE", "/v1/web/session", same_origin);
  ASSERT_EQ(out.status, 200) << out.raw_body;
  EXPECT_EQ(out.body["ended"], true);
  auto lines = out.header_values("set-cookie");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(cookie_attributes(lines[0])["max-age"], "0") << lines[0];
  EXPECT_EQ(cookie_attributes(lines[0])["vespid_session"], "") << lines[0];
  EXPECT_TRUE(closes(*client)) << "the /ws/client socket closes with the session";
  EXPECT_TRUE(closes(*op)) << "so does the /ws/operator one";

  HttpReply after = call("GET", "/v1/web/session", {{"Cookie", cookie}});
  EXPECT_EQ(after.status, 401) << after.raw_body;
  EXPECT_NE(after.body.value("message", "").find("vespid web login"), std::string::npos);
  EXPECT_EQ(call("GET", "/v1/orgs/" + org_id_ + "/sessions", {{"Cookie", cookie}}).status, 401);
  upgrade("/ws/client?orgId=acme", client_headers, &status, &refusal);
  EXPECT_EQ(status, 401) << refusal.dump();
  HttpReply twice = call("DELETE", "/v1/web/session", same_origin);
  EXPECT_EQ(twice.status, 200) << "signing out twice is no error";
  EXPECT_EQ(twice.body["ended"], false);
}

TEST_F(WebSignin, CrossSiteUseOfTheCookieIsRefused) {
  start();
  const std::string cookie = signed_in("alice");
  const std::string path = "/v1/orgs/" + org_id_ + "/sessions";
  const json body = {{"title", "forged"}, {"engine", "vespid.echo.v1"}};
  const std::string same_site_other_port = "http://127.0.0.1:" + std::to_string(api_port_);
  for (const std::string& bad : {std::string("https://evil.example"), same_site_other_port,
                                 std::string("null"), std::string()}) {
    Headers h = {{"Cookie", cookie}};
    if (!bad.empty()) h["Origin"] = bad;
    HttpReply r = call("POST", path, h, body);
    EXPECT_EQ(r.status, 403) << "Origin \"" << bad << "\": " << r.raw_body;
    EXPECT_EQ(r.body["details"]["reason"], "ORIGIN_MISMATCH") << r.raw_body;
  }
  HttpReply none = call("GET", path, {{"Cookie", cookie}});
  ASSERT_EQ(none.status, 200) << none.raw_body;
  EXPECT_EQ(none.raw_body.find("forged"), std::string::npos) << "no forged session was made";

  // A cross-origin WebSocket upgrade with the cookie, or one without an Origin.
  for (const std::string& bad : {std::string("https://evil.example"), std::string()}) {
    Headers h = {{"Cookie", cookie}, {"x-org-id", "acme"}};
    if (!bad.empty()) h["Origin"] = bad;
    int status = 0;
    json refusal;
    upgrade("/ws/client", h, &status, &refusal);
    EXPECT_EQ(status, 403) << "Origin \"" << bad << "\": " << refusal.dump();
    EXPECT_EQ(refusal["code"], "FORBIDDEN");
    upgrade("/ws/operator", h, &status, &refusal);
    EXPECT_EQ(status, 403) << "Origin \"" << bad << "\": " << refusal.dump();
  }

  // Sign-in from another site (login CSRF) is refused, and the code stays good for the user.
  const std::string code = login_code("bob");
  HttpReply forged =
      call("POST", "/v1/web/session", {{"Origin", "https://evil.example"}}, {{"loginCode", code}});
  EXPECT_EQ(forged.status, 403) << forged.raw_body;
  EXPECT_TRUE(forged.header_values("set-cookie").empty());
  EXPECT_EQ(sign_in({{"loginCode", code}}).status, 200);

  // The Authorization header wins over the cookie: a bearer from anywhere is judged alone, and
  // a wrong one does not fall back to the cookie.
  HttpReply bearer = call("GET", "/v1/web/session",
                          {{"Cookie", cookie}, {"Authorization", "Bearer " + member_token_}});
  ASSERT_EQ(bearer.status, 200) << bearer.raw_body;
  EXPECT_EQ(bearer.body["user"]["name"], "bob");
  EXPECT_FALSE(bearer.body.contains("session"));
  EXPECT_EQ(
      call("GET", "/v1/web/session", {{"Cookie", cookie}, {"Authorization", "Bearer nope"}}).status,
      401);
}

TEST_F(WebSignin, AMemberOfAnotherOrgSeesNothingOfThisOrg) {
  start();
  const std::string alice = signed_in("alice");
  HttpReply made =
      call("POST", "/v1/orgs/" + org_id_ + "/sessions", {{"Cookie", alice}, {"Origin", origin()}},
           {{"title", "acme only"}, {"engine", "vespid.echo.v1"}});
  ASSERT_EQ(made.status, 201) << made.raw_body;
  const std::string session_id = made.body["session"].value("id", "");

  const std::string carol = signed_in("carol");
  HttpReply me = call("GET", "/v1/web/session", {{"Cookie", carol}});
  ASSERT_EQ(me.status, 200);
  ASSERT_EQ(me.body["orgs"].size(), 1u);
  EXPECT_EQ(me.body["orgs"][0]["id"], other_org_id_) << "the org picker shows globex only";
  for (const std::string& path :
       {"/v1/orgs/" + org_id_ + "/sessions", "/v1/orgs/" + org_id_ + "/sessions/" + session_id,
        "/v1/orgs/" + org_id_ + "/agents"}) {
    HttpReply r = call("GET", path, {{"Cookie", carol}});
    EXPECT_EQ(r.status, 403) << path << ": " << r.raw_body;
    EXPECT_EQ(r.raw_body.find("acme only"), std::string::npos);
  }
  int status = 0;
  json refusal;
  upgrade("/ws/client", {{"Cookie", carol}, {"Origin", origin()}, {"x-org-id", org_id_}}, &status,
          &refusal);
  EXPECT_EQ(status, 403) << refusal.dump();
  HttpReply own = call("GET", "/v1/orgs/" + other_org_id_ + "/sessions", {{"Cookie", carol}});
  ASSERT_EQ(own.status, 200) << own.raw_body;
  EXPECT_EQ(own.raw_body.find(session_id), std::string::npos);
}

TEST_F(WebSignin, AnOrgBoundSessionEndsWithTheMembership) {
  start();
  const std::string bob = signed_in("bob", "acme");
  int status = 0;
  json refusal;
  auto client = upgrade("/ws/client", {{"Cookie", bob}, {"Origin", origin()}}, &status, &refusal);
  ASSERT_EQ(status, 101) << "the session's org when no x-org-id: " << refusal.dump();
  HttpReply elsewhere = call("GET", "/v1/orgs/" + other_org_id_ + "/sessions", {{"Cookie", bob}});
  EXPECT_EQ(elsewhere.status, 403) << elsewhere.raw_body;
  EXPECT_NE(elsewhere.body.value("message", "").find("this web session is bound to org \"acme\""),
            std::string::npos)
      << elsewhere.raw_body;
  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  admin.call("members.remove", {{"org", "acme"}, {"user", "bob"}});
  EXPECT_TRUE(closes(*client)) << "the open socket closes with the membership";
  EXPECT_EQ(call("GET", "/v1/web/session", {{"Cookie", bob}}).status, 401);
  admin.call("members.add", {{"org", "acme"}, {"user", "bob"}, {"role", "member"}});
  EXPECT_EQ(call("GET", "/v1/web/session", {{"Cookie", bob}}).status, 401)
      << "ended for good; a new link is needed";
}

TEST_F(WebSignin, APastedAccessTokenOpensASessionThatEndsWithTheToken) {
  start();
  HttpReply r = sign_in({{"accessToken", member_token_}});
  ASSERT_EQ(r.status, 200) << r.raw_body;
  EXPECT_EQ(r.body["user"]["name"], "bob");
  const std::string cookie = "vespid_session=" + cookie_of(r);
  ASSERT_EQ(call("GET", "/v1/web/session", {{"Cookie", cookie}}).status, 200);
  int status = 0;
  json refusal;
  auto client =
      upgrade("/ws/client", {{"Cookie", cookie}, {"Origin", origin()}, {"x-org-id", "acme"}},
              &status, &refusal);
  ASSERT_EQ(status, 101) << refusal.dump();

  auto admin = cli::OperatorClient::connect(gw_.socket_path());
  std::string token_id;
  const json tokens = admin.call("tokens.list", {{"user", "bob"}});
  for (const auto& t : tokens["tokens"]) token_id = t.value("tokenId", "");
  ASSERT_FALSE(token_id.empty());
  admin.call("tokens.revoke", {{"tokenId", token_id}});
  EXPECT_TRUE(closes(*client)) << "revoking the token closes the session's sockets too";
  EXPECT_EQ(call("GET", "/v1/web/session", {{"Cookie", cookie}}).status, 401);
  EXPECT_EQ(sign_in({{"accessToken", member_token_}}).status, 401);
  EXPECT_EQ(sign_in({{"accessToken", member_token_}, {"loginCode", "x"}}).status, 400)
      << "one credential at a time";
}

TEST_F(WebSignin, OverTlsTheCookieIsSecure) {
  ASSERT_TRUE(make_test_ca(dir_.path()));
  ws_config_extra_["tls"] = true;
  ws_config_extra_["cert_file"] = dir_.file("gw.pem");
  ws_config_extra_["key_file"] = dir_.file("gw.key");
  start();
  WebTarget tls = ws();
  tls.tls = true;
  tls.ca_file = dir_.file("ca.pem");
  const std::string secure_origin = "https://127.0.0.1:" + std::to_string(ws_port_);
  HttpReply r = http_request(tls, "POST", "/v1/web/session", {{"Origin", secure_origin}},
                             json{{"loginCode", login_code("alice")}}.dump());
  ASSERT_EQ(r.status, 200) << r.raw_body << r.error;
  auto lines = r.header_values("set-cookie");
  ASSERT_EQ(lines.size(), 1u);
  auto attrs = cookie_attributes(lines[0]);
  EXPECT_TRUE(attrs.count("secure")) << lines[0];
  EXPECT_TRUE(attrs.count("httponly")) << lines[0];
  const std::string cookie = "vespid_session=" + attrs["vespid_session"];
  HttpReply me = http_request(tls, "GET", "/v1/web/session", {{"Cookie", cookie}});
  EXPECT_EQ(me.status, 200) << me.raw_body;
  HttpReply out = http_request(tls, "DELETE", "/v1/web/session",
                               {{"Cookie", cookie}, {"Origin", secure_origin}});
  ASSERT_EQ(out.status, 200) << out.raw_body;
  EXPECT_TRUE(cookie_attributes(out.header_values("set-cookie").at(0)).count("secure"));
}

}  // namespace
}  // namespace vespid::test
