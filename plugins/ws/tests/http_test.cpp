// HTTP side of the ws transport: config errors, rest.v1 envelopes and responses, keep-alive
// and ordering, the answers it gives itself (404, 413, 400, 426, 503) and static files.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "test_env.hpp"

namespace vespid::ws::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The host's side of a pipelining test: every rest.v1 request is held until the test answers it.
struct HeldRequests {
  std::mutex mu;
  std::vector<std::pair<FakeConn*, std::string>> held;  // (connection, path), in arrival order

  void hold(FakeHost& host) {
    host.rest_responder = [this](FakeConn& c, const std::string& env) {
      std::lock_guard lock(mu);
      held.emplace_back(&c, read_rest_envelope(env)["path"].get<std::string>());
      return std::optional<std::string>();
    };
  }
  std::size_t count() {
    std::lock_guard lock(mu);
    return held.size();
  }
  std::pair<FakeConn*, std::string> at(std::size_t i) {
    std::lock_guard lock(mu);
    return held.at(i);
  }
  // Answers the i-th held request with its path as the body.
  int answer(FakeHost& host, std::size_t i) {
    auto [conn, path] = at(i);
    return host.send(*conn, json{{"status", 200}, {"body", path}}.dump());
  }
};

std::string pipelined(const std::vector<std::string>& paths, bool close_last = false) {
  std::string out;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    out += "GET " + paths[i] + " HTTP/1.1\r\nHost: x\r\n";
    if (close_last && i + 1 == paths.size()) out += "Connection: close\r\n";
    out += "\r\n";
  }
  return out;
}

class HttpTest : public WsTest {
 protected:
  // Starts an instance whose host holds every request, connects a peer and pipelines `paths`
  // on it; returns the peer once the host holds them all.
  std::unique_ptr<Peer> held_pipeline(HeldRequests& held, const std::vector<std::string>& paths) {
    held.hold(*host_);
    start();
    auto p = peer();
    EXPECT_FALSE(p->write_raw(pipelined(paths)));
    EXPECT_TRUE(host_->run_until([&] { return held.count() == paths.size(); }));
    return p;
  }
};

std::string create_error(const std::string& config) {
  FakeHost host;
  std::string err;
  EXPECT_NE(host.create(config, &err), VSP_OK) << config;
  return err;
}

TEST_F(HttpTest, ConfigErrorsNameTheKeyAndWhatItExpects) {
  EXPECT_EQ(create_error(R"({"bogus":1})").rfind("ws: unknown config key \"bogus\"", 0), 0u);
  EXPECT_NE(create_error(R"({"port":"80"})").find("\"port\" must be an integer from 0 to 65535"),
            std::string::npos);
  EXPECT_NE(create_error(R"({"port":70000})").find("\"port\""), std::string::npos);
  EXPECT_NE(create_error(R"({"tls":"yes"})").find("\"tls\" must be true or false"),
            std::string::npos);
  EXPECT_NE(create_error(R"({"max_message_bytes":-1})")
                .find("\"max_message_bytes\" must be a positive integer"),
            std::string::npos);
  EXPECT_NE(create_error(R"({"idle_timeout_ms":1.5})").find("\"idle_timeout_ms\""),
            std::string::npos);
  EXPECT_NE(create_error(R"({"host":"example.com"})")
                .find("\"host\" must be \"loopback\", \"lan\" or an IP address"),
            std::string::npos);
  EXPECT_NE(create_error(R"({"routes":{}})").find("\"routes\" must be an array"),
            std::string::npos);
  EXPECT_NE(create_error(R"({"routes":[{"path":"/x","dialect":5}]})")
                .find("\"routes[0].dialect\" must be a string"),
            std::string::npos);
  EXPECT_NE(create_error(R"({"routes":[{"path":"/x","dialect":"rest.v1","extra":1}]})")
                .find("unknown config key \"routes[0].extra\""),
            std::string::npos);
  EXPECT_NE(create_error(R"({"routes":[{"path":"/x","dialect":"operator.v1"}]})")
                .find("an HTTP route speaks \"rest.v1\""),
            std::string::npos);
  EXPECT_NE(create_error(R"({"routes":[{"prefix":"/","static":true}]})").find("static_dir"),
            std::string::npos);
  EXPECT_NE(create_error("[1]").find("config must be a JSON object"), std::string::npos);
}

