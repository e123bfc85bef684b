// vsp::SendQueue and vsp::MessageQueue (the SDK's <vespid/send_queue.hpp>) on their own, without
// sockets: the byte accounting, busy at half, conn_writable at a quarter, overflow, direct writes,
// partial writes and the close flag. A host table with only conn_writable stands in for the host.
#include <gtest/gtest.h>

#include <string>
#include <vector>
#include <vespid/send_queue.hpp>

namespace vespid::bridge {
namespace {

// Counts conn_writable calls; the connection handle points at the counter.
struct WritableCounter {
  int calls = 0;
  vsp_host_api api{};
  WritableCounter() {
    api.conn_writable = [](vsp_host_conn* c) { ++reinterpret_cast<WritableCounter*>(c)->calls; };
  }
  vsp_host_conn* conn() { return reinterpret_cast<vsp_host_conn*>(this); }
};

vsp::Queued send_line(vsp::SendQueue& q, std::string_view s) {
  const vsp_msg m{s.data(), s.size()};
  return q.send_lines(&m, 1);
}

TEST(SendQueue, BusyAboveHalfWritableOnceAtAQuarter) {
  WritableCounter host;
  vsp::SendQueue q(100);
  q.attach(&host.api, host.conn());
  const std::string nine(9, 'x');  // ten bytes on the wire
  for (int i = 0; i < 5; ++i) {
    const vsp::Queued r = send_line(q, nine);
    EXPECT_EQ(r.status, VSP_OK) << i;      // 50 queued is not above half
    EXPECT_EQ(r.post_flush, i == 0) << i;  // one flush task per turn
  }
  EXPECT_EQ(send_line(q, nine).status, VSP_E_BUSY);  // 60
  EXPECT_EQ(q.take().size(), 60u);
  EXPECT_TRUE(q.written(30));  // 30 left: still busy
  EXPECT_EQ(host.calls, 0);
  EXPECT_TRUE(q.written(10));  // 20 left, under a quarter
  EXPECT_EQ(host.calls, 1);
  EXPECT_FALSE(q.written(20));
  EXPECT_EQ(host.calls, 1);  // owed once, told once
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(send_line(q, nine).post_flush);  // take() let the next send post again
}

TEST(SendQueue, OverflowIsRefusedAndCloses) {
  vsp::SendQueue q(20);
  EXPECT_EQ(send_line(q, "0123456789abcd").status, VSP_E_BUSY);  // 15 of 20
  const vsp::Queued r = send_line(q, "too much");
  EXPECT_EQ(r.status, VSP_E_OVERFLOW);
  EXPECT_FALSE(r.post_flush);
  EXPECT_TRUE(q.overflowed());
  EXPECT_TRUE(q.closing());
  EXPECT_EQ(send_line(q, "x").status, VSP_E_CLOSED);
  EXPECT_FALSE(q.request_close());
  EXPECT_EQ(q.take(), "0123456789abcd\n");  // the refused one was not queued
  EXPECT_EQ(q.overflow_reason(), "send queue exceeded send_queue_bytes (20)");
}

TEST(SendQueue, PartialWritesKeepTheOrder) {
  vsp::SendQueue q(1000);
  const vsp_msg two[] = {{"abc", 3}, {"def", 3}};
  EXPECT_EQ(q.send_lines(two, 2).status, VSP_OK);
  EXPECT_EQ(q.take(), "abc\ndef\n");
  EXPECT_TRUE(q.written(5));
  EXPECT_EQ(q.unwritten(), "ef\n");
  send_line(q, "gh");
  EXPECT_EQ(q.take(), "ef\n");  // the rest goes first
  EXPECT_TRUE(q.written(3));    // "gh\n" waits
  EXPECT_EQ(q.take(), "gh\n");
  EXPECT_FALSE(q.written(3));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.take(), "");
}

TEST(SendQueue, DirectWritesOnlyWhenAllowedAndIdle) {
  vsp::SendQueue q(1000);
  std::string wire;
  std::size_t room = 2;  // the socket takes this much, then is full
  auto write_now = [&](const vsp_msg* m, std::size_t n) {
    std::string lines;
    for (std::size_t i = 0; i < n; ++i) lines.append(m[i].data, m[i].len).push_back('\n');
    const std::size_t took = std::min(room, lines.size());
    wire += lines.substr(0, took);
    room -= took;
    return took;
  };
  const vsp_msg abcd{"abcd", 4};
  EXPECT_TRUE(q.send_lines(&abcd, 1, write_now).post_flush);  // not allowed yet: all queued
  EXPECT_EQ(wire, "");
  EXPECT_EQ(q.take(), "abcd\n");
  EXPECT_FALSE(q.written(5));

  q.allow_direct_writes();
  room = 2;
  const vsp::Queued r = q.send_lines(&abcd, 1, write_now);
  EXPECT_EQ(wire, "ab");  // a partial line on the wire; its rest is queued first
  EXPECT_TRUE(r.post_flush);
  room = 100;
  const vsp_msg ef{"ef", 2};
  q.send_lines(&ef, 1, write_now);  // something is queued: no direct write may pass it
  EXPECT_EQ(wire, "ab");
  EXPECT_EQ(q.take(), "cd\nef\n");
  q.send_lines(&ef, 1, write_now);  // and none while a write is in flight
  EXPECT_EQ(wire, "ab");
  EXPECT_TRUE(q.written(6));
  EXPECT_EQ(q.take(), "ef\n");
  EXPECT_FALSE(q.written(3));
  q.send_lines(&ef, 1, write_now);  // idle: straight out, nothing queued, no flush
  EXPECT_EQ(wire, "abef\n");
  EXPECT_TRUE(q.empty());
}

TEST(SendQueue, FirstCloseWinsAndNoWritableWhileClosing) {
  WritableCounter host;
  vsp::SendQueue q(40);
  q.attach(&host.api, host.conn());
  EXPECT_EQ(send_line(q, std::string(29, 'x')).status, VSP_E_BUSY);
  EXPECT_TRUE(q.request_close(VSP_E_INVALID, "bye"));
  EXPECT_FALSE(q.request_close(VSP_OK, "again"));
  EXPECT_EQ(q.close_request().code, VSP_E_INVALID);
  EXPECT_EQ(q.close_request().reason, "bye");
  EXPECT_EQ(send_line(q, "late").status, VSP_E_CLOSED);
  EXPECT_FALSE(q.empty());  // the writer still drains what was queued before the close
  EXPECT_EQ(q.take().size(), 30u);
  EXPECT_FALSE(q.written(30));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(host.calls, 0);  // the host is closing it: it wants nothing more
}

TEST(SendQueue, FinishDropsEverything) {
  vsp::SendQueue q(1000);
  send_line(q, "queued");
  q.finish();
  EXPECT_TRUE(q.finished());
  EXPECT_TRUE(q.closing());
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.take(), "");
  EXPECT_EQ(send_line(q, "x").status, VSP_E_CLOSED);
  EXPECT_FALSE(q.request_close());
}

