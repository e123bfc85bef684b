// The session event log's seq: gap-free and never given out twice, even when two services (two
// gateways on one database) append to the same session and each remembers the seq it last
// wrote. The stale one finds its first seq taken, re-reads, and numbering goes on without a gap.
#include <gtest/gtest.h>

#include "core_harness.hpp"
#include "runtime/deadlines.hpp"
#include "services/dispatch/dispatcher.hpp"
#include "services/dispatch/result_store.hpp"
#include "services/nodes/node_router.hpp"
#include "services/sessions/session_service.hpp"
#include "storage/keys.hpp"
#include "storage/repository.hpp"

namespace vespid::sessions {
namespace {

using core::Task;
using nlohmann::json;

// One gateway's session service over shared storage.
struct Gateway {
  explicit Gateway(core::testing::StorageHarness& h)
      : repo(h.storage()),
        deadlines(h.loop()),
        router(deadlines, 8),
        results(h.storage(), 60000),
        dispatcher(h.storage(), router, deadlines, results, {}),
        service(h.storage(), repo, router, dispatcher, {}) {
    service.set_fan_out([this](const std::string&, const std::vector<json>& evs) {
      for (const auto& e : evs) fanned.push_back(e["seq"].get<uint64_t>());
    });
  }
  ~Gateway() { deadlines.shutdown(); }
  repo::Repository repo;
  core::Deadlines deadlines;
  nodes::LocalNodeRouter router;
  dispatch::ResultStore results;
  dispatch::Dispatcher dispatcher;
  SessionService service;
  std::vector<uint64_t> fanned;
};

Task<std::vector<core::KV>> events_of(core::StorageService& storage, std::string sid) {
  auto rows = co_await storage.scan_prefix(repo::keys::session_events(sid));
  co_return rows;
}

std::vector<EventDraft> deltas(int n) {
  std::vector<EventDraft> out;
  for (int i = 0; i < n; ++i) out.push_back(EventDraft{"agent_delta", "info", {{"text", "x"}}});
  return out;
}

TEST(SessionSeq, TwoWritersOnOneDatabaseNeverReuseOrSkipASeq) {
  core::testing::StorageHarness h;
  repo::Repository repo(h.storage());
  h.run(repo.migrate());
  Gateway a(h), b(h);
  const std::string sid = "ses_seq_test";

  // a, a (a now remembers seq 3), b (writes 4 to 6 behind a's back), a again: seq 4 is taken,
  // so a's compare fails and it re-reads rather than reusing seq 4.
  EXPECT_EQ(h.run(a.service.append(sid, deltas(2))).back()["seq"], 2u);
  EXPECT_EQ(h.run(a.service.append(sid, deltas(1))).back()["seq"], 3u);
  EXPECT_EQ(h.run(b.service.append(sid, deltas(3))).back()["seq"], 6u);
  auto again = h.run(a.service.append(sid, deltas(2)));
  EXPECT_EQ(again.front()["seq"], 7u);
  EXPECT_EQ(again.back()["seq"], 8u);
  EXPECT_EQ(h.run(b.service.append(sid, deltas(1))).back()["seq"], 9u);

  auto rows = h.run(events_of(h.storage(), sid));
  ASSERT_EQ(rows.size(), 9u);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(json::parse(rows[i].value)["seq"], i + 1) << rows[i].value;
  }
  EXPECT_EQ(a.fanned, (std::vector<uint64_t>{1, 2, 3, 7, 8}));
  EXPECT_EQ(b.fanned, (std::vector<uint64_t>{4, 5, 6, 9}));
}

}  // namespace
}  // namespace vespid::sessions