TEST_F(HttpTest, RestRequestBecomesAnEnvelopeAndTheAnswerAResponse) {
  host_->rest_responder = [](FakeConn&, const std::string& env) -> std::optional<std::string> {
    json res = {{"status", 201},
                {"headers", {{"Content-Type", "text/plain"}, {"X-Answer", "42"}}},
                {"body", "created " + read_rest_envelope(env)["path"].get<std::string>()}};
    return res.dump();
  };
  start();
  auto p = peer();
  auto res = p->request("POST", "/v1/orgs/o1/agents?limit=5&x=%20",
                        {{"X-Custom", "Abc"}, {"Authorization", "Bearer tok"}}, R"({"a":1})");
  ASSERT_TRUE(res) << p->last_error().message();
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->headers["content-type"], "text/plain");
  EXPECT_EQ(res->headers["x-answer"], "42");
  EXPECT_EQ(res->headers["content-length"], std::to_string(res->body.size()));
  EXPECT_EQ(res->body, "created /v1/orgs/o1/agents");
  EXPECT_TRUE(res->keep_alive);

  FakeConn* c = host_->wait_conn(1);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->dialect, "rest.v1");
  // No admission for rest.v1 (credentials ride in each request); JSON bodies taken as values,
  // request bodies passed as their bytes.
  EXPECT_EQ(c->flags, VSP_CONN_REST_JSON_BODY | VSP_CONN_REST_RAW_BODY);
  EXPECT_FALSE(c->bearer);
  EXPECT_EQ(c->peer.rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(c->local, "127.0.0.1:" + std::to_string(port_));
  auto got = host_->received(*c);
  ASSERT_EQ(got.size(), 1u);
  const json env = read_rest_envelope(got[0]);
  EXPECT_EQ(env["method"], "POST");
  EXPECT_EQ(env["path"], "/v1/orgs/o1/agents");
  EXPECT_EQ(env["query"], "limit=5&x=%20");
  EXPECT_EQ(env["body"], R"({"a":1})");
  EXPECT_EQ(env["headers"]["x-custom"], "Abc");
  EXPECT_EQ(env["headers"]["authorization"], "Bearer tok");
  EXPECT_EQ(env["headers"]["host"], "localhost");
  EXPECT_EQ(env["headers"]["content-length"], "7");
  for (const auto& [name, value] : env["headers"].items()) {
    EXPECT_EQ(name, json(name).get<std::string>());
    for (char ch : name) EXPECT_FALSE(ch >= 'A' && ch <= 'Z') << name;
  }
}

// The body crosses as its bytes after the envelope's newline, whatever they are: newlines, a
// second envelope's look, bytes that are not UTF-8 (the core, not the transport, refuses those).
TEST_F(HttpTest, ARequestBodyReachesTheHostAsItsBytes) {
  host_->rest_responder = [](FakeConn&, const std::string&) -> std::optional<std::string> {
    return std::string(R"({"status":204})");
  };
  start();
  auto p = peer();
  const std::string body = "{\"a\":\n1}\n{\"method\":\"GET\"}\n\xff\xfe";
  auto res = p->request("POST", "/v1/x", {}, body);
  ASSERT_TRUE(res) << p->last_error().message();
  FakeConn* c = host_->wait_conn(1);
  ASSERT_NE(c, nullptr);
  auto got = host_->received(*c);
  ASSERT_EQ(got.size(), 1u);
  const std::size_t newline = got[0].find('\n');
  ASSERT_NE(newline, std::string::npos);
  EXPECT_EQ(got[0].substr(newline + 1), body);
  EXPECT_EQ(json::parse(got[0].substr(0, newline))["path"], "/v1/x");
}

