// A connection hub of several shards (docs/design.md, "A core on more than one thread", step 2):
// each transport thread's connections land in one shard, chosen at open, and a connection's
// frames run in its shard's Sequencer, so two shards handle frames at the same time on their own
// threads while each shard still takes one thing at a time.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core_harness.hpp"
#include "fake_transport.hpp"
#include "host/connections/connection_hub.hpp"
#include "host/connections/shard_assignment.hpp"
#include "runtime/sequencer.hpp"
#include "vespid/host.h"

namespace vespid::core {
namespace {

int fake_send(vsp_plugin_instance*, vsp_plugin_conn*, const char*, size_t) {
  return VSP_OK;
}
void fake_close(vsp_plugin_instance*, vsp_plugin_conn*, int, const char*) {}

// A thread that stays alive for the test, so that its id is never reused by a later one: the
// shard assignment tells threads apart by id.
class Worker {
 public:
  Worker() : thread_([this] { loop(); }) {}
  ~Worker() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // Runs fn on this worker and waits for it.
  void run(std::function<void()> fn) {
    std::unique_lock lock(mutex_);
    job_ = std::move(fn);
    cv_.notify_all();
    cv_.wait(lock, [&] { return !job_; });
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || static_cast<bool>(job_); });
      if (stop_) return;
      job_();
      job_ = nullptr;
      cv_.notify_all();
    }
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::function<void()> job_;
  bool stop_ = false;
  std::thread thread_;
};

// Every frame is hot; each records the shard whose Sequencer ran it.
class ShardRecordingDialect final : public Dialect {
 public:
  explicit ShardRecordingDialect(std::vector<Sequencer*> shards) : shards_(std::move(shards)) {}
  std::mutex mutex;
  std::vector<std::string> log;  // guarded by mutex: "<frame>@<shard>"

  std::string_view name() const noexcept override { return "operator.v1"; }
  Task<void> on_open(std::shared_ptr<Connection>) override { co_return; }
  bool on_message_now(Connection&, std::string_view message) override {
    int running = -1;
    for (size_t i = 0; i < shards_.size(); ++i) {
      if (shards_[i]->running_in_this_thread()) running = static_cast<int>(i);
    }
    std::lock_guard lock(mutex);
    log.push_back(std::string(message) + "@" + std::to_string(running));
    return true;
  }
  Task<void> on_message(std::shared_ptr<Connection>, std::string) override { co_return; }
  void on_protocol_error(Connection&, int, const std::string&) override {}
  void on_overload(Connection&, const std::string&) override {}
  void on_frame_failed(Connection&, const std::string&, const std::string&) override {}
  std::vector<std::string> taken() {
    std::lock_guard lock(mutex);
    return log;
  }

 private:
  std::vector<Sequencer*> shards_;
};

class ShardedHub : public ::testing::Test {
 protected:
  void SetUp() override {
    vsp_transport_vtbl vtbl{};
    vtbl.send = &fake_send;
    vtbl.close = &fake_close;
    transport_ = std::make_unique<testing::FakeTransport>(backend_, vtbl);
    auto dialect = std::make_unique<ShardRecordingDialect>(std::vector<Sequencer*>{&s0_, &s1_});
    dialect_ = dialect.get();
    hub_.add_dialect(std::move(dialect));
  }
  void TearDown() override {
    for (vsp_host_conn* c : opened_) hub_.closed(c, VSP_OK, "test over");
  }
  // Opens a connection from the calling thread; returns its record.
  Connection& open() {
    vsp_conn_info info{};
    info.struct_size = sizeof info;
    info.dialect = "operator.v1";
    info.peer_address = "127.0.0.1:5000";
    vsp_error err{};
    vsp_host_conn* out = nullptr;
    EXPECT_EQ(hub_.open(transport_->instance(), info, nullptr, &out, &err), VSP_OK) << err.message;
    std::lock_guard lock(opened_mutex_);
    opened_.push_back(out);
    return *Connection::from(out);
  }
  void deliver(Connection& c, const std::string& frame) {
    EXPECT_EQ(hub_.recv(c.handle(), frame.data(), frame.size()), VSP_OK);
  }
  // The ids of the connections for_each sees from inside `shard`.
  std::set<uint64_t> seen_from(Sequencer& shard) {
    std::set<uint64_t> ids;
    shard.execute([&] { hub_.for_each([&](Connection& c) { ids.insert(c.id()); }); });
    return ids;
  }

