// The plugin's face to the host: lifecycle (create parses the config, start connects, creates
// or checks the schema and opens the pool, stop closes it) and the module declaration. The
// storage work itself is in store.cpp; the I/O in pool.cpp and connection.cpp.
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vespid/plugin.hpp>

#include "config.hpp"
#include "pool.hpp"
#include "schema.hpp"
#include "statements.hpp"
#include "store.hpp"
#include "target.hpp"

namespace vespid::postgres {
namespace {

// 16 random bytes naming this instance in the commit log.
std::string random_owner() {
  std::random_device rd;
  std::string out;
  while (out.size() < 16) {
    const uint32_t v = rd();
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  return out;
}

// Every member runs on the host's storage thread (the lifecycle included).
class PostgresStorage {
 public:
  // Validates the config and works out the target, but connects to nothing: the ABI wants
  // create() free of I/O, and a bad config should fail before any connection is tried.
  static std::unique_ptr<PostgresStorage> create(vsp::Host host, std::string_view config_json) {
    Config cfg = parse_config(config_json);
    Target target =
        resolve_target(cfg, host.state_dir(), "vespid-postgres/" + host.instance_name());
    return std::unique_ptr<PostgresStorage>(
        new PostgresStorage(host, std::move(cfg), std::move(target)));
  }

  void start() {
    if (pool_) throw vsp::Error(VSP_E_INVALID, "postgres: already started");
    // Every start, so that a weak TLS setting toward another machine is never silent.
    if (!target_.tls_warning.empty()) host_.warn(target_.tls_warning);
    pool_ = std::make_unique<Pool>(target_, host_, cfg_.pool_size, cfg_.connect_timeout);
    pool_->start();
    try {
      const auto deadline = Clock::now() + cfg_.request_timeout;
      // Open the whole pool now: a dead server, a wrong password or a certificate that does
      // not verify stops start-up here, naming the server, instead of failing requests later.
      std::vector<Pool::Lease> leases;
      for (unsigned i = 0; i < cfg_.pool_size; ++i) leases.push_back(pool_->acquire(deadline));
      const SchemaState schema = ensure_schema(*pool_, leases.front(), sql_, target_, deadline);
      leases.clear();
      store_ = std::make_unique<Store>(*pool_, sql_, target_, host_, cfg_.request_timeout,
                                       random_owner());
      host_.info(std::string("postgres: ") + (schema.created ? "created" : "opened") +
                 " schema \"" + cfg_.schema + "\" on " + target_.label + " at revision " +
                 std::to_string(schema.revision) + " (schema version " +
                 std::to_string(kSchemaVersion) + ", pool_size " + std::to_string(cfg_.pool_size) +
                 ", sslmode " + target_.sslmode + " from " + target_.sslmode_origin + ")");
    } catch (...) {
      store_.reset();
      pool_->stop();
      pool_.reset();
      throw;
    }
  }

  // Nothing is in flight between calls (the host calls storage one call at a time on its
  // storage thread), so stopping is closing the connections; done() runs before stop returns.
  void stop(std::function<void()> done) {
    store_.reset();
    if (pool_) pool_->stop();
    pool_.reset();
    done();
  }

  int get(std::string_view key, vsp_kv_sink_fn sink, void* ctx) {
    return open_store().get(key, sink, ctx);
  }
  int scan(std::string_view start, std::string_view end, uint32_t limit, uint32_t flags,
           vsp_kv_sink_fn sink, void* ctx) {
    return open_store().scan(start, end, limit, flags, sink, ctx);
  }
  int commit(const vsp_txn* txns, size_t count, vsp_txn_result* results) {
    return open_store().commit(txns, count, results);
  }
  int commit_unsynced(const vsp_txn* txns, size_t count, vsp_txn_result* results) {
    return open_store().commit_unsynced(txns, count, results);
  }
  int sync() { return open_store().sync(); }

 private:
  PostgresStorage(vsp::Host host, Config cfg, Target target)
      : host_(host), cfg_(std::move(cfg)), target_(std::move(target)), sql_(cfg_.schema) {}

  Store& open_store() {
    if (!store_) {
      throw vsp::Error(VSP_E_CLOSED, "postgres: schema \"" + cfg_.schema + "\" on " +
                                         target_.label + " is not open (not started, or stopped)");
    }
    return *store_;
  }

  const vsp::Host host_;
  const Config cfg_;
  const Target target_;
  const Sql sql_;
  // Declared after what they borrow (target_, sql_) and destroyed before it; the store goes
  // before the pool it runs on.
  std::unique_ptr<Pool> pool_;
  std::unique_ptr<Store> store_;
};

}  // namespace
}  // namespace vespid::postgres

VSP_DECLARE_MODULE("vespid-postgres", "0.1.0",
                   vsp::storage_plugin<vespid::postgres::PostgresStorage>(
                       "postgres",
                       "PostgreSQL storage over libpq: a store several gateways can share"))