// A header sent several times, under any case, reaches the core once, its values joined in the
// order they came ("; " for cookies, ", " for the rest), and the object's names are in order.
TEST_F(HttpTest, RepeatedRequestHeadersAreJoinedInTheOrderTheyCame) {
  host_->rest_responder = [](FakeConn&, const std::string&) -> std::optional<std::string> {
    return std::string(R"({"status":204})");
  };
  start();
  auto p = peer();
  ASSERT_FALSE(
      p->write_raw("GET /v1/x HTTP/1.1\r\nHost: localhost\r\nX-B: 2\r\n"
                   "Cookie: a=1\r\nx-a: 1\r\nCOOKIE: b=2\r\nX-A: 3\r\n"
                   "x-a: 4\r\n\r\n"));
  auto res = p->read_response();
  ASSERT_TRUE(res) << p->last_error().message();
  EXPECT_EQ(res->status, 204);
  FakeConn* c = host_->wait_conn(1);
  ASSERT_NE(c, nullptr);
  auto got = host_->received(*c);
  ASSERT_EQ(got.size(), 1u);
  const std::string_view text = got[0];
  const auto from = text.find(R"("headers":)");
  ASSERT_NE(from, std::string_view::npos) << text;
  EXPECT_EQ(text.substr(from, text.find('}', from) + 1 - from),
            R"("headers":{"cookie":"a=1; b=2","host":"localhost","x-a":"1, 3, 4","x-b":"2"})")
      << text;

  // Past 32 header lines the sort is a merge sort: the same order and joins. Forty lines, the
  // names counting down, h05 sent three times.
  std::string request = "GET /v1/y HTTP/1.1\r\nHost: localhost\r\n";
  for (int i = 39; i >= 0; --i) {
    const std::string name = std::string(i < 10 ? "H0" : "h").append(std::to_string(i));
    request.append(name).append(": v").append(std::to_string(i)).append("\r\n");
    if (i == 5) request.append("h05: again\r\nH05: last\r\n");
  }
  ASSERT_FALSE(p->write_raw(request.append("\r\n")));
  auto many = p->read_response();
  ASSERT_TRUE(many) << p->last_error().message();
  got = host_->received(*c);
  ASSERT_EQ(got.size(), 2u);
  std::string expected = R"("headers":{)";
  for (int i = 0; i < 40; ++i) {
    const std::string name = std::string(i < 10 ? "h0" : "h").append(std::to_string(i));
    expected.append("\"").append(name).append("\":\"v").append(std::to_string(i));
    if (i == 5) expected.append(", again, last");
    expected.append("\",");
  }
  expected.append(R"("host":"localhost"})");
  const std::string_view many_text = got[1];
  const auto many_from = many_text.find(R"("headers":)");
  ASSERT_NE(many_from, std::string_view::npos) << many_text;
  EXPECT_EQ(many_text.substr(many_from, many_text.find('}', many_from) + 1 - many_from), expected);
}

// The core's extra response headers (Set-Cookie for the web session) reach the peer, a name
// with several values as several lines; a value or name that would split the response is
// refused as a whole (500), never sent.
TEST_F(HttpTest, ResponseHeadersPassThroughAndInjectionIsRefused) {
  std::string answer;
  host_->rest_responder = [&answer](FakeConn&, const std::string&) {
    return std::optional<std::string>(answer);
  };
  start();
  auto p = peer();
  answer = json{{"status", 200},
                {"headers",
                 {{"set-cookie", json::array({"a=1; HttpOnly", "b=2; SameSite=Strict"})},
                  {"content-type", "text/plain; version=0.0.4"}}},
                {"body", "up 1\n"}}
               .dump();
  auto res = p->request("GET", "/v1/x");
  ASSERT_TRUE(res) << p->last_error().message();
  EXPECT_EQ(res->status, 200);
  std::vector<std::string> cookies;
  for (const auto& [name, value] : res->lines) {
    if (name == "set-cookie") cookies.push_back(value);
  }
  EXPECT_EQ(cookies, (std::vector<std::string>{"a=1; HttpOnly", "b=2; SameSite=Strict"}));
  EXPECT_EQ(res->headers["content-type"], "text/plain; version=0.0.4");
  EXPECT_EQ(res->body, "up 1\n");

  for (const json& bad : {json{{"set-cookie", "a=1\r\nx-evil: yes"}},
                          json{{"set-cookie", json::array({"ok=1", "a=1\nx-evil: yes"})}},
                          json{{"x-evil\r\nx", "1"}}, json{{"bad name", "1"}}}) {
    answer = json{{"status", 200}, {"headers", bad}, {"body", "secret"}}.dump();
    res = p->request("GET", "/v1/x");
    ASSERT_TRUE(res) << p->last_error().message();
    EXPECT_EQ(res->status, 500) << bad.dump();
    EXPECT_EQ(res->headers.count("x-evil"), 0u) << bad.dump();
    EXPECT_EQ(res->headers.count("set-cookie"), 0u) << bad.dump();
    EXPECT_EQ(res->body.find("secret"), std::string::npos) << bad.dump();
  }
}

// VSP_CONN_REST_JSON_BODY: a body given as a JSON value goes out as written, its length
// counted from that text, for GET and HEAD alike; escaped header values are decoded.
TEST_F(HttpTest, AJsonBodyGivenAsAValueIsSentAsWritten) {
  const std::string body = R"({"b": [1, 2.50, "\u00e9"], "n": null})";
  host_->rest_responder = [&body](FakeConn&, const std::string&) {
    return std::optional<std::string>(
        R"({"body":)" + body +
        R"(,"headers":{"cache-control":"no-store","x-note":"caf\u00e9 \"q\""},"status":200})");
  };
  start();
  auto p = peer();
  auto res = p->request("GET", "/v1/x");
  ASSERT_TRUE(res) << p->last_error().message();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, body);
  EXPECT_EQ(res->headers["content-length"], std::to_string(body.size()));
  EXPECT_EQ(res->headers["content-type"], "application/json");  // the default
  EXPECT_EQ(res->headers["x-note"], "caf\xc3\xa9 \"q\"");
  auto head = p->request("HEAD", "/v1/x");
  ASSERT_TRUE(head) << p->last_error().message();
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(head->headers["content-length"], std::to_string(body.size()));
}

