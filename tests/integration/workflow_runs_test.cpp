// Workflow runs on the gateway's side (issue 16): users start, read, follow and cancel runs over
// rest.v1; a worker claims a run with a lease over the internal routes, checkpoints it and ends
// it. The worker here is this test speaking the internal routes, so each guarantee is driven on
// purpose: a lease that expires is taken over with the same attempt and its state, the old
// holder is refused, the event log stays gap-free, a retry is the next attempt.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "node_host_support.hpp"
#include "process.hpp"
#include "web_test_client.hpp"

namespace vespid::test {
namespace {

using nlohmann::json;

json one_node_spec() {
  return {{"version", "v2"},
          {"trigger", {{"type", "trigger.manual"}}},
          {"nodes", json::array({{{"id", "join"}, {"type", "parallel.join"}}})}};
}

class WorkflowRuns : public NodeHostGateway {
 protected:
  void SetUp() override {
    NodeHostGateway::SetUp();
    start_gateway();
    bootstrap_identity();
    workflow_id_ = create_workflow(true);
  }

  std::string create_workflow(bool publish) {
    HttpReply c = rest("POST", "/v1/orgs/" + org_id_ + "/workflows", admin_token_,
                       {{"name", "one node"}, {"dsl", one_node_spec()}});
    EXPECT_EQ(c.status, 201) << c.raw_body;
    const std::string id = c.body["workflow"].value("id", "");
    if (publish) {
      HttpReply p =
          rest("POST", "/v1/orgs/" + org_id_ + "/workflows/" + id + "/publish", admin_token_);
      EXPECT_EQ(p.status, 200) << p.raw_body;
    }
    return id;
  }
  std::string runs(const std::string& tail = "") {
    return "/v1/orgs/" + org_id_ + "/workflows/" + workflow_id_ + "/runs" + tail;
  }
  std::string start_run(const json& input = nullptr) {
    HttpReply r = rest("POST", runs(), member_token_,
                       input.is_null() ? json::object() : json{{"input", input}});
    EXPECT_EQ(r.status, 201) << r.raw_body;
    return r.body["run"].value("id", "");
  }
  HttpReply claim(const std::string& worker, int lease_ms = 30000, int wait_ms = 0) {
    return internal("POST", "/internal/v1/workflow-runs/claim",
                    {{"workerId", worker}, {"leaseMs", lease_ms}, {"waitMs", wait_ms}});
  }
  HttpReply checkpoint(const std::string& run, json body) {
    return internal("POST", "/internal/v1/workflow-runs/" + run + "/checkpoint", body);
  }
  json events(const std::string& run) {
    HttpReply e = rest("GET", runs("/" + run + "/events?limit=1000"), member_token_);
    EXPECT_EQ(e.status, 200) << e.raw_body;
    return e.body["events"];
  }
  static void expect_gap_free(const json& events) {
    for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i]["seq"], i + 1) << events.dump();
  }

  std::string workflow_id_;
};