TEST(SendQueue, FlushPostingIsClaimedOnceAndRetried) {
  vsp::SendQueue q(1000);
  EXPECT_TRUE(q.claim_flush());
  EXPECT_FALSE(q.claim_flush());
  EXPECT_FALSE(send_line(q, "a").post_flush);  // one is on its way
  q.retry_post();                              // ... it could not be posted after all
  EXPECT_TRUE(send_line(q, "b").post_flush);
  q.flush_running();
  EXPECT_TRUE(send_line(q, "c").post_flush);
}

TEST(MessageQueue, WholeMessagesInOrderWithTheSameAccounting) {
  WritableCounter host;
  vsp::MessageQueue q(100);
  q.attach(&host.api, host.conn());
  EXPECT_EQ(q.next(), nullptr);
  const vsp::Queued first = q.send(std::string(40, 'a'));
  EXPECT_EQ(first.status, VSP_OK);
  EXPECT_TRUE(first.post_flush);
  EXPECT_EQ(q.send(std::string(20, 'b')).status, VSP_E_BUSY);  // 60, no newline added
  const std::string* m = q.next();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(*m, std::string(40, 'a'));
  EXPECT_EQ(q.next(), m);                                      // the same until written
  EXPECT_EQ(q.send(std::string(10, 'c')).status, VSP_E_BUSY);  // 70
  q.written();                                                 // 30 left
  EXPECT_EQ(host.calls, 0);
  m = q.next();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(*m, std::string(20, 'b'));
  q.written();  // 10 left: writable
  EXPECT_EQ(host.calls, 1);
  m = q.next();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(*m, std::string(10, 'c'));
  q.written();
  EXPECT_EQ(q.next(), nullptr);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(host.calls, 1);

  EXPECT_EQ(q.send(std::string(101, 'd')).status, VSP_E_OVERFLOW);
  EXPECT_TRUE(q.overflowed());
  EXPECT_EQ(q.send("e").status, VSP_E_CLOSED);
  q.finish();
  EXPECT_EQ(q.next(), nullptr);
}

TEST(MessageQueue, ABatchIsWhatIsQueuedInOrderCappedAndWrittenTogether) {
  WritableCounter host;
  vsp::MessageQueue q(100);
  q.attach(&host.api, host.conn());
  EXPECT_EQ(q.next_batch(8).count, 0u);
  for (const char* m : {"a", "bb", "ccc", "dddd"}) ASSERT_EQ(q.send(m).status, VSP_OK);
  vsp::MessageQueue::Batch b = q.next_batch(3);  // capped
  ASSERT_EQ(b.count, 3u);
  EXPECT_EQ(b.messages[0], "a");
  EXPECT_EQ(b.messages[2], "ccc");
  EXPECT_EQ(q.next_batch(3).messages, b.messages);  // the same until written
  ASSERT_EQ(q.send("eeeee").status, VSP_OK);        // queued behind, not in this batch
  q.finish();                                       // a write in flight keeps its messages
  EXPECT_EQ(b.messages[1], "bb");
  q.written(3);
  b = q.next_batch(8);
  ASSERT_EQ(b.count, 1u);
  EXPECT_EQ(b.messages[0], "dddd");
  q.written(1);
  EXPECT_EQ(q.next_batch(8).count, 0u);  // "eeeee" was dropped by finish()
}

TEST(MessageQueue, WritingABatchFreesItsBytesAndOwesWritableOnce) {
  WritableCounter host;
  vsp::MessageQueue q(100);
  q.attach(&host.api, host.conn());
  for (int i = 0; i < 6; ++i) q.send(std::string(10, 'x'));  // 60: busy
  EXPECT_EQ(q.send(std::string(10, 'y')).status, VSP_E_BUSY);
  const vsp::MessageQueue::Batch b = q.next_batch(64);
  ASSERT_EQ(b.count, 7u);
  q.written(5);  // 20 left: below a quarter
  EXPECT_EQ(host.calls, 1);
  q.written(2);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(host.calls, 1);
}

}  // namespace
}  // namespace vespid::bridge