TEST_F(HttpTest, KeepAliveRequestsAnsweredInOrderOnOneHostConnection) {
  start();
  auto p = peer();
  for (const char* path : {"/v1/a", "/v1/b", "/healthz"}) {
    auto res = p->request("GET", path);
    ASSERT_TRUE(res) << p->last_error().message();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->headers["x-echo"], "yes");
    EXPECT_EQ(json::parse(res->body)["path"], path);
  }
  // One request at a time needs one rest.v1 connection, reused.
  ASSERT_EQ(host_->conns().size(), 1u);
  auto got = host_->received(*host_->conns()[0]);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(read_rest_envelope(got[2])["path"], "/healthz");
}

// Pipelined requests reach the host together (each on a rest.v1 connection of its own, since
// the core answers a connection's requests in order) and their answers, given in reverse, go
// out in request order. The connections are reused by the next requests.
TEST_F(HttpTest, PipelinedRequestsRunTogetherAndAreAnsweredInOrder) {
  HeldRequests host;
  host.hold(*host_);
  start();
  auto p = peer();
  ASSERT_FALSE(p->write_raw(pipelined({"/v1/1", "/v1/2", "/v1/3"})));
  ASSERT_TRUE(host_->run_until([&] { return host.count() == 3; }))
      << "only " << host.count() << " of 3 pipelined requests reached the host";
  EXPECT_EQ(host_->conns().size(), 3u);
  for (std::size_t i : {2u, 1u, 0u}) EXPECT_EQ(host.answer(*host_, i), VSP_OK);
  for (const char* path : {"/v1/1", "/v1/2", "/v1/3"}) {
    auto res = p->read_response();
    ASSERT_TRUE(res) << p->last_error().message();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, path);
    EXPECT_TRUE(res->keep_alive);
  }

  // The same three again: no new rest.v1 connection, and the same order.
  ASSERT_FALSE(p->write_raw(pipelined({"/v1/4", "/v1/5", "/v1/6"})));
  ASSERT_TRUE(host_->run_until([&] { return host.count() == 6; }));
  for (std::size_t i : {4u, 5u, 3u}) EXPECT_EQ(host.answer(*host_, i), VSP_OK);
  for (const char* path : {"/v1/4", "/v1/5", "/v1/6"}) {
    auto res = p->read_response();
    ASSERT_TRUE(res) << p->last_error().message();
    EXPECT_EQ(res->body, path);
  }
  EXPECT_EQ(host_->conns().size(), 3u);
}

// max_pipelined_requests bounds what one connection has in flight: the rest waits in the socket.
TEST_F(HttpTest, PipeliningStopsAtMaxPipelinedRequests) {
  HeldRequests host;
  host.hold(*host_);
  start({{"max_pipelined_requests", 2}});
  auto p = peer();
  ASSERT_FALSE(p->write_raw(pipelined({"/v1/1", "/v1/2", "/v1/3", "/v1/4"})));
  ASSERT_TRUE(host_->run_until([&] { return host.count() == 2; }));
  host_->run_for(200ms);
  EXPECT_EQ(host.count(), 2u) << "more requests in flight than max_pipelined_requests";
  EXPECT_EQ(host.answer(*host_, 1), VSP_OK);
  host_->run_for(100ms);
  // The second is answered but waits behind the first: nothing was written, nothing more read.
  EXPECT_EQ(host.count(), 2u);
  EXPECT_EQ(host.answer(*host_, 0), VSP_OK);
  ASSERT_TRUE(host_->run_until([&] { return host.count() == 4; }));
  EXPECT_EQ(host.answer(*host_, 3), VSP_OK);
  EXPECT_EQ(host.answer(*host_, 2), VSP_OK);
  for (const char* path : {"/v1/1", "/v1/2", "/v1/3", "/v1/4"}) {
    auto res = p->read_response();
    ASSERT_TRUE(res) << p->last_error().message();
    EXPECT_EQ(res->body, path);
  }
  EXPECT_EQ(host_->conns().size(), 2u);
  EXPECT_NE(create_error(R"({"max_pipelined_requests":0})")
                .find("\"max_pipelined_requests\" must be an integer from 1"),
            std::string::npos);
}

