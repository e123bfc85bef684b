#include "local_bus.hpp"

#include <algorithm>
#include <random>
#include <vespid/bus_subject.hpp>
#include <vespid/plugin.hpp>

namespace vespid::localbus {
namespace {

std::string random_inbox_prefix() {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "_INBOX.";
  for (int i = 0; i < 4; ++i) {
    uint32_t v = rd();
    for (int j = 0; j < 8; ++j, v >>= 4) out.push_back(kHex[v & 0xf]);
  }
  return out + ".";
}

[[noreturn]] void refuse(int status, const std::string& message) {
  throw vsp::Error(status, "local bus: " + message);
}

void check_subject(std::string_view subject) {
  if (auto problem = vsp::bus::subject_problem(subject, false); !problem.empty()) {
    refuse(VSP_E_INVALID, problem);
  }
}

}  // namespace

LocalBus::LocalBus(Config cfg) : cfg_(cfg), inbox_prefix_(random_inbox_prefix()) {}

LocalBus::~LocalBus() {
  stop();
}

void LocalBus::start() {
  std::lock_guard lock(mu_);
  if (running_ || stopping_) return;
  running_ = true;
  thread_ = std::thread([this] { run(); });
  delivery_thread_ = thread_.get_id();
}

bool LocalBus::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

void LocalBus::stop() {
  std::vector<Completion> failed;
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    running_ = false;
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(mu_);
    queue_.clear();
    queued_bytes_ = 0;
    while (!requests_.empty()) {
      failed.push_back(take_request_locked(requests_.begin()->first, VSP_E_CLOSED, {}));
    }
    deadlines_.clear();
  }
  for (auto& c : failed) c.fn(c.ctx, c.status, nullptr, 0);
}

void LocalBus::check_size(std::string_view subject, std::string_view data) const {
  if (data.size() > cfg_.max_payload_bytes) {
    refuse(VSP_E_OVERFLOW, "a payload of " + std::to_string(data.size()) + " bytes on \"" +
                               std::string(subject) + "\" exceeds max_payload_bytes (" +
                               std::to_string(cfg_.max_payload_bytes) + ")");
  }
}

void LocalBus::enqueue_locked(Item item) {
  if (!running_) refuse(VSP_E_CLOSED, "not running");
  if (queued_bytes_ + item.bytes() > cfg_.max_queued_bytes) {
    refuse(VSP_E_OVERFLOW, "the delivery queue holds " + std::to_string(queued_bytes_) +
                               " bytes; max_queued_bytes (" +
                               std::to_string(cfg_.max_queued_bytes) + ") leaves no room for " +
                               std::to_string(item.bytes()) + " more (subscribers are slow)");
  }
  queued_bytes_ += item.bytes();
  queue_.push_back(std::move(item));
  wake_.notify_one();
}

void LocalBus::publish(std::string_view subject, std::string_view reply_to, std::string_view data) {
  check_subject(subject);
  if (!reply_to.empty()) check_subject(reply_to);
  check_size(subject, data);
  Item item{std::string(subject), std::string(reply_to), std::string(data)};
  std::lock_guard lock(mu_);
  enqueue_locked(std::move(item));
}

uint64_t LocalBus::subscribe(std::string_view pattern, std::string_view group, vsp_bus_msg_fn fn,
                             void* ctx) {
  if (auto problem = vsp::bus::subject_problem(pattern, true); !problem.empty()) {
    refuse(VSP_E_INVALID, problem);
  }
  if (!group.empty()) {
    if (auto problem = vsp::bus::queue_group_problem(group); !problem.empty()) {
      refuse(VSP_E_INVALID, problem);
    }
  }
  std::lock_guard lock(mu_);
  if (!running_) refuse(VSP_E_CLOSED, "not running");
  const uint64_t id = ++next_sub_;
  subs_.emplace(id,
                std::make_shared<Sub>(Sub{id, std::string(pattern), std::string(group), fn, ctx}));
  if (vsp::bus::has_wildcard(pattern)) {
    wild_.push_back(id);
  } else {
    exact_[std::string(pattern)].push_back(id);
  }
  return id;
}

void LocalBus::unsubscribe(uint64_t handle) {
  std::unique_lock lock(mu_);
  auto it = subs_.find(handle);
  if (it == subs_.end()) return;
  const std::string pattern = it->second->pattern;
  subs_.erase(it);
  auto drop = [handle](std::vector<uint64_t>& ids) {
    ids.erase(std::remove(ids.begin(), ids.end(), handle), ids.end());
  };
  if (vsp::bus::has_wildcard(pattern)) {
    drop(wild_);
  } else if (auto e = exact_.find(pattern); e != exact_.end()) {
    drop(e->second);
    if (e->second.empty()) exact_.erase(e);
  }
  // The ABI's promise for safe teardown: once we return, fn is not running. From inside a
  // callback on the delivery thread, the running call is the caller's own.
  if (std::this_thread::get_id() != delivery_thread_) {
    delivered_.wait(lock, [&] { return delivering_ != handle; });
  }
}

