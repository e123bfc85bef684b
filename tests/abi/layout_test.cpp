// Within ABI major 1, a newer header set may only add: every member, array-element size and
// constant of the frozen 1.0 to 1.6 headers must be unchanged in every newer set, the current
// SDK headers included. Compile-time facts, so this fails before any gateway runs.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>

#include "layout_probe.h"

namespace {

struct Fact {
  size_t offset;
  size_t size;
  int kind;
};

std::map<std::string, Fact> facts(const layout_entry* table) {
  std::map<std::string, Fact> out;
  for (const layout_entry* e = table; e->kind != LAYOUT_END; ++e) {
    out.emplace(e->name, Fact{e->offset, e->size, e->kind});
  }
  return out;
}

void expect_kept(const char* older_name, const layout_entry* older, const char* newer_name,
                 const layout_entry* newer) {
  SCOPED_TRACE(std::string(older_name) + " -> " + newer_name);
  const auto now = facts(newer);
  const auto then = facts(older);
  ASSERT_FALSE(then.empty());
  for (const auto& [name, fact] : then) {
    auto it = now.find(name);
    if (it == now.end()) {
      ADD_FAILURE() << name << " is gone";
      continue;
    }
    EXPECT_EQ(it->second.offset, fact.offset)
        << name << (fact.kind == LAYOUT_CONSTANT ? ": value changed" : ": moved");
    EXPECT_EQ(it->second.size, fact.size) << name << ": size changed";
  }
}

TEST(AbiLayout, OlderMinorsArePrefixesOfNewerOnes) {
  expect_kept("1.0", abi_layout_1_0, "1.1", abi_layout_1_1);
  expect_kept("1.0", abi_layout_1_0, "1.2", abi_layout_1_2);
  expect_kept("1.1", abi_layout_1_1, "1.2", abi_layout_1_2);
  expect_kept("1.0", abi_layout_1_0, "1.3", abi_layout_1_3);
  expect_kept("1.1", abi_layout_1_1, "1.3", abi_layout_1_3);
  expect_kept("1.2", abi_layout_1_2, "1.3", abi_layout_1_3);
  expect_kept("1.0", abi_layout_1_0, "1.4", abi_layout_1_4);
  expect_kept("1.1", abi_layout_1_1, "1.4", abi_layout_1_4);
  expect_kept("1.2", abi_layout_1_2, "1.4", abi_layout_1_4);
  expect_kept("1.3", abi_layout_1_3, "1.4", abi_layout_1_4);
  expect_kept("1.0", abi_layout_1_0, "1.5", abi_layout_1_5);
  expect_kept("1.1", abi_layout_1_1, "1.5", abi_layout_1_5);
  expect_kept("1.2", abi_layout_1_2, "1.5", abi_layout_1_5);
  expect_kept("1.3", abi_layout_1_3, "1.5", abi_layout_1_5);
  expect_kept("1.4", abi_layout_1_4, "1.5", abi_layout_1_5);
  expect_kept("1.0", abi_layout_1_0, "1.6", abi_layout_1_6);
  expect_kept("1.1", abi_layout_1_1, "1.6", abi_layout_1_6);
  expect_kept("1.2", abi_layout_1_2, "1.6", abi_layout_1_6);
  expect_kept("1.3", abi_layout_1_3, "1.6", abi_layout_1_6);
  expect_kept("1.4", abi_layout_1_4, "1.6", abi_layout_1_6);
  expect_kept("1.5", abi_layout_1_5, "1.6", abi_layout_1_6);
  expect_kept("1.0", abi_layout_1_0, "current", abi_layout_current);
  expect_kept("1.1", abi_layout_1_1, "current", abi_layout_current);
  expect_kept("1.2", abi_layout_1_2, "current", abi_layout_current);
  expect_kept("1.3", abi_layout_1_3, "current", abi_layout_current);
  expect_kept("1.4", abi_layout_1_4, "current", abi_layout_current);
  expect_kept("1.5", abi_layout_1_5, "current", abi_layout_current);
  expect_kept("1.6", abi_layout_1_6, "current", abi_layout_current);
}

TEST(AbiLayout, TheBusKindArrivedWholeIn13) {
  // A kind added by a minor: the host's minimum table size for it is its whole 1.3 table, and
  // the 1.2 headers know nothing of it. Read from the frozen 1.3 set; every newer set keeps
  // these facts (OlderMinorsArePrefixesOfNewerOnes compares 1.3 with them).
  const auto v12 = facts(abi_layout_1_2);
  const auto v13 = facts(abi_layout_1_3);
  EXPECT_EQ(v12.count("VSP_KIND_BUS"), 0u);
  EXPECT_EQ(v12.count("VSP_E_TIMEOUT"), 0u);
  EXPECT_EQ(v12.count("vsp_bus_vtbl.life"), 0u);
  ASSERT_EQ(v13.count("vsp_bus_vtbl.is_up"), 1u);
  EXPECT_EQ(v13.at("VSP_KIND_BUS").offset, 5u);
  EXPECT_EQ(v13.at("VSP_E_TIMEOUT").offset, static_cast<size_t>(-15));
  // The lifecycle comes first, as in every kind's table, so the host can drive any kind.
  EXPECT_EQ(v13.at("vsp_bus_vtbl.life").offset, v13.at("vsp_storage_vtbl.life").offset);
  // And the current headers still have the whole 1.3 bus table.
  EXPECT_EQ(facts(abi_layout_current).count("vsp_bus_vtbl.is_up"), 1u);
}

TEST(AbiLayout, TheStorageTableOf13IsStillThatOf10) {
  // The storage fixture (fixtures/old_abi_storage_fixture.c) is built against the frozen 1.3
  // headers to stand for a storage table from before the table grew: in 1.3 it still has
  // exactly 1.0's members, ending at `commit`.
  auto storage_members = [](const layout_entry* table) {
    std::map<std::string, Fact> out;
    for (const auto& [name, fact] : facts(table)) {
      if (name.rfind("vsp_storage_vtbl.", 0) == 0) out.emplace(name, fact);
    }
    return out;
  };
  const auto v10 = storage_members(abi_layout_1_0);
  const auto v13 = storage_members(abi_layout_1_3);
  ASSERT_EQ(v13.size(), v10.size());
  for (const auto& [name, fact] : v10) {
    ASSERT_EQ(v13.count(name), 1u) << name;
    EXPECT_EQ(v13.at(name).offset, fact.offset) << name;
  }
}

TEST(AbiLayout, The14StorageFunctionsFollowCommit) {
  // A storage table built against 1.3 (the fixture) ends at `commit`; the host reads 1.4's two
  // optional functions only from a table long enough to have them, right after it. Read from
  // the frozen 1.4 set; every newer set keeps these facts.
  const auto current = facts(abi_layout_1_4);
  const auto& commit = current.at("vsp_storage_vtbl.commit");
  const auto& unsynced = current.at("vsp_storage_vtbl.commit_unsynced");
  const auto& sync = current.at("vsp_storage_vtbl.sync");
  EXPECT_EQ(commit.offset + commit.size, unsynced.offset);
  EXPECT_EQ(unsynced.offset + unsynced.size, sync.offset);
  EXPECT_EQ(facts(abi_layout_1_3).count("vsp_storage_vtbl.commit_unsynced"), 0u);
}

TEST(AbiLayout, The15RawBodyFlagIsABitOfItsOwn) {
  // 1.5 added one connection flag and nothing else: a bit no older flag uses, unknown to the
  // frozen 1.4 set. Read from the frozen 1.5 set; every newer set keeps these facts.
  const auto v15 = facts(abi_layout_1_5);
  const auto raw = v15.at("VSP_CONN_REST_RAW_BODY").offset;
  EXPECT_EQ(raw, 0x10u);
  for (const char* older :
       {"VSP_CONN_TLS", "VSP_CONN_LOCAL_ADMIN", "VSP_CONN_ADMISSION", "VSP_CONN_REST_JSON_BODY"}) {
    EXPECT_EQ(v15.at(older).offset & raw, 0u) << older;
  }
  EXPECT_EQ(facts(abi_layout_1_4).count("VSP_CONN_REST_RAW_BODY"), 0u);
}

TEST(AbiLayout, The16IoThreadServicesFollowBatchEnd) {
  // 1.6 added three host services at the end of the host table, right after 1.2's batch_end,
  // unknown to the frozen 1.5 set; a 1.5 plugin's view of the table ends before them. Read from
  // the frozen 1.6 set; every newer set keeps these facts.
  const auto v16 = facts(abi_layout_1_6);
  const auto& batch_end = v16.at("vsp_host_api.batch_end");
  const auto& begin = v16.at("vsp_host_api.io_thread_begin");
  const auto& run = v16.at("vsp_host_api.io_thread_run");
  const auto& end = v16.at("vsp_host_api.io_thread_end");
  EXPECT_EQ(batch_end.offset + batch_end.size, begin.offset);
  EXPECT_EQ(begin.offset + begin.size, run.offset);
  EXPECT_EQ(run.offset + run.size, end.offset);
  EXPECT_EQ(facts(abi_layout_1_5).count("vsp_host_api.io_thread_begin"), 0u);
}

TEST(AbiLayout, TablesOfOlderMinorsEndWhereTheirLastMemberEnds) {
  // The host accepts a kind's table if it is at least the 1.0 size; for the transport that is
  // the end of `admit`, not today's sizeof (which includes 1.2's send_batch).
  const auto v10 = facts(abi_layout_1_0);
  const auto& admit = v10.at("vsp_transport_vtbl.admit");
  const auto& send_batch = facts(abi_layout_current).at("vsp_transport_vtbl.send_batch");
  EXPECT_EQ(admit.offset + admit.size, send_batch.offset)
      << "send_batch must directly follow admit";
}

}  // namespace
