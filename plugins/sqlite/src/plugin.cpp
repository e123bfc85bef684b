// The plugin's face to the host: lifecycle (create parses config, start opens the file, stop
// closes it) and the module declaration. The storage work itself is in store.cpp.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vespid/plugin.hpp>

#include "config.hpp"
#include "store.hpp"

namespace vespid::sqlite {
namespace {

class SqliteStorage {
 public:
  // Storage thread. Validates the config and resolves the path, but opens nothing: the ABI
  // wants create() free of I/O, and a bad config should fail before any file appears.
  static std::unique_ptr<SqliteStorage> create(vsp::Host host, std::string_view config_json) {
    Config cfg = parse_config(config_json);
    std::string path = resolve_path(cfg.path, host.state_dir());
    return std::unique_ptr<SqliteStorage>(new SqliteStorage(host, cfg, std::move(path)));
  }

  void start() {
    if (store_) throw vsp::Error(VSP_E_INVALID, "sqlite: \"" + path_ + "\" is already started");
    PragmaOutcome pragmas;
    SchemaOutcome schema;
    store_ = Store::open(path_, cfg_, &pragmas, &schema);
    if (schema.upgraded_from != 0) {
      host_.info("sqlite: upgraded the schema of \"" + path_ + "\" from version " +
                 std::to_string(schema.upgraded_from) + " to " + std::to_string(kSchemaVersion) +
                 " (" + std::to_string(schema.rows_moved) +
                 " rows moved; a vespid-sqlite older than this one cannot open it now)");
    }
    if (pragmas.max_page_count > pragmas.requested_page_count) {
      host_.warn("sqlite: \"" + path_ + "\" is already larger than max_size_mb=" +
                 std::to_string(cfg_.max_size_mb) + "; it is capped at its current size (" +
                 std::to_string(pragmas.max_page_count * pragmas.page_size) + " bytes)");
    }
    host_.info("sqlite: opened \"" + path_ + "\" at revision " +
               std::to_string(store_->revision()) + " (synchronous=" + to_string(cfg_.synchronous) +
               (cfg_.max_size_mb ? ", max_size_mb=" + std::to_string(cfg_.max_size_mb) : "") + ")");
  }

  // Nothing is ever in flight between calls (the host calls storage one call at a time on its
  // storage thread), so stopping is closing, and done() runs before stop returns.
  void stop(std::function<void()> done) {
    store_.reset();
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
  SqliteStorage(vsp::Host host, Config cfg, std::string path)
      : host_(host), cfg_(std::move(cfg)), path_(std::move(path)) {}

  Store& open_store() {
    if (!store_) {
      throw vsp::Error(VSP_E_CLOSED,
                       "sqlite: \"" + path_ + "\" is not open (not started, or stopped)");
    }
    return *store_;
  }

  vsp::Host host_;
  Config cfg_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

}  // namespace
}  // namespace vespid::sqlite

VSP_DECLARE_MODULE("vespid-sqlite", "0.1.0",
                   vsp::storage_plugin<vespid::sqlite::SqliteStorage>(
                       "sqlite", "SQLite storage: one file in WAL mode, durable commits"))