void LocalBus::request(std::string_view subject, std::string_view data, uint32_t timeout_ms,
                       vsp_bus_reply_fn fn, void* ctx) {
  check_subject(subject);
  check_size(subject, data);
  const uint32_t ms = timeout_ms ? timeout_ms : cfg_.request_timeout_ms;
  std::lock_guard lock(mu_);
  const uint64_t id = ++next_request_;
  std::string inbox = inbox_prefix_ + std::to_string(id);
  Item item{std::string(subject), inbox, std::string(data), id};
  enqueue_locked(std::move(item));  // throws before anything is registered
  const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  inboxes_.emplace(inbox, id);
  requests_.emplace(id, Pending{fn, ctx, std::move(inbox), deadline});
  deadlines_.emplace(deadline, id);
}

LocalBus::Completion LocalBus::take_request_locked(uint64_t id, int status, std::string data) {
  auto it = requests_.find(id);
  Completion c{it->second.fn, it->second.ctx, status, std::move(data)};
  inboxes_.erase(it->second.inbox);
  requests_.erase(it);
  return c;
}

void LocalBus::expire_locked(Clock::time_point now, std::vector<Completion>& done) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const uint64_t id = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    if (requests_.count(id)) done.push_back(take_request_locked(id, VSP_E_TIMEOUT, {}));
  }
}

std::vector<std::shared_ptr<LocalBus::Sub>> LocalBus::route_locked(const Item& item,
                                                                   std::vector<Completion>& done) {
  if (auto in = inboxes_.find(item.subject); in != inboxes_.end()) {
    done.push_back(take_request_locked(in->second, VSP_OK, item.data));
  }
  std::vector<uint64_t> ids;
  if (auto e = exact_.find(item.subject); e != exact_.end()) ids = e->second;
  for (uint64_t id : wild_) {
    if (vsp::bus::matches(subs_.at(id)->pattern, item.subject)) ids.push_back(id);
  }
  // Subscription order, so that round robin within a group is predictable.
  std::sort(ids.begin(), ids.end());
  std::vector<std::shared_ptr<Sub>> out;
  std::map<std::string, std::vector<std::shared_ptr<Sub>>> groups;
  for (uint64_t id : ids) {
    const auto& sub = subs_.at(id);
    if (sub->group.empty()) {
      out.push_back(sub);
    } else {
      groups[sub->group].push_back(sub);
    }
  }
  for (auto& [name, members] : groups) {
    out.push_back(members[group_turn_[name]++ % members.size()]);
  }
  if (out.empty() && item.request != 0 && requests_.count(item.request)) {
    done.push_back(take_request_locked(item.request, VSP_E_NOT_FOUND, {}));
  }
  return out;
}

void LocalBus::deliver(const std::shared_ptr<Sub>& sub, const Item& item) {
  {
    std::lock_guard lock(mu_);
    if (!subs_.count(sub->id)) return;  // unsubscribed since it was routed
    delivering_ = sub->id;
  }
  vsp_bus_msg msg{sizeof(vsp_bus_msg),  item.subject.data(),
                  item.subject.size(),  item.reply_to.data(),
                  item.reply_to.size(), reinterpret_cast<const uint8_t*>(item.data.data()),
                  item.data.size()};
  sub->fn(sub->ctx, &msg);
  std::lock_guard lock(mu_);
  delivering_ = 0;
  delivered_.notify_all();
}

void LocalBus::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    std::vector<Completion> done;
    expire_locked(Clock::now(), done);
    std::vector<std::shared_ptr<Sub>> targets;
    Item item;
    bool have_item = false;
    if (!queue_.empty()) {
      item = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= item.bytes();
      targets = route_locked(item, done);
      have_item = true;
    }
    if (done.empty() && !have_item) {
      if (deadlines_.empty()) {
        wake_.wait(lock);
      } else {
        wake_.wait_until(lock, deadlines_.begin()->first);
      }
      continue;
    }
    lock.unlock();
    for (auto& c : done) {
      c.fn(c.ctx, c.status,
           c.status == VSP_OK ? reinterpret_cast<const uint8_t*>(c.data.data()) : nullptr,
           c.status == VSP_OK ? c.data.size() : 0);
    }
    for (const auto& sub : targets) deliver(sub, item);
    lock.lock();
  }
}

}  // namespace vespid::localbus