// The rest.v1 connections pipelining opens beyond a session's first count against
// max_connections with the TCP connections, so an instance never asks the host for more than
// max_connections: here 1 TCP connection + 2 extra slots fill 3, the fourth request waits in the
// socket, and a second TCP connection is refused until the slots are given back.
TEST_F(HttpTest, PipeliningCountsAgainstMaxConnections) {
  HeldRequests host;
  host.hold(*host_);
  start({{"max_connections", 3}});
  auto p = peer();
  ASSERT_FALSE(p->write_raw(pipelined({"/v1/1", "/v1/2", "/v1/3", "/v1/4"})));
  ASSERT_TRUE(host_->run_until([&] { return host.count() == 3; }));
  host_->run_for(200ms);
  EXPECT_EQ(host.count(), 3u) << "a request was read ahead without a connection to spare";
  EXPECT_EQ(host_->conns().size(), 3u);
  auto refused = peer();
  EXPECT_TRUE(refused->wait_closed()) << "the instance's connections are all in use";

  // A slot freed by an answer takes the fourth request.
  EXPECT_EQ(host.answer(*host_, 0), VSP_OK);
  ASSERT_TRUE(host_->run_until([&] { return host.count() == 4; }));
  EXPECT_EQ(host_->conns().size(), 3u);
  for (std::size_t i : {1u, 2u, 3u}) EXPECT_EQ(host.answer(*host_, i), VSP_OK);
  for (const char* path : {"/v1/1", "/v1/2", "/v1/3", "/v1/4"}) {
    auto res = p->read_response();
    ASSERT_TRUE(res) << p->last_error().message();
    EXPECT_EQ(res->body, path);
  }

  // The pipelining connection gone, its slots are given back: a new connection is taken.
  p.reset();
  for (FakeConn* c : host_->conns()) {
    ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*c) == 1; }));
  }
  auto next = peer();
  ASSERT_FALSE(next->write_raw(pipelined({"/v1/after"})));
  ASSERT_TRUE(host_->run_until([&] { return host.count() == 5; }));
  EXPECT_EQ(host.answer(*host_, 4), VSP_OK);
  auto res = next->read_response();
  ASSERT_TRUE(res) << next->last_error().message();
  EXPECT_EQ(res->body, "/v1/after");
}

// "Connection: close" on the last of a pipelined run: every request is answered, in order, and
// then the connection ends; so do its rest.v1 connections, each once.
TEST_F(HttpTest, PipelinedRunEndingWithConnectionCloseIsAnsweredThenClosed) {
  host_->rest_responder = [this](FakeConn& c, const std::string& env) {
    std::thread([this, &c, env] {
      // The first request is answered last.
      const std::string path = read_rest_envelope(env)["path"].get<std::string>();
      std::this_thread::sleep_for(path == "/v1/1" ? 50ms : 5ms);
      EXPECT_EQ(host_->send(c, json{{"status", 200}, {"body", path}}.dump()), VSP_OK);
    }).detach();
    return std::optional<std::string>();
  };
  start();
  auto p = peer();
  ASSERT_FALSE(p->write_raw(pipelined({"/v1/1", "/v1/2", "/v1/3"}, true)));
  for (const char* path : {"/v1/1", "/v1/2", "/v1/3"}) {
    auto res = p->read_response();
    ASSERT_TRUE(res) << p->last_error().message();
    EXPECT_EQ(res->body, path);
  }
  EXPECT_TRUE(p->wait_closed());
  for (FakeConn* c : host_->conns()) {
    ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*c) == 1; }));
    EXPECT_EQ(host_->closed_status(*c), VSP_OK);
  }
}

// The host closes the connection of one pipelined request: that request is answered 503, the
// one behind it still gets the host's answer, then the connection ends.
TEST_F(HttpTest, HostCloseOfOnePipelinedRequestAnswersTheRestThenCloses) {
  HeldRequests host;
  auto p = held_pipeline(host, {"/v1/1", "/v1/2"});
  host_->close(*host.at(0).first, VSP_E_CLOSED, "shutting down");
  EXPECT_EQ(host.answer(*host_, 1), VSP_OK);
  auto first = p->read_response();
  ASSERT_TRUE(first) << p->last_error().message();
  EXPECT_EQ(first->status, 503);
  EXPECT_EQ(json::parse(first->body)["code"], "UNAVAILABLE");
  auto second = p->read_response();
  ASSERT_TRUE(second) << p->last_error().message();
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, "/v1/2");
  EXPECT_TRUE(p->wait_closed());
  ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*host.at(0).first) == 1; }));
  EXPECT_EQ(host_->closed_status(*host.at(0).first), VSP_E_CLOSED);
}

