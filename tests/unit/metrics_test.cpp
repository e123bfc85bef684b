// The metrics registry and its text format (core/runtime/metrics.*, gateway_metrics.*), read
// back with the strict parser the integration test uses (tests/support/prom_text.*).
#include "runtime/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "prom_text.hpp"
#include "protocols/rest/metrics_route.hpp"
#include "runtime/crypto.hpp"
#include "runtime/gateway_metrics.hpp"

namespace vespid::metrics {
namespace {

using test::parse_prom_text;

std::string joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) out += e + "\n";
  return out;
}

// Striped instruments: each thread adds to a stripe of its own, and a read adds the stripes up.
// More threads than stripes share them, and still lose no update.
TEST(Metrics, StripedUpdatesFromMoreThreadsThanStripesAllCount) {
  StripedCounter counter;
  const double bounds[] = {1.0, 2.0};
  Histogram h(bounds);
  constexpr int kThreads = static_cast<int>(kStripes) * 2 + 1;
  constexpr int kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        counter.inc();
        h.observe(i % 2 == 0 ? 0.5 : 1.5);  // exact in binary: the sum has no rounding
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.value(), static_cast<uint64_t>(kThreads) * kEach);
  EXPECT_EQ(h.bucket(0), static_cast<uint64_t>(kThreads) * kEach / 2);
  EXPECT_EQ(h.bucket(1), static_cast<uint64_t>(kThreads) * kEach / 2);
  EXPECT_EQ(h.bucket(2), 0u);
  EXPECT_DOUBLE_EQ(h.sum(), kThreads * (kEach / 2) * (0.5 + 1.5));
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  const double bounds[] = {0.001, 0.01, 0.1};
  Histogram h(bounds);
  h.observe(0.0005);  // first bucket
  h.observe(0.001);   // on a bound: that bucket (le is "less or equal")
  h.observe(0.05);
  h.observe(7.0);  // above every bound
  TextWriter w;
  w.family("t_seconds", "A test histogram.", "histogram");
  const Label l[] = {{"kind", "x"}};
  w.histogram("t_seconds", l, h);
  auto p = parse_prom_text(w.text());
  EXPECT_TRUE(p.errors.empty()) << joined(p.errors) << w.text();
  EXPECT_EQ(p.value("t_seconds_bucket", {{"le", "0.001"}}), 2);
  EXPECT_EQ(p.value("t_seconds_bucket", {{"le", "0.01"}}), 2);
  EXPECT_EQ(p.value("t_seconds_bucket", {{"le", "0.1"}}), 3);
  EXPECT_EQ(p.value("t_seconds_bucket", {{"le", "+Inf"}}), 4);
  EXPECT_EQ(p.value("t_seconds_count", {{"kind", "x"}}), 4);
  EXPECT_NEAR(p.value("t_seconds_sum"), 7.0515, 1e-9);
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  TextWriter w;
  w.family("t_total", "Help with a \\ backslash\nand a line feed.", "counter");
  const Label l[] = {{"v", "a \"quoted\" \\ value\nover two lines"}};
  w.sample("t_total", l, uint64_t{3});
  auto p = parse_prom_text(w.text());
  ASSERT_TRUE(p.errors.empty()) << joined(p.errors) << w.text();
  ASSERT_EQ(p.samples.size(), 1u);
  EXPECT_EQ(p.samples[0].labels.at("v"), "a \"quoted\" \\ value\nover two lines");
  EXPECT_EQ(w.text().find("\nand"), std::string::npos) << "a raw line feed in HELP";
}

TEST(Metrics, NumbersKeepTheirValue) {
  TextWriter w;
  w.family("g", "A gauge.", "gauge");
  const Label a[] = {{"n", "a"}}, b[] = {{"n", "b"}}, c[] = {{"n", "c"}};
  w.sample("g", a, int64_t{-5});
  w.sample("g", b, 1.0 / 3);
  w.sample("g", c, uint64_t{18446744073709551615u});
  auto p = parse_prom_text(w.text());
  ASSERT_TRUE(p.errors.empty()) << joined(p.errors);
  EXPECT_EQ(p.value("g", {{"n", "a"}}), -5);
  EXPECT_EQ(p.value("g", {{"n", "b"}}), 1.0 / 3);
}

TEST(Metrics, TheParserRejectsWhatPromtoolWould) {
  // Samples before HELP/TYPE, a counter without _total, buckets not cumulative, no +Inf.
  EXPECT_FALSE(parse_prom_text("x 1\n").errors.empty());
  EXPECT_FALSE(parse_prom_text("# HELP x h\n# TYPE x counter\nx 1\n").errors.empty());
  EXPECT_FALSE(parse_prom_text("# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
                               "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n")
                   .errors.empty());
  EXPECT_FALSE(
      parse_prom_text("# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n")
          .errors.empty());
  EXPECT_FALSE(parse_prom_text("# HELP g h\n# TYPE g gauge\ng{a=\"1} 1\n").errors.empty());
  EXPECT_FALSE(parse_prom_text("# HELP g h\n# TYPE g gauge\ng 1\ng 2\n").errors.empty());
  EXPECT_FALSE(parse_prom_text("# HELP g h\n# TYPE g gauge\ng{a=\"1\"} 1\n# HELP f h\n"
                               "# TYPE f gauge\nf 1\ng{a=\"2\"} 1\n")
                   .errors.empty());
  EXPECT_TRUE(parse_prom_text("# HELP g h\n# TYPE g gauge\ng 1\n").errors.empty());
}

