// The router's rules: one link per node, late closes ignored, invokes answered, timed out, or
// failed at once when the node goes away.
#include "services/nodes/node_router.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>

#include "runtime/deadlines.hpp"
#include "runtime/loop.hpp"

namespace vespid::nodes {
namespace {

using core::Task;
using namespace std::chrono_literals;

struct FakeLink final : NodeLink {
  std::vector<std::pair<std::string, std::string>> invokes;  // id, command
  std::string closed_with;
  void send_invoke(std::string_view id, std::string_view command, std::string_view) override {
    invokes.emplace_back(std::string(id), std::string(command));
  }
  void close(const std::string& reason) override { closed_with = reason; }
  std::string transport_name() const override { return "fake"; }
  std::string remote_address() const override { return "test"; }
};

class Router : public ::testing::Test {
 protected:
  Router() : deadlines_(loop_), router_(deadlines_, 2) {}

  std::shared_ptr<FakeLink> attach(const std::string& id) {
    auto link = std::make_shared<FakeLink>();
    ConnectedNode n;
    n.node_id = id;
    n.org_id = "org";
    n.commands = {"echo"};
    n.link = link;
    router_.attach(std::move(n));
    return link;
  }

  // Starts an invoke inside the sequencer; the result lands in *out when it finishes.
  void start_invoke(const std::string& node, const std::string& cmd, std::chrono::milliseconds t,
                    std::optional<InvokeResult>* out) {
    loop_.sequencer().execute([=, this] {
      core::spawn<InvokeResult>(
          router_.invoke(node, cmd, "", t), [out](InvokeResult r) { *out = std::move(r); },
          [](std::exception_ptr) {});
    });
  }

  void run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 3000ms) {
    loop_.io().restart();
    auto guard = boost::asio::make_work_guard(loop_.io());
    auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end) loop_.io().run_for(10ms);
  }

  core::Loop loop_;
  core::Deadlines deadlines_;
  LocalNodeRouter router_;
};

TEST_F(Router, AnAnswerReachesTheCaller) {
  auto link = attach("a");
  std::optional<InvokeResult> r;
  start_invoke("a", "echo", 5000ms, &r);
  ASSERT_EQ(link->invokes.size(), 1u);
  loop_.sequencer().execute([&] {
    router_.complete(link.get(), link->invokes[0].first, {true, R"({"x":1})", "", ""});
  });
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->payload_json, R"({"x":1})");
}

TEST_F(Router, UndeclaredCommandsAndUnknownNodesFailWithoutSending) {
  auto link = attach("a");
  std::optional<InvokeResult> r1, r2;
  start_invoke("a", "rm -rf", 5000ms, &r1);
  start_invoke("ghost", "echo", 5000ms, &r2);
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->error_code, "UNAVAILABLE");
  EXPECT_NE(r1->error_message.find("did not declare"), std::string::npos);
  EXPECT_NE(r2->error_message.find("not connected"), std::string::npos);
  EXPECT_TRUE(link->invokes.empty());
}

// A re-approval grows the approved set of a node that stays connected: the same link is then
// invoked with the new command.
TEST_F(Router, CommandsApprovedLaterApplyToTheLiveLink) {
  auto link = attach("a");
  std::optional<InvokeResult> before, after;
  start_invoke("a", "camera.snap", 5000ms, &before);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->error_code, "UNAVAILABLE");
  loop_.sequencer().execute([&] { router_.update_commands("a", {"echo", "camera.snap"}); });
  start_invoke("a", "camera.snap", 5000ms, &after);
  ASSERT_EQ(link->invokes.size(), 1u);
  EXPECT_EQ(link->invokes[0].second, "camera.snap");
  loop_.sequencer().execute([&] {
    router_.complete(link.get(), link->invokes[0].first, {true, "1", "", ""});
  });
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->ok);
}

TEST_F(Router, InvokesTimeOut) {
  attach("slow");
  std::optional<InvokeResult> r;
  start_invoke("slow", "echo", 50ms, &r);
  run_until([&] { return r.has_value(); });
  ASSERT_TRUE(r);
  EXPECT_NE(r->error_message.find("did not answer within 50 ms"), std::string::npos);
  EXPECT_EQ(deadlines_.pending(), 0u);
}

TEST_F(Router, InFlightIsBounded) {
  attach("busy");
  std::optional<InvokeResult> a, b, c;
  start_invoke("busy", "echo", 5000ms, &a);
  start_invoke("busy", "echo", 5000ms, &b);
  start_invoke("busy", "echo", 5000ms, &c);
  ASSERT_TRUE(c) << "the third fails at once (max 2 in flight)";
  EXPECT_NE(c->error_message.find("in flight"), std::string::npos);
  EXPECT_FALSE(a.has_value());
  // End the two in flight while their results still exist.
  loop_.sequencer().execute([&] { router_.disconnect("busy", "test over"); });
  EXPECT_TRUE(a && b);
}