// An upgrade pipelined behind a REST request waits for that request's answer: the peer reads
// the answer, then the 101, and the WebSocket works.
TEST_F(HttpTest, UpgradeBehindAPipelinedRequestWaitsForItsAnswer) {
  HeldRequests host;
  host.hold(*host_);
  start();
  auto p = peer();
  ASSERT_FALSE(p->write_raw(
      pipelined({"/v1/first"}) +
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
  ASSERT_TRUE(host_->run_until([&] { return host.count() == 1; }));
  host_->run_for(100ms);
  ASSERT_EQ(host_->conns().size(), 1u) << "the upgrade went ahead of the answer it waits for";
  EXPECT_EQ(host.answer(*host_, 0), VSP_OK);
  auto res = p->read_response();
  ASSERT_TRUE(res) << p->last_error().message();
  EXPECT_EQ(res->body, "/v1/first");
  auto upgraded = p->read_response();
  ASSERT_TRUE(upgraded) << p->last_error().message();
  EXPECT_EQ(upgraded->status, 101);
  FakeConn* ws = host_->wait_conn(2);
  ASSERT_NE(ws, nullptr);
  EXPECT_EQ(ws->dialect, "vespid.node.v1");
  // The rest.v1 connection ended with the HTTP part of the TCP connection.
  ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*host.at(0).first) == 1; }));
}

// "Expect: 100-continue": the 100 comes before the body is read, and after the answers owed
// before it, so that the peer reads its answers in order.
TEST_F(HttpTest, ContinueComesInOrderThenTheBodyIsRead) {
  HeldRequests host;
  host.hold(*host_);
  start();
  auto p = peer();
  const std::string expecting =
      "POST /v1/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
  ASSERT_FALSE(p->write_raw(pipelined({"/v1/first"}) + expecting));
  ASSERT_TRUE(host_->run_until([&] { return host.count() == 1; }));
  EXPECT_EQ(host.answer(*host_, 0), VSP_OK);
  auto first = p->read_response();
  ASSERT_TRUE(first) << p->last_error().message();
  EXPECT_EQ(first->body, "/v1/first");
  auto cont = p->read_response();
  ASSERT_TRUE(cont) << p->last_error().message();
  EXPECT_EQ(cont->status, 100);
  ASSERT_FALSE(p->write_raw("hello"));
  ASSERT_TRUE(host_->run_until([&] { return host.count() == 2; }));
  EXPECT_EQ(host.at(1).second, "/v1/upload");
  auto got = host_->received(*host.at(1).first);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(read_rest_envelope(got.back())["body"], "hello");
  EXPECT_EQ(host.answer(*host_, 1), VSP_OK);
  auto second = p->read_response();
  ASSERT_TRUE(second) << p->last_error().message();
  EXPECT_EQ(second->body, "/v1/upload");
}

// A stop while pipelined requests wait for the host: no more requests are read, the answers
// owed still go out in order, and then the connection closes.
TEST_F(HttpTest, StopWritesThePipelinedAnswersOwedThenCloses) {
  HeldRequests host;
  auto p = held_pipeline(host, {"/v1/1", "/v1/2"});
  std::atomic<bool> stopped{false};
  std::thread stopper([&] { stopped = host_->stop(); });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(stopped) << "the stop did not wait for the answers owed";
  // A request read after the stop began is not handed to the host; it is answered 503 in its
  // turn.
  ASSERT_FALSE(p->write_raw(pipelined({"/v1/3"})));
  host_->run_for(100ms);
  EXPECT_EQ(host.count(), 2u);
  EXPECT_EQ(host.answer(*host_, 1), VSP_OK);
  EXPECT_EQ(host.answer(*host_, 0), VSP_OK);
  for (const char* path : {"/v1/1", "/v1/2"}) {
    auto res = p->read_response();
    ASSERT_TRUE(res) << p->last_error().message();
    EXPECT_EQ(res->body, path);
  }
  auto late = p->read_response();
  ASSERT_TRUE(late) << p->last_error().message();
  EXPECT_EQ(late->status, 503);
  EXPECT_EQ(json::parse(late->body)["message"], "the gateway is stopping");
  EXPECT_FALSE(late->keep_alive);
  EXPECT_TRUE(p->wait_closed());
  stopper.join();
  EXPECT_TRUE(stopped);
  EXPECT_EQ(host.count(), 2u);
  for (FakeConn* c : host_->conns()) {
    EXPECT_EQ(host_->closed_count(*c), 1);
    EXPECT_EQ(host_->closed_status(*c), VSP_E_CLOSED);
  }
}