TEST_F(WorkflowRuns, AClaimedRunIsCheckpointedAndEndsWithAGapFreeLog) {
  const std::string id = start_run({{"env", "prod"}});
  HttpReply queued = rest("GET", runs("/" + id), member_token_);
  ASSERT_EQ(queued.status, 200) << queued.raw_body;
  EXPECT_EQ(queued.body["run"]["status"], "queued");
  EXPECT_EQ(queued.body["run"]["attemptCount"], 0);
  EXPECT_FALSE(queued.body["run"].contains("leaseTokenSha256"));

  HttpReply c = claim("worker-a");
  ASSERT_EQ(c.status, 200) << c.raw_body;
  ASSERT_TRUE(c.body["run"].is_object()) << c.raw_body;
  EXPECT_EQ(c.body["run"]["id"], id);
  EXPECT_EQ(c.body["run"]["status"], "running");
  EXPECT_EQ(c.body["run"]["attemptCount"], 1);
  EXPECT_EQ(c.body["run"]["input"], json({{"env", "prod"}}));
  EXPECT_EQ(c.body["workflow"]["dsl"], one_node_spec());
  const std::string lease = c.body.value("leaseToken", "");
  ASSERT_FALSE(lease.empty());
  // Nothing else is claimable: the one run is held.
  EXPECT_TRUE(claim("worker-b").body["run"].is_null());

  HttpReply step = checkpoint(id, {{"leaseToken", lease},
                                   {"events", json::array({{{"eventType", "run_started"}},
                                                           {{"eventType", "node_started"},
                                                            {"nodeId", "join"},
                                                            {"nodeType", "parallel.join"}}})},
                                   {"cursor", {{"index", 0}}}});
  ASSERT_EQ(step.status, 200) << step.raw_body;
  EXPECT_EQ(step.body["seqs"], json::array({3, 4}));  // after run_queued and run_claimed
  EXPECT_EQ(step.body["run"]["cursor"], json({{"index", 0}}));

  HttpReply done =
      checkpoint(id, {{"leaseToken", lease},
                      {"events", json::array({{{"eventType", "node_succeeded"}, {"nodeId", "join"}},
                                              {{"eventType", "run_succeeded"}}})},
                      {"outcome", "succeeded"},
                      {"output", {{"join", {{"joined", true}}}}}});
  ASSERT_EQ(done.status, 200) << done.raw_body;
  EXPECT_EQ(done.body["run"]["status"], "succeeded");
  EXPECT_TRUE(done.body["run"]["finishedAt"].is_string());
  EXPECT_TRUE(done.body["run"]["leaseOwner"].is_null());

  json log = events(id);
  ASSERT_EQ(log.size(), 6u) << log.dump();
  expect_gap_free(log);
  EXPECT_EQ(log[0]["eventType"], "run_queued");
  EXPECT_EQ(log[1]["eventType"], "run_claimed");
  EXPECT_EQ(log[1]["payload"]["workerId"], "worker-a");
  EXPECT_EQ(log[3]["nodeId"], "join");
  EXPECT_EQ(log[5]["eventType"], "run_succeeded");
  // The log pages by seq: after seq 4, two more.
  HttpReply tail = rest("GET", runs("/" + id + "/events?cursor=4"), member_token_);
  EXPECT_EQ(tail.body["events"].size(), 2u) << tail.raw_body;
  EXPECT_TRUE(tail.body["nextCursor"].is_null());

  // An ended run takes no more checkpoints, and is not claimed again.
  HttpReply late = checkpoint(id, {{"leaseToken", lease}});
  EXPECT_EQ(late.status, 409) << late.raw_body;
  EXPECT_EQ(late.body["code"], "LEASE_LOST");
  EXPECT_TRUE(claim("worker-b").body["run"].is_null());
  HttpReply listed = rest("GET", runs(), member_token_);
  ASSERT_EQ(listed.body["runs"].size(), 1u);
  EXPECT_EQ(listed.body["runs"][0]["status"], "succeeded");
}

