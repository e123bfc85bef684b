#include "runtime/task.hpp"

#include <gtest/gtest.h>

#include <coroutine>
#include <functional>
#include <stdexcept>
#include <string>

namespace vespid::core {
namespace {

// An awaitable resumed by hand, standing in for a storage completion.
struct Gate {
  std::coroutine_handle<> waiting;
  int value = 0;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { waiting = h; }
  int await_resume() const noexcept { return value; }
  void open(int v) {
    value = v;
    auto h = waiting;
    waiting = {};
    h.resume();
  }
};

Task<int> add_after(Gate& g, int base) {
  int v = co_await g;
  co_return base + v;
}

Task<std::string> outer(Gate& g) {
  Task<int> inner = add_after(g, 40);
  int n = co_await std::move(inner);
  co_return "n=" + std::to_string(n);
}

Task<int> fails() {
  throw std::runtime_error("nope");
  co_return 0;
}

Task<void> nothing(bool& ran) {
  ran = true;
  co_return;
}

TEST(Task, ValuesFlowThroughNestedAwaitsAcrossSuspension) {
  Gate gate;
  std::string result;
  spawn<std::string>(
      outer(gate), [&](std::string v) { result = v; }, [](std::exception_ptr) {});
  EXPECT_TRUE(result.empty()) << "suspended until the gate opens";
  gate.open(2);
  EXPECT_EQ(result, "n=42");
}

TEST(Task, ExceptionsReachTheErrorCallback) {
  std::string error;
  spawn<int>(
      fails(), [](int) {},
      [&](std::exception_ptr e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          error = ex.what();
        }
      });
  EXPECT_EQ(error, "nope");
}

TEST(Task, VoidTasksComplete) {
  bool ran = false, done = false;
  spawn(
      nothing(ran), [&] { done = true; }, [](std::exception_ptr) {});
  EXPECT_TRUE(ran);
  EXPECT_TRUE(done);
}

TEST(Task, AnUnstartedTaskIsFreedWithoutRunning) {
  bool ran = false;
  { Task<void> t = nothing(ran); }
  EXPECT_FALSE(ran) << "tasks are lazy";
}

}  // namespace
}  // namespace vespid::core
