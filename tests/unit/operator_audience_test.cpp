// The pure parts of the Devices and Health pages' server side: the status sentence of a node,
// who hears which event (never across orgs), and the log tail's ring and bounded live queue.
#include <gtest/gtest.h>
#include <spdlog/logger.h>

#include "protocols/operator/event_audience.hpp"
#include "runtime/log_tail.hpp"
#include "runtime/time.hpp"
#include "services/nodes/status_reason.hpp"
#include "storage/model.hpp"

namespace vespid {
namespace {

using core::EventAudience;
using repo::OrgRole;

TEST(GatewayAdminFlag, OldUserRecordsReadFalseAndTheFlagRoundTrips) {
  repo::User old = repo::user_from({{"id", "u1"}, {"name", "alice"}, {"createdAt", "x"}});
  EXPECT_FALSE(old.gateway_admin);
  old.gateway_admin = true;
  nlohmann::json stored = repo::to_json(old);
  EXPECT_EQ(stored["gatewayAdmin"], true);
  EXPECT_TRUE(repo::user_from(stored).gateway_admin);
  EXPECT_EQ(repo::to_json(repo::user_from({{"id", "u2"}, {"name", "bob"}}))["gatewayAdmin"], false);
}

TEST(StatusReason, SaysHowWhereAndWhy) {
  nodes::StatusFacts online;
  online.status = "online";
  online.transport = "bridge";
  online.remote_address = "1.2.3.4:5678";
  online.connected_at_ms = util::parse_iso8601_ms("2026-01-02T03:04:05.000Z");
  EXPECT_EQ(nodes::status_reason(online),
            "connected over bridge from 1.2.3.4:5678 since 2026-01-02T03:04:05.000Z");
  online.transport = "ws";
  EXPECT_EQ(nodes::status_reason(online).rfind("connected over /ws from 1.2.3.4:5678", 0), 0u);
  online.elsewhere = true;
  online.instance = "gw-b";
  EXPECT_EQ(nodes::status_reason(online).rfind("connected to gateway instance gw-b since ", 0), 0u);

  nodes::StatusFacts offline;
  offline.status = "offline";
  EXPECT_EQ(nodes::status_reason(offline), "never connected");
  offline.last_seen_at = "2026-01-02T03:04:05.000Z";
  EXPECT_EQ(nodes::status_reason(offline), "not connected since 2026-01-02T03:04:05.000Z");
  offline.departure_reason = "ping timeout";
  EXPECT_EQ(nodes::status_reason(offline), "connection closed: ping timeout");

  nodes::StatusFacts revoked;
  revoked.status = "revoked";
  revoked.revoked_at = "2026-01-02T03:04:05.000Z";
  revoked.departure_reason = "ignored";
  EXPECT_EQ(nodes::status_reason(revoked), "revoked 2026-01-02T03:04:05.000Z");
}

TEST(EventAudience, NeverCrossesOrgs) {
  EventAudience b;  // a member of org B only
  b.orgs["B"] = OrgRole::Member;
  EXPECT_TRUE(core::sees_org_events(b, "B"));
  EXPECT_FALSE(core::sees_org_events(b, "A"));
  EXPECT_FALSE(core::sees_org_events(b, ""));
  EXPECT_FALSE(core::manages_org(b, "B"));
  EXPECT_FALSE(core::sees_pairing(b, true, "A"));
  EXPECT_FALSE(core::sees_pairing(b, true, "B"));  // a member does not decide
  EXPECT_FALSE(core::sees_pairing(b, false, ""));  // first-time: gateway administrators

  EventAudience owner_b = b;
  owner_b.orgs["B"] = OrgRole::Owner;
  EXPECT_TRUE(core::manages_org(owner_b, "B"));
  EXPECT_TRUE(core::sees_pairing(owner_b, true, "B"));
  EXPECT_FALSE(core::sees_pairing(owner_b, true, "A"));

  EventAudience gw_admin_b = b;
  gw_admin_b.gateway_admin = true;
  EXPECT_TRUE(core::sees_pairing(gw_admin_b, false, ""));
  EXPECT_FALSE(core::sees_pairing(gw_admin_b, true, "A"));  // A's re-approvals are A's
  EXPECT_FALSE(core::sees_org_events(gw_admin_b, "A"));     // the flag opens no org

  EventAudience local;
  local.local_admin = true;
  EXPECT_TRUE(core::sees_org_events(local, "A"));
  EXPECT_TRUE(core::sees_pairing(local, true, "A"));
  EXPECT_TRUE(core::sees_pairing(local, false, ""));
}

TEST(LogTail, KeepsTheLastLinesAndCountsWhatALateReaderMissed) {
  auto tail = std::make_shared<log::LogTail>(3, 2);
  spdlog::logger logger("tail-test", tail);
  logger.set_level(spdlog::level::info);
  logger.info("one");
  logger.info("two");
  logger.debug("below the level");
  logger.info("three");
  logger.warn("four");
  auto last = tail->last(10);
  ASSERT_EQ(last.size(), 3u);
  EXPECT_EQ(last[0].message, "two");
  EXPECT_EQ(last[2].message, "four");
  EXPECT_EQ(last[2].level, "warning");
  EXPECT_EQ(last[2].component, "tail-test");
  EXPECT_EQ(tail->last(1).size(), 1u);

  int wakes = 0;
  tail->set_live([&] { ++wakes; });
  logger.info("five");
  logger.info("six");
  logger.info("seven");  // the live queue holds two: dropped, counted
  EXPECT_EQ(wakes, 1);   // once, when the queue stopped being empty
  auto batch = tail->take();
  ASSERT_EQ(batch.lines.size(), 2u);
  EXPECT_EQ(batch.lines[0].message, "five");
  EXPECT_EQ(batch.dropped, 1u);
  EXPECT_EQ(tail->last(1)[0].message, "seven");  // the ring has it all the same
  logger.info("after the take");                 // an empty queue again: wakes the reader
  EXPECT_EQ(wakes, 2);
  batch = tail->take();
  ASSERT_EQ(batch.lines.size(), 1u);
  EXPECT_EQ(batch.dropped, 0u);
  tail->set_live({});
  logger.info("eight");  // nobody reads: nothing queued, nobody woken
  EXPECT_TRUE(tail->take().lines.empty());
  EXPECT_EQ(wakes, 2);
}

}  // namespace
}  // namespace vespid
