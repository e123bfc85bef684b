// How a frame enters the core (ConnectionHub::recv): a hot frame that finds the core idle and
// nothing of its connection ahead of it is handled by the dialect's on_message_now during the
// transport's call, on the transport's bytes; every other frame is copied and waits its turn, so
// a connection's frames are still handled in order. A hot frame that throws is answered in the
// dialect's form like any other.
#include "host/connections/connection_hub.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <coroutine>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core_harness.hpp"
#include "fake_transport.hpp"
#include "runtime/loop.hpp"

namespace vespid::core {
namespace {

int fake_send(vsp_plugin_instance*, vsp_plugin_conn*, const char*, size_t) {
  return VSP_OK;
}
void fake_close(vsp_plugin_instance*, vsp_plugin_conn*, int, const char*) {}

// Frames starting "hot" are taken at once ("hot-throw" throws there); "slow" holds its task until
// the test lets it go; anything else is handled by a task that ends at once.
class FakeDialect final : public Dialect {
 public:
  std::vector<std::string> log;
  std::coroutine_handle<> held;

  std::string_view name() const noexcept override { return "operator.v1"; }
  Task<void> on_open(std::shared_ptr<Connection>) override { co_return; }
  bool on_message_now(Connection&, std::string_view message) override {
    if (!message.starts_with("hot")) return false;
    if (message == "hot-throw") throw std::runtime_error("a defect");
    log.push_back("now:" + std::string(message));
    return true;
  }
  Task<void> on_message(std::shared_ptr<Connection>, std::string message) override {
    log.push_back("task:" + message);
    if (message == "slow") co_await Hold{this};
    co_return;
  }
  void on_protocol_error(Connection&, int, const std::string&) override {}
  void on_overload(Connection&, const std::string&) override {}
  void on_frame_failed(Connection&, const std::string& code, const std::string&) override {
    log.push_back("failed:" + code);
  }

 private:
  struct Hold {
    FakeDialect* d;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { d->held = h; }
    void await_resume() const noexcept {}
  };
};

class Hub : public ::testing::Test {
 protected:
  void SetUp() override {
    vsp_transport_vtbl vtbl{};
    vtbl.send = &fake_send;
    vtbl.close = &fake_close;
    transport_ = std::make_unique<testing::FakeTransport>(backend_, vtbl);
    auto dialect = std::make_unique<FakeDialect>();
    dialect_ = dialect.get();
    hub_.add_dialect(std::move(dialect));
    vsp_conn_info info{};
    info.struct_size = sizeof info;
    info.dialect = "operator.v1";
    info.peer_address = "127.0.0.1:5000";
    vsp_error err{};
    ASSERT_EQ(hub_.open(transport_->instance(), info, nullptr, &conn_, &err), VSP_OK)
        << err.message;
  }
  void TearDown() override {
    if (dialect_->held) {
      loop().sequencer().execute([&] { std::exchange(dialect_->held, {}).resume(); });
    }
    hub_.closed(conn_, VSP_OK, "test over");
  }
  Loop& loop() { return backend_.loop(); }
  // What the transport does: hands over its buffer for the length of the call, then reuses it.
  void deliver(const std::string& frame) {
    std::string buffer = frame;
    ASSERT_EQ(hub_.recv(conn_, buffer.data(), buffer.size()), VSP_OK);
    buffer.assign(buffer.size(), 'x');
  }

  testing::TestBackend backend_{"/tmp"};
  ConnectionHub hub_{backend_.loop(), ConnectionHub::Limits{}};
  FakeDialect* dialect_ = nullptr;
  std::unique_ptr<testing::FakeTransport> transport_;
  vsp_host_conn* conn_ = nullptr;
};

TEST_F(Hub, AHotFrameIsHandledDuringTheTransportsCall) {
  deliver("hot-1");
  EXPECT_EQ(dialect_->log, (std::vector<std::string>{"now:hot-1"}));
  deliver("cold-1");
  EXPECT_EQ(dialect_->log, (std::vector<std::string>{"now:hot-1", "task:cold-1"}));
}

TEST_F(Hub, AHotFrameBehindABusyFrameWaitsItsTurnAsACopy) {
  deliver("slow");
  deliver("hot-2");   // the connection is busy: kept, not handled now
  deliver("cold-2");  // behind it
  EXPECT_EQ(dialect_->log, (std::vector<std::string>{"task:slow"}));
  ASSERT_TRUE(dialect_->held);
  loop().sequencer().execute([&] {
    auto h = std::exchange(dialect_->held, {});
    h.resume();
  });
  // The kept frames are the ones sent, not the buffer the transport wrote over since.
  EXPECT_EQ(dialect_->log, (std::vector<std::string>{"task:slow", "now:hot-2", "task:cold-2"}));
}

TEST_F(Hub, AFrameThatFindsTheCoreBusyIsCopiedAndHandledWhenItIsFree) {
  // Another thread holds the core while the transport delivers.
  std::atomic<bool> holding{false}, release{false};
  std::thread holder([&] {
    loop().sequencer().execute([&] {
      holding = true;
      while (!release) std::this_thread::yield();
    });
  });
  while (!holding) std::this_thread::yield();
  deliver("hot-3");
  EXPECT_TRUE(dialect_->log.empty());  // nothing ran beside the holder
  release = true;
  holder.join();  // the holder runs what was queued before it lets go
  EXPECT_EQ(dialect_->log, (std::vector<std::string>{"now:hot-3"}));
}

TEST_F(Hub, AHotFrameThatThrowsIsAnsweredAndTheNextOneStillRuns) {
  deliver("hot-throw");
  deliver("hot-4");
  EXPECT_EQ(dialect_->log, (std::vector<std::string>{"failed:INTERNAL", "now:hot-4"}));
}

}  // namespace
}  // namespace vespid::core