  testing::TestBackend backend_{"/tmp"};
  Sequencer s0_, s1_;
  ConnectionHub hub_{{ConnectionHub::Shard{&s0_, nullptr}, ConnectionHub::Shard{&s1_, nullptr}},
                     ConnectionHub::Limits{}};
  ShardRecordingDialect* dialect_ = nullptr;
  std::unique_ptr<testing::FakeTransport> transport_;
  std::mutex opened_mutex_;
  std::vector<vsp_host_conn*> opened_;
};

TEST_F(ShardedHub, EachTransportThreadsConnectionsLandInAShardOfItsOwn) {
  Worker first, second;
  Connection* a = nullptr;
  Connection* b = nullptr;
  Connection* c = nullptr;
  first.run([&] { a = &open(); });
  second.run([&] { b = &open(); });
  first.run([&] { c = &open(); });
  EXPECT_EQ(hub_.shard_count(), 2u);
  EXPECT_EQ(a->shard(), 0u);
  EXPECT_EQ(b->shard(), 1u);
  EXPECT_EQ(c->shard(), 0u);  // the thread keeps its shard
  EXPECT_EQ(seen_from(s0_), (std::set<uint64_t>{a->id(), c->id()}));
  EXPECT_EQ(seen_from(s1_), (std::set<uint64_t>{b->id()}));
  // Outside every shard's Sequencer, no shard's table is read.
  int outside = 0;
  hub_.for_each([&](Connection&) { ++outside; });
  EXPECT_EQ(outside, 0);

  // A frame runs in its connection's shard, whichever thread delivers it.
  deliver(*a, "to-a");
  second.run([&] { deliver(*b, "to-b"); });
  first.run([&] { deliver(*b, "to-b-from-first"); });
  EXPECT_EQ(dialect_->taken(), (std::vector<std::string>{"to-a@0", "to-b@1", "to-b-from-first@1"}));

  // A close empties its shard's table only.
  hub_.closed(b->handle(), VSP_OK, "peer left");
  {
    std::lock_guard lock(opened_mutex_);
    std::erase(opened_, b->handle());
  }
  EXPECT_TRUE(seen_from(s1_).empty());
  EXPECT_EQ(seen_from(s0_).size(), 2u);
}

TEST_F(ShardedHub, AShardHandlesFramesWhileAnotherIsHeld) {
  Worker first, second;
  Connection* a = nullptr;
  Connection* b = nullptr;
  first.run([&] { a = &open(); });
  second.run([&] { b = &open(); });
  ASSERT_EQ(a->shard(), 0u);
  ASSERT_EQ(b->shard(), 1u);

  // Another thread holds shard 0, as a long frame handler would.
  std::atomic<bool> holding{false}, release{false};
  std::thread holder([&] {
    s0_.execute([&] {
      holding = true;
      while (!release) std::this_thread::yield();
    });
  });
  while (!holding) std::this_thread::yield();
  deliver(*a, "to-a");  // waits for shard 0
  deliver(*b, "to-b");  // shard 1 is free: handled now, during this call
  EXPECT_EQ(dialect_->taken(), (std::vector<std::string>{"to-b@1"}));
  release = true;
  holder.join();  // the holder runs what shard 0 queued before it lets go
  EXPECT_EQ(dialect_->taken(), (std::vector<std::string>{"to-b@1", "to-a@0"}));
}

