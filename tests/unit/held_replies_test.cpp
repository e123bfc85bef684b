// Replies held for the end of a turn (runtime/end_of_turn.hpp, Connection::send_batched) reach
// the transport in order, together, and never after a close or an unbatched send that follows
// them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core_harness.hpp"
#include "fake_transport.hpp"
#include "host/connections/connection.hpp"
#include "runtime/end_of_turn.hpp"

namespace vespid::core {
namespace {

// What the fake transport was asked to do, in order: "send:x", "batch:x|y", "close".
std::vector<std::string> g_calls;

int fake_send(vsp_plugin_instance*, vsp_plugin_conn*, const char* d, size_t n) {
  g_calls.push_back("send:" + std::string(d, n));
  return VSP_OK;
}
int fake_send_batch(vsp_plugin_instance*, vsp_plugin_conn*, const vsp_msg* m, size_t n) {
  std::string all;
  for (size_t i = 0; i < n; ++i) all += (i ? "|" : "") + std::string(m[i].data, m[i].len);
  g_calls.push_back("batch:" + all);
  return VSP_OK;
}
void fake_close(vsp_plugin_instance*, vsp_plugin_conn*, int, const char*) {
  g_calls.push_back("close");
}

class HeldReplies : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    g_calls.clear();
    vsp_transport_vtbl vtbl{};
    vtbl.send = &fake_send;
    vtbl.close = &fake_close;
    vtbl.send_batch = GetParam() ? &fake_send_batch : nullptr;  // an ABI 1.1 transport: NULL
    transport_ = std::make_unique<testing::FakeTransport>(backend_, vtbl);
    vsp_conn_info info{};
    info.struct_size = sizeof info;
    info.dialect = "operator.v1";
    conn_ = std::make_shared<Connection>(1, transport_->instance(), nullptr, info);
  }
  // What a batch of a, b looks like from this transport.
  std::vector<std::string> together(const std::vector<std::string>& msgs) const {
    if (GetParam()) {
      std::string all;
      for (size_t i = 0; i < msgs.size(); ++i) all += (i ? "|" : "") + msgs[i];
      return {"batch:" + all};
    }
    std::vector<std::string> out;
    for (const auto& m : msgs) out.push_back("send:" + m);
    return out;
  }

  testing::TestBackend backend_{"/tmp"};
  std::unique_ptr<testing::FakeTransport> transport_;
  std::shared_ptr<Connection> conn_;
};

TEST_P(HeldReplies, OutsideATurnABatchedReplyIsSentAtOnce) {
  EXPECT_EQ(conn_->send_batched("a"), VSP_OK);
  EXPECT_EQ(g_calls, std::vector<std::string>{"send:a"});
}

TEST_P(HeldReplies, InsideATurnRepliesWaitForItsEndAndLeaveTogether) {
  {
    end_of_turn::Scope turn;
    conn_->send_batched("a");
    {
      end_of_turn::Scope nested;  // a transport batch inside a core turn: still one turn
      conn_->send_batched("b");
    }
    EXPECT_TRUE(g_calls.empty()) << "held until the outermost end";
    conn_->send_batched("c");
  }
  EXPECT_EQ(g_calls, together({"a", "b", "c"}));
}

// More replies than the write keeps its table for on the stack (16), and exactly that many.
TEST_P(HeldReplies, ATurnOfManyRepliesLeavesWholeAndInOrder) {
  for (int count : {16, 40}) {
    g_calls.clear();
    std::vector<std::string> sent;
    {
      end_of_turn::Scope turn;
      for (int i = 0; i < count; ++i) {
        sent.push_back("r" + std::to_string(i));
        conn_->send_batched(sent.back());
      }
    }
    EXPECT_EQ(g_calls, together(sent)) << count << " replies";
  }
}

TEST_P(HeldReplies, AnUnbatchedSendOrACloseFirstWritesWhatIsHeld) {
  {
    end_of_turn::Scope turn;
    conn_->send_batched("a");
    conn_->send("b");  // e.g. an event: must not overtake the held reply
    conn_->send_batched("c");
    conn_->close(VSP_OK, "bye");
    EXPECT_EQ(conn_->send_batched("d"), VSP_E_CLOSED);
  }
  std::vector<std::string> want = together({"a", "b"});
  for (const auto& c : together({"c"})) want.push_back(c);
  want.push_back("close");
  EXPECT_EQ(g_calls, want);
}

TEST_P(HeldReplies, NothingIsWrittenToAConnectionTheTransportReportedGone) {
  {
    end_of_turn::Scope turn;
    conn_->send_batched("a");
    conn_->mark_transport_gone();
  }
  EXPECT_TRUE(g_calls.empty());
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutSendBatch, HeldReplies, ::testing::Bool());

}  // namespace
}  // namespace vespid::core
