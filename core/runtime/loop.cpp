#include "runtime/loop.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <stdexcept>
#include <system_error>

#include "vespid/host.h"

namespace vespid::core {

namespace asio = boost::asio;

struct Loop::Watch {
  int fd;
  uint32_t events;
  std::function<void(uint32_t)> fn;
  bool freed = false;
};

namespace {
uint32_t to_epoll(uint32_t events) {
  uint32_t e = 0;
  if (events & VSP_WATCH_READ) e |= EPOLLIN;
  if (events & VSP_WATCH_WRITE) e |= EPOLLOUT;
  return e;
}
uint32_t from_epoll(uint32_t e) {
  uint32_t r = 0;
  if (e & (EPOLLIN | EPOLLPRI)) r |= VSP_WATCH_READ;
  if (e & EPOLLOUT) r |= VSP_WATCH_WRITE;
  if (e & EPOLLERR) r |= VSP_WATCH_ERROR;
  if (e & (EPOLLHUP | EPOLLRDHUP)) r |= VSP_WATCH_HUP;
  return r;
}
}  // namespace

Loop::Loop() : epoll_desc_(io_) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  epoll_desc_.assign(epoll_fd_);
  // Work that a busy transport thread hands back is drained here, on the loop thread.
  sequencer_.set_handoff([this] { asio::post(io_, [this] { sequencer_.drain(); }); }, 4096);
}

Loop::~Loop() {
  boost::system::error_code ec;
  epoll_desc_.close(ec);  // closes epoll_fd_
  for (Watch* w : graveyard_) delete w;
}

bool Loop::post(std::function<void()> fn) {
  if (closed_.load()) return false;
  asio::post(io_, std::move(fn));
  return true;
}

bool Loop::post_core(std::function<void()> fn) {
  if (closed_.load()) return false;
  asio::post(io_, [this, fn = std::move(fn)]() mutable { sequencer_.execute(std::move(fn)); });
  return true;
}

void Loop::run() {
  auto guard = asio::make_work_guard(io_);
  io_.restart();  // start-up may have driven the context with run_one() already
  io_.run();
}

// ---- Timers ----

struct Loop::Timer::State {
  explicit State(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
  std::function<void()> fn;
  std::chrono::milliseconds repeat{0};
  uint64_t generation = 0;  // bumps on every arm/disarm so stale completions are ignored
  bool alive = true;
};

Loop::Timer::Timer(asio::io_context& io, std::function<void()> fn)
    : state_(std::make_shared<State>(io)) {
  state_->fn = std::move(fn);
}

Loop::Timer::~Timer() {
  state_->alive = false;
  state_->generation++;
  state_->timer.cancel();
}

void Loop::Timer::arm(std::chrono::milliseconds delay, std::chrono::milliseconds repeat) {
  state_->repeat = repeat;
  schedule(delay);
}

void Loop::Timer::disarm() {
  state_->generation++;
  state_->timer.cancel();
}

namespace {
// One wait of a timer. A repeating timer re-arms before running its callback, so the callback may
// disarm or re-arm it; every arm bumps the generation, which invalidates any older wait.
void start_wait(const std::shared_ptr<Loop::Timer::State>& s, std::chrono::milliseconds delay);
}  // namespace

void Loop::Timer::schedule(std::chrono::milliseconds delay) {
  start_wait(state_, delay);
}

namespace {
void start_wait(const std::shared_ptr<Loop::Timer::State>& s, std::chrono::milliseconds delay) {
  uint64_t gen = ++s->generation;
  s->timer.expires_after(delay);
  s->timer.async_wait([s, gen](const boost::system::error_code&) {
    if (!s->alive || s->generation != gen) return;
    if (s->repeat.count() > 0) start_wait(s, s->repeat);
    s->fn();
  });
}
}  // namespace

std::unique_ptr<Loop::Timer> Loop::make_timer(std::function<void()> fn) {
  return std::make_unique<Timer>(io_, std::move(fn));
}

// ---- Watches ----

Loop::Watch* Loop::watch_new(int fd, uint32_t events, std::function<void(uint32_t)> fn) {
  auto* w = new Watch{fd, events, std::move(fn)};
  epoll_event ev{};
  ev.events = to_epoll(events);
  ev.data.ptr = w;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    delete w;
    return nullptr;
  }
  arm_epoll_wait();
  return w;
}

void Loop::watch_update(Watch* w, uint32_t events) {
  w->events = events;
  epoll_event ev{};
  ev.events = to_epoll(events);
  ev.data.ptr = w;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, w->fd, &ev);
  arm_epoll_wait();
}

void Loop::watch_free(Watch* w) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, w->fd, nullptr);
  w->freed = true;
  if (dispatching_) {
    graveyard_.push_back(w);  // an event for it may still be in this round's array
  } else {
    delete w;
  }
}

void Loop::arm_epoll_wait() {
  if (epoll_waiting_) return;
  epoll_waiting_ = true;
  epoll_desc_.async_wait(asio::posix::descriptor_base::wait_read,
                         [this](const boost::system::error_code& ec) {
                           epoll_waiting_ = false;
                           if (ec) return;
                           dispatch_epoll();
                         });
}

void Loop::dispatch_epoll() {
  epoll_event events[64];
  int n = ::epoll_wait(epoll_fd_, events, 64, 0);
  dispatching_ = true;
  for (int i = 0; i < n; ++i) {
    auto* w = static_cast<Watch*>(events[i].data.ptr);
    if (w->freed) continue;
    uint32_t revents = from_epoll(events[i].events);
    // Report only what was asked for, plus errors and hang-ups which are always reported.
    revents &= (w->events | VSP_WATCH_ERROR | VSP_WATCH_HUP);
    if (revents != 0) w->fn(revents);
  }
  dispatching_ = false;
  for (Watch* w : graveyard_) delete w;
  graveyard_.clear();
  // Level-triggered: a watch still ready (data left unread, or more than 64 events) is reported
  // again on the next round, after other loop work had its turn. Arming the wait is what makes
  // it so: asio re-registers the epoll fd (EPOLL_CTL_MOD) for every wait, and the kernel then
  // reports it ready at once if anything in our set still is. So no second epoll_wait here to
  // find out; it came back empty on almost every round and cost a system call each time.
  arm_epoll_wait();
}

}  // namespace vespid::core