TEST(Metrics, TheGatewayInstrumentsWriteAValidExposition) {
  Instruments& m = instruments();
  m.invokes[InvokeOutcome::Ok].inc();
  m.invoke_duration.observe(0.0002);
  m.connections_closed[Dialect::Bridge][CloseReason::Peer].inc();
  m.pairing_requests[PairingKind::Reapproval][PairingDecision::Approved].inc();
  TextWriter w;
  m.write(w);
  auto p = parse_prom_text(w.text());
  EXPECT_TRUE(p.errors.empty()) << joined(p.errors);
  EXPECT_GE(p.value("vespid_invokes_total", {{"outcome", "ok"}}), 1);
  EXPECT_GE(p.value("vespid_invoke_duration_seconds_count"), 1);
  EXPECT_GE(
      p.value("vespid_connections_closed_total", {{"dialect", "bridge.v1"}, {"reason", "peer"}}),
      1);
  EXPECT_GE(
      p.value("vespid_pairing_requests_total", {{"kind", "reapproval"}, {"decision", "approved"}}),
      1);
  // Every label value is there from the start (a rate over a series that appears late is
  // wrong), and no more than the fixed sets.
  EXPECT_TRUE(p.has("vespid_dispatches_total", {{"outcome", "timeout"}}));
  EXPECT_EQ(p.types["vespid_storage_batch_size"], "histogram");
}

TEST(Metrics, LabelLookupsMapUnknownNamesToOther) {
  EXPECT_EQ(dialect_of("bridge.v1"), Dialect::Bridge);
  EXPECT_EQ(dialect_of("rest.v1"), Dialect::Rest);
  EXPECT_EQ(dialect_of("carrier-pigeon.v1"), Dialect::Other);
  EXPECT_EQ(session_event_of("agent_final"), SessionEvent::AgentFinal);
  EXPECT_EQ(session_event_of("made_up"), SessionEvent::Other);
}

TEST(Metrics, CountsFromManyThreadsAreNotLost) {
  Counter c;
  const double bounds[] = {1};
  Histogram h(bounds);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) {
        c.inc();
        h.observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 400000u);
  EXPECT_EQ(h.bucket(0), 400000u);
  EXPECT_DOUBLE_EQ(h.sum(), 200000.0);
}

}  // namespace
}  // namespace vespid::metrics

namespace vespid::core {
namespace {

// The route's answer to `req`, run to its end (the handler never waits).
RestResponse answer(const MetricsRouteServices& s, RestRequest req) {
  RestResponse out;
  spawn<RestResponse>(
      metrics_handler(s)(std::move(req)), [&](RestResponse r) { out = std::move(r); },
      [](std::exception_ptr) { ADD_FAILURE() << "the handler threw"; });
  return out;
}

RestRequest from(const std::string& peer, const std::string& authorization = "") {
  RestRequest r;
  r.method = "GET";
  r.path = "/metrics";
  if (!authorization.empty()) r.headers.set("authorization", authorization);
  r.peer_host = peer;
  return r;
}

TEST(MetricsRoute, LoopbackPeersOnlyWithoutAToken) {
  MetricsRouteServices s{"", [] { return std::string("# HELP x h\n"); }};
  RestResponse local = answer(s, from("127.0.0.1"));
  EXPECT_EQ(local.status, 200);
  ASSERT_TRUE(local.raw_body);
  EXPECT_EQ(*local.raw_body, "# HELP x h\n");
  EXPECT_EQ(local.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(answer(s, from("::1")).status, 200);
  RestResponse far = answer(s, from("192.0.2.7"));
  EXPECT_EQ(far.status, 403);
  EXPECT_EQ(far.body["code"], "FORBIDDEN");
  EXPECT_NE(far.body["message"].get<std::string>().find("metrics.token"), std::string::npos);
  EXPECT_EQ(answer(s, from("unix")).status, 403) << "not an address: not loopback";
}

TEST(MetricsRoute, ATokenIsRequiredFromEveryoneWhenSet) {
  const std::string token = "a-metrics-token-of-some-length";
  MetricsRouteServices s{crypto::sha256_hex(token), [] { return std::string(); }};
  EXPECT_EQ(answer(s, from("127.0.0.1")).status, 401);
  EXPECT_EQ(answer(s, from("127.0.0.1", "Bearer nope")).status, 401);
  EXPECT_EQ(answer(s, from("127.0.0.1", "Bearer")).status, 401);
  EXPECT_EQ(answer(s, from("192.0.2.7", "Bearer " + token)).status, 200);
  EXPECT_EQ(answer(s, from("127.0.0.1", "BEARER " + token)).status, 200);
  RestResponse none = answer(s, from("192.0.2.7"));
  EXPECT_EQ(none.status, 401);
  ASSERT_EQ(none.headers.size(), 1u);
  EXPECT_EQ(none.headers[0].first, "WWW-Authenticate");
}

TEST(MetricsRoute, LoopbackAddresses) {
  for (const char* yes : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"})
    EXPECT_TRUE(is_loopback_address(yes)) << yes;
  for (const char* no : {"10.0.0.1", "0.0.0.0", "::", "::ffff:10.0.0.1", "fe80::1", "", "unix",
                         "localhost", "128.0.0.1"})
    EXPECT_FALSE(is_loopback_address(no)) << no;
}

}  // namespace
}  // namespace vespid::core
