#include "store_client.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>

namespace vespid::storage_test {
namespace {

vsp_error new_error() {
  vsp_error e{};
  e.struct_size = sizeof e;
  return e;
}

const uint8_t* u8(std::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

void set(std::string* out, const vsp_error& e) {
  if (out != nullptr) *out = e.message;
}

// Copies the pairs a plugin lends; checks the lent pointers are usable.
struct Collector {
  std::vector<Kv>* out;
  size_t stop_after;
  size_t seen = 0;
};

Kv copy(const vsp_kv* kv) {
  Kv k;
  if (kv->key_len > 0) k.key.assign(reinterpret_cast<const char*>(kv->key), kv->key_len);
  if (kv->value_len > 0) k.value.assign(reinterpret_cast<const char*>(kv->value), kv->value_len);
  k.version = kv->version;
  return k;
}

int collect(void* ctx, const vsp_kv* kv) {
  auto* c = static_cast<Collector*>(ctx);
  c->out->push_back(copy(kv));
  ++c->seen;
  return (c->stop_after > 0 && c->seen >= c->stop_after) ? 1 : 0;
}

// Shared with the plugin's done callback, which may run later on another thread.
struct StopWait {
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
};

void stop_done(void* ctx) {
  auto* w = static_cast<StopWait*>(ctx);
  std::lock_guard<std::mutex> lock(w->mu);
  ++w->calls;
  w->cv.notify_all();
}

}  // namespace

std::string printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

void PrintTo(const Kv& kv, std::ostream* os) {
  *os << "{\"" << printable(kv.key) << "\" = ";
  if (kv.value.size() > 64) {
    *os << "<" << kv.value.size() << " bytes>";
  } else {
    *os << "\"" << printable(kv.value) << "\"";
  }
  *os << " @" << kv.version << "}";
}

Txn& Txn::absent(Bytes key) {
  compares_.push_back({VSP_CMP_ABSENT, std::move(key), 0});
  return *this;
}
Txn& Txn::present(Bytes key) {
  compares_.push_back({VSP_CMP_PRESENT, std::move(key), 0});
  return *this;
}
Txn& Txn::version_is(Bytes key, uint64_t version) {
  compares_.push_back({VSP_CMP_VERSION, std::move(key), version});
  return *this;
}
Txn& Txn::put(Bytes key, Bytes value) {
  writes_.push_back({VSP_WRITE_PUT, std::move(key), std::move(value)});
  return *this;
}
Txn& Txn::del(Bytes key) {
  writes_.push_back({VSP_WRITE_DELETE, std::move(key), {}});
  return *this;
}

vsp_txn Txn::view() const {
  c_compares_.clear();
  for (const auto& c : compares_) c_compares_.push_back({c.op, u8(c.key), c.key.size(), c.version});
  c_writes_.clear();
  for (const auto& w : writes_) {
    c_writes_.push_back({w.op, u8(w.key), w.key.size(),
                         w.op == VSP_WRITE_PUT ? u8(w.value) : nullptr, w.value.size()});
  }
  return {c_compares_.data(), c_compares_.size(), c_writes_.data(), c_writes_.size()};
}

int StoreClient::create(std::string_view config_json, std::string* message) {
  vsp_error err = new_error();
  int rc = vtbl_.life.create(host_.api(), host_.instance(), config_json.data(), config_json.size(),
                             &instance_, &err);
  if (rc != VSP_OK) {
    instance_ = nullptr;
    set(message, err);
  }
  return rc;
}

int StoreClient::start(std::string* message) {
  vsp_error err = new_error();
  int rc = vtbl_.life.start(instance_, &err);
  if (rc != VSP_OK) {
    set(message, err);
  } else {
    started_ = true;
  }
  return rc;
}

bool StoreClient::close() {
  if (instance_ == nullptr) return true;
  if (started_) {
    auto wait = std::make_shared<StopWait>();
    vtbl_.life.stop(instance_, &stop_done, wait.get());
    std::unique_lock<std::mutex> lock(wait->mu);
    if (!wait->cv.wait_for(lock, std::chrono::seconds(10), [&] { return wait->calls > 0; })) {
      // The plugin may still call done later: keep its context alive and never destroy the
      // instance under it.
      new std::shared_ptr<StopWait>(wait);
      instance_ = nullptr;
      started_ = false;
      return false;
    }
  }
  vtbl_.life.destroy(instance_);
  instance_ = nullptr;
  started_ = false;
  return true;
}

int StoreClient::get(std::string_view key, Kv* out, std::string* message) {
  vsp_error err = new_error();
  struct Got {
    Kv* out;
    int calls = 0;
  } got{out};
  int rc = vtbl_.get(
      instance_, u8(key), key.size(),
      [](void* ctx, const vsp_kv* kv) {
        auto* g = static_cast<Got*>(ctx);
        if (g->out != nullptr) *g->out = copy(kv);
        ++g->calls;
        return 0;
      },
      &got, &err);
  if (rc != VSP_OK && rc != VSP_E_NOT_FOUND) set(message, err);
  // The ABI promises exactly one sink call on VSP_OK and none otherwise; report a breach as
  // an internal error so the test sees it.
  if ((rc == VSP_OK) != (got.calls == 1) || got.calls > 1) {
    if (message != nullptr) {
      *message = "get returned " + std::to_string(rc) + " after " + std::to_string(got.calls) +
                 " sink calls";
    }
    return VSP_E_INTERNAL;
  }
  return rc;
}

int StoreClient::scan(std::string_view start, std::string_view end, uint32_t limit, uint32_t flags,
                      std::vector<Kv>* out, size_t stop_after, std::string* message) {
  vsp_error err = new_error();
  Collector c{out, stop_after};
  int rc = vtbl_.scan(instance_, u8(start), start.size(), u8(end), end.size(), limit, flags,
                      &collect, &c, &err);
  if (rc != VSP_OK) set(message, err);
  return rc;
}

namespace {
using CommitFn = int (*)(vsp_plugin_instance*, const vsp_txn*, size_t, vsp_txn_result*, vsp_error*);

Outcome call_commit(CommitFn fn, vsp_plugin_instance* instance, const std::vector<Txn>& txns) {
  std::vector<vsp_txn> views;
  views.reserve(txns.size());
  for (const auto& t : txns) views.push_back(t.view());
  Outcome o;
  // Poison the results so a backend that forgets to fill one is caught.
  o.results.assign(txns.size(), vsp_txn_result{VSP_E_INTERNAL, 0xdeadbeef, 0xdeadbeef});
  vsp_error err = new_error();
  o.status = fn(instance, views.data(), views.size(), o.results.data(), &err);
  if (o.status != VSP_OK) o.message = err.message;
  return o;
}
}  // namespace

Outcome StoreClient::commit(const std::vector<Txn>& txns) {
  return call_commit(vtbl_.commit, instance_, txns);
}

Outcome StoreClient::commit_unsynced(const std::vector<Txn>& txns) {
  return call_commit(vtbl_.commit_unsynced, instance_, txns);
}

int StoreClient::sync(std::string* message) {
  vsp_error err = new_error();
  int rc = vtbl_.sync(instance_, &err);
  if (rc != VSP_OK) set(message, err);
  return rc;
}

}  // namespace vespid::storage_test

namespace vespid::storage_test {

int StoreClient::commit_raw(const vsp_txn* txns, size_t count, vsp_txn_result* results,
                            std::string* message) {
  vsp_error err = new_error();
  int rc = vtbl_.commit(instance_, txns, count, results, &err);
  if (rc != VSP_OK) set(message, err);
  return rc;
}

}  // namespace vespid::storage_test