// idle_timeout_ms is the peer's silence while nothing is owed to it, not the host's time to
// answer: a request the host answers after twice that is still answered, and a silent peer is
// then closed.
TEST_F(HttpTest, IdleTimeoutCountsThePeersSilenceNotTheHosts) {
  HeldRequests host;
  host.hold(*host_);
  start({{"idle_timeout_ms", 300}});
  auto p = peer();
  // A quick request first, so that the slow one is read on a connection past its first request
  // (the idle deadline, not the first request's handshake deadline, is the one that would cut it).
  ASSERT_FALSE(p->write_raw(pipelined({"/v1/quick"})));
  ASSERT_TRUE(host_->run_until([&] { return host.count() == 1; }));
  EXPECT_EQ(host.answer(*host_, 0), VSP_OK);
  auto quick = p->read_response();
  ASSERT_TRUE(quick) << p->last_error().message();
  EXPECT_EQ(quick->body, "/v1/quick");
  host_->run_for(100ms);
  ASSERT_FALSE(p->write_raw(pipelined({"/v1/slow"})));
  ASSERT_TRUE(host_->run_until([&] { return host.count() == 2; }));
  host_->run_for(700ms);
  EXPECT_EQ(host.answer(*host_, 1), VSP_OK);
  auto res = p->read_response();
  ASSERT_TRUE(res) << p->last_error().message();
  EXPECT_EQ(res->body, "/v1/slow");
  const auto quiet = std::chrono::steady_clock::now();
  EXPECT_TRUE(p->wait_closed(5s));
  EXPECT_GE(std::chrono::steady_clock::now() - quiet, 250ms);
  ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*host.at(0).first) == 1; }));
  EXPECT_EQ(host_->closed_reason(*host.at(0).first), "idle timeout");
}

TEST_F(HttpTest, UnknownPathIs404JsonAndTheConnectionStaysUsable) {
  start();
  auto p = peer();
  auto res = p->request("GET", "/nope?x=1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(res->headers["content-type"], "application/json");
  EXPECT_EQ(json::parse(res->body),
            json::parse(R"({"code":"NOT_FOUND","message":"no route for /nope"})"));
  EXPECT_TRUE(host_->conns().empty());
  res = p->request("GET", "/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(HttpTest, BodyOverLimitIs413WithoutTheHost) {
  start({{"max_body_bytes", 1024}});
  auto p = peer();
  auto res = p->request("POST", "/v1/upload", {}, std::string(5000, 'x'));
  ASSERT_TRUE(res) << p->last_error().message();
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(json::parse(res->body)["code"], "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(json::parse(res->body)["message"], "request body exceeds max_body_bytes (1024)");
  EXPECT_FALSE(res->keep_alive);
  EXPECT_TRUE(p->wait_closed());
  EXPECT_TRUE(host_->conns().empty());

  // Chunked: the limit applies as the body arrives.
  auto q = peer();
  std::string chunked =
      "POST /v1/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "800\r\n" +
      std::string(0x800, 'y') + "\r\n0\r\n\r\n";
  ASSERT_FALSE(q->write_raw(chunked));
  res = q->read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_TRUE(host_->conns().empty());
}

TEST_F(HttpTest, MalformedRequestIs400AndClose) {
  start();
  auto p = peer();
  ASSERT_FALSE(p->write_raw("GET /v1/x HTTP/1.1\r\nBad Header\r\n\r\n"));
  auto res = p->read_response();
  ASSERT_TRUE(res) << p->last_error().message();
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["code"], "BAD_REQUEST");
  EXPECT_TRUE(p->wait_closed());
  EXPECT_TRUE(host_->conns().empty());
}

TEST_F(HttpTest, HeaderOverLimitIs431) {
  start({{"max_header_bytes", 1024}});
  auto p = peer();
  auto res = p->request("GET", "/v1/x", {{"X-Big", std::string(2000, 'h')}});
  ASSERT_TRUE(res) << p->last_error().message();
  EXPECT_EQ(res->status, 431);
  EXPECT_TRUE(host_->conns().empty());
}

TEST_F(HttpTest, WebSocketRouteWithoutUpgradeIs426) {
  start();
  auto p = peer();
  auto res = p->request("GET", "/ws");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 426);
  EXPECT_EQ(res->headers["upgrade"], "websocket");
  EXPECT_EQ(json::parse(res->body)["code"], "UPGRADE_REQUIRED");
  EXPECT_TRUE(host_->conns().empty());
}

TEST_F(HttpTest, RefusedConnOpenIs503WithTheHostsMessage) {
  start();
  host_->refuse_opens = true;
  auto p = peer();
  auto res = p->request("GET", "/v1/x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(json::parse(res->body)["message"], "too many connections (refused by the test)");
  EXPECT_TRUE(p->wait_closed());
}

TEST_F(HttpTest, HostCloseAnswersTheWaitingRequestThenCloses) {
  host_->rest_responder = [](FakeConn&, const std::string&) {
    return std::optional<std::string>();
  };
  start();
  auto p = peer();
  ASSERT_FALSE(p->write_request("GET", "/v1/slow"));
  FakeConn* c = host_->wait_conn(1);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(host_->run_until([&] { return host_->received(*c).size() == 1; }));
  host_->close(*c, VSP_E_CLOSED, "shutting down");
  auto res = p->read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_FALSE(res->keep_alive);
  EXPECT_TRUE(p->wait_closed());
  ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*c) == 1; }));
  EXPECT_EQ(host_->closed_status(*c), VSP_E_CLOSED);
  // One answer per request: a second send is refused.
  EXPECT_EQ(host_->send(*c, "{}"), VSP_E_CLOSED);
}

