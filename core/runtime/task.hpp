// A minimal lazily-started coroutine task for the core's asynchronous flows.
//
// Core handlers are chains of storage round trips (read the pending pairing, check it, commit the
// node and its token, notify). Written as callbacks they nest; as coroutines they read top to
// bottom. A Task starts when awaited (or spawned), resumes its awaiter by symmetric transfer when
// it finishes, and carries an exception to the awaiter. Tasks resume on whatever thread completes
// the awaited operation; the core's awaitables always complete inside the Sequencer, so core
// coroutines only ever run serialised.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <utility>

namespace vespid::core {

template <class T = void>
class [[nodiscard]] Task;

namespace detail {

struct PromiseBase {
  std::coroutine_handle<> continuation;
  std::exception_ptr error;

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> self) noexcept {
      auto next = self.promise().continuation;
      return next ? next : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };

  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
 public:
  struct promise_type : detail::PromiseBase {
    std::optional<T> value;
    Task get_return_object() {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    template <class U>
    void return_value(U&& v) {
      value.emplace(std::forward<U>(v));
    }
  };

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept {
    handle_.promise().continuation = awaiter;
    return handle_;
  }
  T await_resume() {
    auto& p = handle_.promise();
    if (p.error) std::rethrow_exception(p.error);
    return std::move(*p.value);
  }

 private:
  explicit Task(std::coroutine_handle<promise_type> h) : handle_(h) {}
  std::coroutine_handle<promise_type> handle_;
};

template <>
class [[nodiscard]] Task<void> {
 public:
  struct promise_type : detail::PromiseBase {
    Task get_return_object() {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    void return_void() noexcept {}
  };

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept {
    handle_.promise().continuation = awaiter;
    return handle_;
  }
  void await_resume() {
    if (handle_.promise().error) std::rethrow_exception(handle_.promise().error);
  }

 private:
  explicit Task(std::coroutine_handle<promise_type> h) : handle_(h) {}
  std::coroutine_handle<promise_type> handle_;
};

namespace detail {
// The frame of a spawned task: starts at once, frees itself when done.
struct Detached {
  struct promise_type {
    Detached get_return_object() const noexcept { return {}; }
    std::suspend_never initial_suspend() const noexcept { return {}; }
    std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    void unhandled_exception() const noexcept { std::terminate(); }  // spawn catches everything
  };
};

template <class T>
Detached run_detached(Task<T> task, std::function<void(T)> on_value,
                      std::function<void(std::exception_ptr)> on_error) {
  std::exception_ptr failure;
  std::optional<T> value;
  try {
    value.emplace(co_await std::move(task));
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    on_error(failure);
  } else {
    on_value(std::move(*value));
  }
}

inline Detached run_detached_void(Task<void> task, std::function<void()> on_done,
                                  std::function<void(std::exception_ptr)> on_error) {
  std::exception_ptr failure;
  try {
    co_await std::move(task);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    on_error(failure);
  } else {
    on_done();
  }
}
}  // namespace detail

// Starts `task` now (on this thread) and reports its outcome through exactly one callback.
template <class T>
void spawn(Task<T> task, std::function<void(T)> on_value,
           std::function<void(std::exception_ptr)> on_error) {
  detail::run_detached<T>(std::move(task), std::move(on_value), std::move(on_error));
}

inline void spawn(Task<void> task, std::function<void()> on_done,
                  std::function<void(std::exception_ptr)> on_error) {
  detail::run_detached_void(std::move(task), std::move(on_done), std::move(on_error));
}

}  // namespace vespid::core