TEST_F(WorkflowRuns, AnExpiredLeaseIsTakenOverWithTheSameAttemptAndItsState) {
  const std::string id = start_run();
  HttpReply a = claim("worker-a", 1000);
  ASSERT_TRUE(a.body["run"].is_object()) << a.raw_body;
  const std::string lease_a = a.body["leaseToken"];
  json blocked = {
      {"nodeId", "agent"}, {"nodeType", "agent.execute"}, {"requestId", id + ":agent:1"}};
  ASSERT_EQ(checkpoint(id, {{"leaseToken", lease_a},
                            {"events", json::array({{{"eventType", "node_started"}}})},
                            {"cursor", {{"index", 1}}},
                            {"blocked", blocked}})
                .status,
            200);
  // worker-a stops renewing (as if killed); its lease runs out and worker-b is told of the
  // run by its long-poll.
  HttpReply b = claim("worker-b", 30000, 10000);
  ASSERT_EQ(b.status, 200) << b.raw_body;
  ASSERT_TRUE(b.body["run"].is_object()) << b.raw_body;
  EXPECT_EQ(b.body["run"]["id"], id);
  EXPECT_EQ(b.body["run"]["attemptCount"], 1);  // the same attempt: the same request ids
  EXPECT_EQ(b.body["run"]["cursor"], json({{"index", 1}}));
  EXPECT_EQ(b.body["run"]["blocked"], blocked);
  EXPECT_EQ(b.body["run"]["leaseOwner"], "worker-b");

  HttpReply stale = checkpoint(
      id, {{"leaseToken", lease_a}, {"events", json::array({{{"eventType", "node_succeeded"}}})}});
  EXPECT_EQ(stale.status, 409) << stale.raw_body;
  EXPECT_EQ(stale.body["code"], "LEASE_LOST");
  EXPECT_NE(stale.body["message"].get<std::string>().find("worker-b"), std::string::npos);

  json log = events(id);
  expect_gap_free(log);
  ASSERT_EQ(log.size(), 4u) << log.dump();  // queued, claimed, node_started, claimed again
  EXPECT_EQ(log[3]["eventType"], "run_claimed");
  EXPECT_EQ(log[3]["payload"]["takeover"], true);
  EXPECT_EQ(log[3]["payload"]["previousWorkerId"], "worker-a");
}