TEST_F(HttpTest, ExtraResponseIsRefused) {
  FakeConn* conn = nullptr;
  host_->rest_responder = [&](FakeConn& c, const std::string&) {
    conn = &c;
    return std::optional<std::string>(R"({"status":204})");
  };
  start();
  auto p = peer();
  auto res = p->request("DELETE", "/v1/thing");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(host_->send(*conn, R"({"status":200})"), VSP_E_INVALID);
}

TEST_F(HttpTest, PeerCloseEndsTheHostConnectionOnce) {
  start();
  {
    auto p = peer();
    ASSERT_TRUE(p->request("GET", "/v1/x"));
  }
  FakeConn* c = host_->wait_conn(1);
  ASSERT_TRUE(host_->run_until([&] { return host_->closed_count(*c) == 1; }));
  EXPECT_EQ(host_->closed_status(*c), VSP_OK);
}

class StaticTest : public HttpTest {
 protected:
  void SetUp() override {
    HttpTest::SetUp();
    char tmpl[] = "/tmp/vespid-ws-static-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ + "/www";
    std::filesystem::create_directories(root_ + "/sub");
    std::ofstream(root_ + "/index.html") << "<h1>hi</h1>";
    std::ofstream(root_ + "/app.js") << "console.log(1)";
    std::ofstream(root_ + "/sub/data.json") << "{}";
    std::ofstream(base_ + "/secret.txt") << "secret";
    std::filesystem::create_symlink(base_ + "/secret.txt", root_ + "/link.txt");
  }
  void TearDown() override {
    HttpTest::TearDown();
    std::filesystem::remove_all(base_);
  }
  std::string base_, root_;
};

TEST_F(StaticTest, FilesWithContentTypesAndNoWayOut) {
  start({{"static_dir", root_}});
  auto p = peer();
  auto res = p->request("GET", "/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->headers["content-type"], "text/html; charset=utf-8");
  EXPECT_EQ(res->body, "<h1>hi</h1>");
  // The pages' policy: nothing inline, nothing from elsewhere, not framed.
  const std::string csp = res->headers["content-security-policy"];
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(res->headers["x-content-type-options"], "nosniff");
  EXPECT_EQ(res->headers["referrer-policy"], "no-referrer");
  res = p->request("GET", "/app.js");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->headers["content-type"], "text/javascript; charset=utf-8");
  EXPECT_EQ(res->body, "console.log(1)");
  res = p->request("GET", "/sub/data.json?v=2");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->headers["content-type"], "application/json");
  res = p->request("GET", "/missing.css");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  for (const char* evil : {"/../secret.txt", "/%2e%2e/secret.txt", "/sub/../../secret.txt",
                           "/%2E%2E%2Fsecret.txt", "/link.txt"}) {
    res = p->request("GET", evil);
    ASSERT_TRUE(res) << evil;
    EXPECT_TRUE(res->status == 403 || res->status == 404) << evil << " " << res->status;
    EXPECT_EQ(res->body.find("secret\""), std::string::npos);
    EXPECT_NE(res->body, "secret");
  }
  res = p->request("POST", "/app.js", {}, "x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->headers["allow"], "GET, HEAD");
  // The REST prefixes are longer than "/", so they still reach the host.
  res = p->request("GET", "/v1/x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->headers["x-echo"], "yes");
}

}  // namespace
}  // namespace vespid::ws::testing
