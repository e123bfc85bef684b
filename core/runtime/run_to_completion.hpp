// Runs a core task to its end on this thread by driving the loop's io_context, for code that
// runs before the loop does (gateway start-up) or instead of it (tests).
//
// Two asio details live here so nobody trips on them again: completions arrive as posts, so a
// work guard keeps the context from running out of work while none is queued yet; and dropping
// a previous guard stopped the context, so it is restarted first.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <exception>
#include <optional>

#include "runtime/loop.hpp"
#include "runtime/task.hpp"

namespace vespid::core {

template <class T>
T run_to_completion(Loop& loop, Task<T> task) {
  std::optional<T> value;
  std::exception_ptr error;
  bool done = false;
  spawn<T>(
      std::move(task),
      [&](T v) {
        value.emplace(std::move(v));
        done = true;
      },
      [&](std::exception_ptr e) {
        error = e;
        done = true;
      });
  loop.io().restart();
  auto guard = boost::asio::make_work_guard(loop.io());
  while (!done) loop.io().run_one();
  if (error) std::rethrow_exception(error);
  return std::move(*value);
}

}  // namespace vespid::core