TEST_F(WorkflowRuns, ALongPollingClaimIsAnsweredByARunStartedMeanwhile) {
  auto waiting = std::async(std::launch::async, [this] { return claim("worker-a", 30000, 20000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::string id = start_run();
  HttpReply c = waiting.get();
  ASSERT_EQ(c.status, 200) << c.raw_body;
  ASSERT_TRUE(c.body["run"].is_object()) << c.raw_body;
  EXPECT_EQ(c.body["run"]["id"], id);
}

TEST_F(WorkflowRuns, AFollowerIsAnsweredWhenTheNextEventsAreStored) {
  const std::string id = start_run();
  HttpReply c = claim("worker-a");
  ASSERT_TRUE(c.body["run"].is_object()) << c.raw_body;
  // Seqs 1 and 2 (queued, claimed) are read; the follower waits for what comes next.
  auto following = std::async(std::launch::async, [&] {
    return rest("GET", runs("/" + id + "/events?cursor=2&waitMs=20000"), member_token_);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(checkpoint(id, {{"leaseToken", c.body["leaseToken"]},
                            {"events", json::array({{{"eventType", "run_started"}}})}})
                .status,
            200);
  HttpReply got = following.get();
  ASSERT_EQ(got.status, 200) << got.raw_body;
  ASSERT_EQ(got.body["events"].size(), 1u) << got.raw_body;
  EXPECT_EQ(got.body["events"][0]["seq"], 3);
  EXPECT_EQ(got.body["events"][0]["eventType"], "run_started");
  // Nothing new within the wait: an empty page, the cursor where it was.
  HttpReply idle = rest("GET", runs("/" + id + "/events?cursor=3&waitMs=300"), member_token_);
  ASSERT_EQ(idle.status, 200) << idle.raw_body;
  EXPECT_TRUE(idle.body["events"].empty());
  EXPECT_EQ(idle.body["nextCursor"], 3);
}

// A worker that did not hear the answer to a checkpoint sends it again; with expectedSeq the
// gateway knows it stored it already and stores nothing twice, even for the run's last one.
TEST_F(WorkflowRuns, ACheckpointResentAfterALostAnswerIsStoredOnce) {
  const std::string id = start_run();
  HttpReply c = claim("worker-a");
  ASSERT_TRUE(c.body["run"].is_object()) << c.raw_body;
  const json lease = c.body["leaseToken"];
  EXPECT_EQ(c.body["run"]["nextSeq"], 3);
  const json two = json::array({{{"eventType", "run_started"}}, {{"eventType", "node_started"}}});
  json step = {{"leaseToken", lease}, {"events", two}, {"expectedSeq", 3}};
  HttpReply first = checkpoint(id, step);
  ASSERT_EQ(first.status, 200) << first.raw_body;
  EXPECT_EQ(first.body["seqs"], json::array({3, 4}));
  HttpReply again = checkpoint(id, step);
  ASSERT_EQ(again.status, 200) << again.raw_body;
  EXPECT_EQ(again.body["duplicate"], true);
  EXPECT_EQ(again.body["seqs"], json::array({3, 4}));
  EXPECT_EQ(events(id).size(), 4u);
  // A place in the log that does not fit what is there is refused, not guessed at.
  json three = step;
  three["events"].push_back({{"eventType", "node_succeeded"}});
  EXPECT_EQ(checkpoint(id, three).status, 409);

  json last = {{"leaseToken", lease},
               {"events", json::array({{{"eventType", "run_succeeded"}}})},
               {"expectedSeq", 5},
               {"outcome", "succeeded"}};
  ASSERT_EQ(checkpoint(id, last).status, 200);
  HttpReply last_again = checkpoint(id, last);
  ASSERT_EQ(last_again.status, 200) << last_again.raw_body;
  EXPECT_EQ(last_again.body["duplicate"], true);
  json log = events(id);
  expect_gap_free(log);
  EXPECT_EQ(log.size(), 5u) << log.dump();
  // Another lease's token learns nothing from a resend.
  EXPECT_EQ(checkpoint(id, {{"leaseToken", "not-the-token"},
                            {"events", json::array({{{"eventType", "x"}}})},
                            {"expectedSeq", 5}})
                .status,
            409);
}

TEST_F(WorkflowRuns, ARetryIsTheNextAttemptUntilNoneIsLeft) {
  const std::string id = start_run();
  for (int attempt = 1; attempt <= 3; ++attempt) {
    HttpReply c = claim("worker-a");
    ASSERT_TRUE(c.body["run"].is_object()) << "attempt " << attempt << ": " << c.raw_body;
    EXPECT_EQ(c.body["run"]["attemptCount"], attempt);
    EXPECT_TRUE(c.body["run"]["blocked"].is_null());
    HttpReply r = checkpoint(id, {{"leaseToken", c.body["leaseToken"]},
                                  {"events", json::array({{{"eventType", "run_retried"}}})},
                                  {"outcome", "retry"},
                                  {"error", "NO_AGENT_AVAILABLE"},
                                  {"retryDelayMs", 0}});
    if (attempt < 3) {
      ASSERT_EQ(r.status, 200) << r.raw_body;
      EXPECT_EQ(r.body["run"]["status"], "queued");
    } else {
      // The third attempt was the last (workflows.max_attempts = 3): the worker must fail it.
      EXPECT_EQ(r.status, 409) << r.raw_body;
      HttpReply f = checkpoint(id, {{"leaseToken", c.body["leaseToken"]},
                                    {"outcome", "failed"},
                                    {"error", "NO_AGENT_AVAILABLE"}});
      ASSERT_EQ(f.status, 200) << f.raw_body;
      EXPECT_EQ(f.body["run"]["status"], "failed");
      EXPECT_EQ(f.body["run"]["error"], "NO_AGENT_AVAILABLE");
    }
  }
  expect_gap_free(events(id));
}

TEST_F(WorkflowRuns, ACanceledRunStopsItsWorker) {
  const std::string id = start_run();
  HttpReply c = claim("worker-a");
  ASSERT_TRUE(c.body["run"].is_object()) << c.raw_body;
  // Another org cannot see it, let alone cancel it.
  EXPECT_NE(rest("POST", runs("/" + id + "/cancel"), outsider_token_).status, 200);
  HttpReply canceled = rest("POST", runs("/" + id + "/cancel"), member_token_);
  ASSERT_EQ(canceled.status, 200) << canceled.raw_body;
  EXPECT_EQ(canceled.body["run"]["status"], "canceled");
  HttpReply told = checkpoint(id, {{"leaseToken", c.body["leaseToken"]}});
  EXPECT_EQ(told.status, 409) << told.raw_body;
  EXPECT_EQ(told.body["code"], "RUN_CANCELED");
  EXPECT_EQ(rest("POST", runs("/" + id + "/cancel"), member_token_).status, 409);
  json log = events(id);
  expect_gap_free(log);
  EXPECT_EQ(log.back()["eventType"], "run_canceled");
}

TEST_F(WorkflowRuns, RefusalsSayWhatIsWrong) {
  // A draft does not run.
  const std::string draft = create_workflow(false);
  HttpReply d =
      rest("POST", "/v1/orgs/" + org_id_ + "/workflows/" + draft + "/runs", member_token_);
  EXPECT_EQ(d.status, 409) << d.raw_body;
  EXPECT_NE(d.raw_body.find("publish"), std::string::npos);
  // Workers need the service token.
  HttpReply bad_token = internal("POST", "/internal/v1/workflow-runs/claim",
                                 {{"workerId", "w"}, {"waitMs", 0}}, std::string(40, 'x'));
  EXPECT_EQ(bad_token.status, 401) << bad_token.raw_body;
  // Fields of the wrong type or range.
  EXPECT_EQ(claim("", 30000).status, 400);
  EXPECT_EQ(claim("w", 10).status, 400);
  const std::string id = start_run();
  HttpReply c = claim("w");
  ASSERT_TRUE(c.body["run"].is_object());
  HttpReply bad_events =
      checkpoint(id, {{"leaseToken", c.body["leaseToken"]}, {"events", "run_started"}});
  EXPECT_EQ(bad_events.status, 400) << bad_events.raw_body;
  HttpReply no_type = checkpoint(
      id, {{"leaseToken", c.body["leaseToken"]}, {"events", json::array({{{"nodeId", "x"}}})}});
  EXPECT_EQ(no_type.status, 400) << no_type.raw_body;
  EXPECT_NE(no_type.raw_body.find("events[0].eventType"), std::string::npos);
  // A refused checkpoint appended nothing.
  expect_gap_free(events(id));
  EXPECT_EQ(events(id).size(), 2u);
  EXPECT_EQ(rest("GET", runs("/" + std::string(36, 'a')), member_token_).status, 404);
}

TEST_F(WorkflowRuns, AWebhookWithItsTokenStartsARunAndAWrongTokenIsRefused) {
  const std::string token = "hook-" + std::string(40, 'k');
  json spec = one_node_spec();
  spec["trigger"] = {{"type", "trigger.webhook"}, {"config", {{"token", token}}}};
  HttpReply c = rest("POST", "/v1/orgs/" + org_id_ + "/workflows", admin_token_,
                     {{"name", "hooked"}, {"dsl", spec}});
  ASSERT_EQ(c.status, 201) << c.raw_body;
  const std::string wf = c.body["workflow"]["id"];
  // The token is a secret: only its hash is kept, and that is what reading the spec shows.
  const std::string stored = c.body["workflow"]["dsl"]["trigger"]["config"]["token"];
  EXPECT_EQ(stored.rfind("sha256:", 0), 0u) << stored;
  EXPECT_EQ(c.raw_body.find(token), std::string::npos);

  auto fire = [&](const std::string& t, const std::string& body, const Headers& extra = {}) {
    Headers h = extra;
    h["content-type"] = "application/json";
    return http_request(api(), "POST", "/v1/triggers/webhook/" + t, h, body);
  };
  // Not published yet: nothing answers to the token.
  EXPECT_EQ(fire(token, "{}").status, 404);
  ASSERT_EQ(
      rest("POST", "/v1/orgs/" + org_id_ + "/workflows/" + wf + "/publish", admin_token_).status,
      200);

  HttpReply fired = fire(token, R"({"ticket": 42})");
  ASSERT_EQ(fired.status, 202) << fired.raw_body;
  EXPECT_EQ(fired.body["accepted"], true);
  const std::string run = fired.body.value("runId", "");
  HttpReply got =
      rest("GET", "/v1/orgs/" + org_id_ + "/workflows/" + wf + "/runs/" + run, member_token_);
  ASSERT_EQ(got.status, 200) << got.raw_body;
  EXPECT_EQ(got.body["run"]["triggerType"], "webhook");
  EXPECT_EQ(got.body["run"]["input"]["ticket"], 42);
  EXPECT_EQ(got.body["run"]["input"]["__trigger"]["type"], "webhook");

  // A wrong token, or its hash, is refused the same way as no token at all.
  HttpReply wrong = fire(token + "x", "{}");
  EXPECT_EQ(wrong.status, 404) << wrong.raw_body;
  EXPECT_EQ(wrong.body["code"], "TRIGGER_NOT_FOUND");
  EXPECT_EQ(fire(stored, "{}").status, 404);
  EXPECT_EQ(fire(token, "{not json").status, 400);

  // A redelivery with the same idempotency key makes no second run.
  HttpReply first = fire(token, "{}", {{"x-idempotency-key", "delivery-7"}});
  ASSERT_EQ(first.status, 202) << first.raw_body;
  EXPECT_TRUE(first.body["runId"].is_string());
  HttpReply again = fire(token, "{}", {{"x-idempotency-key", "delivery-7"}});
  ASSERT_EQ(again.status, 202) << again.raw_body;
  EXPECT_EQ(again.body["duplicate"], true);
  HttpReply listed =
      rest("GET", "/v1/orgs/" + org_id_ + "/workflows/" + wf + "/runs", member_token_);
  EXPECT_EQ(listed.body["runs"].size(), 2u) << listed.raw_body;
}

// A one-minute expression: the test waits for the next whole minute (at most about 70 s).
TEST_F(WorkflowRuns, ACronWorkflowRunsOnItsSchedule) {
  json spec = one_node_spec();
  spec["trigger"] = {{"type", "trigger.cron"},
                     {"config", {{"cron", "* * * * *"}, {"timezone", "Europe/Berlin"}}}};
  HttpReply c = rest("POST", "/v1/orgs/" + org_id_ + "/workflows", admin_token_,
                     {{"name", "every minute"}, {"dsl", spec}});
  ASSERT_EQ(c.status, 201) << c.raw_body;
  const std::string wf = c.body["workflow"]["id"];
  const std::string list = "/v1/orgs/" + org_id_ + "/workflows/" + wf + "/runs";
  ASSERT_EQ(
      rest("POST", "/v1/orgs/" + org_id_ + "/workflows/" + wf + "/publish", admin_token_).status,
      200);
  json runs;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < until) {
    runs = rest("GET", list, member_token_).body["runs"];
    if (!runs.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ASSERT_EQ(runs.size(), 1u) << runs.dump();
  EXPECT_EQ(runs[0]["triggerType"], "cron");
  EXPECT_EQ(runs[0]["status"], "queued");
  const std::string at = runs[0]["input"]["__trigger"]["scheduledAt"];
  EXPECT_EQ(at.substr(at.size() - 7), "00.000Z") << at;  // a whole minute
  // One run per tick: the next tick is a minute away.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(rest("GET", list, member_token_).body["runs"].size(), 1u);
}

TEST_F(WorkflowRuns, AResultLongPollEndsWithNotReadyAfterItsWait) {
  HttpReply r = internal("GET", "/internal/v1/results/" + start_run() + ":agent:1?waitMs=300");
  EXPECT_EQ(r.status, 404) << r.raw_body;
  EXPECT_EQ(r.body["code"], "RESULT_NOT_READY");
  EXPECT_EQ(internal("GET", "/internal/v1/results/a:b:1?waitMs=99999").status, 400);
}

}  // namespace
}  // namespace vespid::test