// What the host table gives a transport's I/O thread (io_thread_begin, ABI 1.6): its shard's
// messages are left to it, woken through the transport, and run on it when it answers.
struct WakeCount {
  std::atomic<int> wakes{0};
  static int wake(void* ctx) {
    static_cast<WakeCount*>(ctx)->wakes.fetch_add(1);
    return VSP_OK;
  }
};

TEST_F(ShardedHub, AnIoThreadIsWokenForItsShardsMessagesAndRunsThemItself) {
  backend_.use_connections(&hub_);
  const vsp_host_api* api = host_api();
  vsp_host_instance* hi = transport_->instance().handle();
  Worker first, second;
  WakeCount woke0, woke1;
  vsp_host_io_thread* t0 = nullptr;
  vsp_host_io_thread* t1 = nullptr;
  Connection* c0 = nullptr;
  Connection* c1 = nullptr;
  std::thread::id second_id;
  first.run([&] {
    t0 = api->io_thread_begin(hi, &WakeCount::wake, &woke0);
    c0 = &open();
  });
  second.run([&] {
    t1 = api->io_thread_begin(hi, &WakeCount::wake, &woke1);
    c1 = &open();
    second_id = std::this_thread::get_id();
  });
  ASSERT_NE(t0, nullptr);
  ASSERT_NE(t1, nullptr);
  // Registered before its first connection, each thread has the shard its connections get.
  EXPECT_EQ(c0->shard(), 0u);
  EXPECT_EQ(c1->shard(), 1u);

  // A message to shard 1 from this thread: left for shard 1's thread, woken once.
  std::thread::id ran_on;
  bool ran_in_shard1 = false;
  s1_.post([&] {
    ran_on = std::this_thread::get_id();
    ran_in_shard1 = s1_.running_in_this_thread();
  });
  EXPECT_EQ(woke1.wakes, 1);
  EXPECT_EQ(woke0.wakes, 0);
  EXPECT_EQ(ran_on, std::thread::id{});
  second.run([&] { api->io_thread_run(t1); });
  EXPECT_EQ(ran_on, second_id);
  EXPECT_TRUE(ran_in_shard1);

  // A thread that leaves with a wake-up unanswered: the message still runs, before
  // io_thread_end returns (no other thread of shard 1 to give it to).
  bool ran_after_end = false;
  s1_.post([&] { ran_after_end = true; });
  EXPECT_EQ(woke1.wakes, 2);
  second.run([&] { api->io_thread_end(t1); });
  EXPECT_TRUE(ran_after_end);
  first.run([&] { api->io_thread_end(t0); });
  EXPECT_EQ(woke0.wakes, 0);
}

TEST(ShardAssignment, EachTransportSpreadsItsOwnThreadsRoundTheShards) {
  ShardAssignment shards(2);
  const int bridge = 0, ws = 0;  // two transports, told apart by address
  Worker t1, t2, t3, t4, t5;
  uint32_t got[6] = {};
  t1.run([&] { got[0] = shards.for_this_thread(&bridge); });
  t2.run([&] { got[1] = shards.for_this_thread(&ws); });
  t3.run([&] { got[2] = shards.for_this_thread(&bridge); });
  t4.run([&] { got[3] = shards.for_this_thread(&ws); });
  t5.run([&] { got[4] = shards.for_this_thread(&bridge); });
  t1.run([&] { got[5] = shards.for_this_thread(&bridge); });
  // Each transport's first thread gets shard 0 and its second shard 1, whatever the order the
  // transports' threads came in; a third wraps round; a thread seen before keeps its shard.
  EXPECT_EQ((std::vector<uint32_t>(got, got + 6)), (std::vector<uint32_t>{0, 0, 1, 1, 0, 0}));
  ShardAssignment one(1);
  EXPECT_EQ(one.for_this_thread(&bridge), 0u);
  EXPECT_EQ(one.shards(), 1u);
}

}  // namespace
}  // namespace vespid::core