TEST_F(Router, DetachFailsPendingAtOnceAndIgnoresLateCloses) {
  auto old_link = attach("n");
  std::optional<InvokeResult> r;
  start_invoke("n", "echo", 5000ms, &r);
  auto new_link = attach("n");  // reconnect: the old link is closed, its invoke failed
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_FALSE(old_link->closed_with.empty());
  loop_.sequencer().execute([&] { router_.detach("n", old_link.get()); });
  EXPECT_TRUE(router_.online("n")) << "the old link's late close must not remove the new one";
  std::optional<InvokeResult> r2;
  start_invoke("n", "echo", 5000ms, &r2);
  ASSERT_EQ(new_link->invokes.size(), 1u);
  loop_.sequencer().execute([&] { router_.detach("n", new_link.get()); });
  ASSERT_TRUE(r2);
  EXPECT_NE(r2->error_message.find("disconnected"), std::string::npos);
  EXPECT_FALSE(router_.online("n"));
}

TEST_F(Router, ALateAnswerIsDroppedAndCounted) {
  auto link = attach("late");
  std::optional<InvokeResult> r;
  start_invoke("late", "echo", 20ms, &r);
  run_until([&] { return r.has_value(); });
  loop_.sequencer().execute([&] {
    router_.complete(link.get(), link->invokes[0].first, {true, "1", "", ""});
  });
  EXPECT_EQ(router_.late_results(), 1u);
}

// What a hot frame waits with: told once, inside the call for a refusal, later for an answer.
struct CountingWaiter final : InvokeWaiter {
  std::vector<InvokeResult> told;
  void invoke_done(InvokeResult&& r) override { told.push_back(std::move(r)); }
};

TEST_F(Router, AWaiterIsToldOnceAtOnceForARefusalAndLaterForAnAnswer) {
  auto link = attach("a");
  CountingWaiter refused, answered;
  loop_.sequencer().execute([&] {
    router_.start_invoke("a", "undeclared", "", 5000ms, refused);
    EXPECT_EQ(refused.told.size(), 1u) << "a refusal is told before start_invoke returns";
    router_.start_invoke("a", "echo", R"({"k":"v"})", 5000ms, answered);
    EXPECT_TRUE(answered.told.empty());
  });
  ASSERT_EQ(link->invokes.size(), 1u);
  EXPECT_EQ(router_.invokes_in_flight(), 1u);
  loop_.sequencer().execute([&] {
    router_.complete(link.get(), link->invokes[0].first, {true, "[1]", "", ""});
    router_.complete(link.get(), link->invokes[0].first, {true, "[2]", "", ""});
  });
  ASSERT_EQ(answered.told.size(), 1u) << "the second answer to the same id is a late one";
  EXPECT_EQ(answered.told[0].payload_json, "[1]");
  EXPECT_EQ(refused.told.size(), 1u);
  EXPECT_EQ(router_.late_results(), 1u);
  EXPECT_EQ(router_.invokes_in_flight(), 0u);
}

// Pending invokes are found by the number in the id the router made: an id of another shape,
// or another link's answer to a real id, settles nothing.
TEST_F(Router, AnswersToIdsItDidNotMakeOrFromAnotherLinkSettleNothing) {
  auto link = attach("a");
  auto other = attach("b");
  CountingWaiter w;
  loop_.sequencer().execute([&] { router_.start_invoke("a", "echo", "", 5000ms, w); });
  ASSERT_EQ(link->invokes.size(), 1u);
  const std::string id = link->invokes[0].first;
  loop_.sequencer().execute([&] {
    for (std::string_view bogus :
         {"", "inv-", "inv-x1", "1", "inv-99999999999999999999999", "inv-1 ", "xinv-1"})
      router_.complete(link.get(), bogus, {true, "0", "", ""});
    router_.complete(other.get(), id, {true, "0", "", ""});
  });
  EXPECT_TRUE(w.told.empty());
  EXPECT_EQ(router_.late_results(), 8u);
  loop_.sequencer().execute([&] { router_.complete(link.get(), id, {true, "7", "", ""}); });
  ASSERT_EQ(w.told.size(), 1u);
  EXPECT_EQ(w.told[0].payload_json, "7");
}

// A timed-out invoke gives its node's in-flight slot back: with two allowed, two that timed out
// leave room for two more.
TEST_F(Router, TimedOutInvokesGiveTheirSlotsBack) {
  auto link = attach("slow");
  CountingWaiter first, second, third, fourth;
  loop_.sequencer().execute([&] {
    router_.start_invoke("slow", "echo", "", 20ms, first);
    router_.start_invoke("slow", "echo", "", 20ms, second);
  });
  run_until([&] { return first.told.size() + second.told.size() == 2; });
  ASSERT_EQ(first.told.size(), 1u);
  EXPECT_NE(first.told[0].error_message.find("did not answer within 20 ms"), std::string::npos);
  loop_.sequencer().execute([&] {
    router_.start_invoke("slow", "echo", "", 5000ms, third);
    router_.start_invoke("slow", "echo", "", 5000ms, fourth);
  });
  EXPECT_TRUE(third.told.empty() && fourth.told.empty()) << "both sent, neither refused";
  EXPECT_EQ(link->invokes.size(), 4u);
  loop_.sequencer().execute([&] { router_.disconnect("slow", "test over"); });
  EXPECT_EQ(third.told.size(), 1u);
  EXPECT_EQ(fourth.told.size(), 1u);
}

}  // namespace
}  // namespace vespid::nodes
