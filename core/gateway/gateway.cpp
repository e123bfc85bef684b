#include "gateway/gateway.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include "config/listen_ports.hpp"
#include "gateway/config_probe.hpp"
#include "gateway/exit_codes.hpp"
#include "gateway/instance_id.hpp"
#include "gateway/internal_exposure.hpp"
#include "host/tls/tls_material.hpp"
#include "protocols/bridge/bridge_dialect.hpp"
#include "protocols/cookie_auth.hpp"
#include "protocols/operator/admin_methods.hpp"
#include "protocols/operator/log_methods.hpp"
#include "protocols/operator/node_events.hpp"
#include "protocols/operator/node_methods.hpp"
#include "protocols/operator/operator_dialect.hpp"
#include "protocols/rest/rest_dialect.hpp"
#include "runtime/heap_keep.hpp"
#include "runtime/json_input.hpp"
#include "runtime/logging.hpp"
#include "runtime/run_to_completion.hpp"
#include "services/sessions/session_service.hpp"
#include "services/workflows/cron_trigger.hpp"
#include "services/workflows/run_service.hpp"
#include "services/workflows/workflow_service.hpp"
#include "version.hpp"

namespace vespid::core {

using nlohmann::json;

namespace {
std::shared_ptr<spdlog::logger> L() {
  return log::get("core");
}

vsp_error fresh_error() {
  vsp_error e{};
  e.struct_size = sizeof e;
  return e;
}
}  // namespace

Gateway::Gateway(config::GatewayConfig cfg, std::vector<std::string> plugin_dirs)
    : cfg_(std::move(cfg)),
      plugin_dirs_(std::move(plugin_dirs)),
      loaded_effective_(cfg_.effective) {}

Gateway::~Gateway() {
  // Reached without begin_shutdown only when run() ended by an exception: the last completions
  // then go to the loop, as before, rather than into a core being taken apart.
  storage_entry_.close();
  if (bus_) bus_->stop(std::chrono::milliseconds(cfg_.shutdown_timeout_ms));
  if (storage_) storage_->close();
}

void Gateway::load_instances() {
  catalog_.scan(plugin_dirs_);
  for (const auto& m : catalog_.modules()) {
    if (!m.loadable) L()->warn("plugin module refused: {}", m.error);
  }
  for (const auto& ic : cfg_.instances) {
    try {
      auto found = catalog_.find(ic.plugin);
      instances_.push_back(std::make_unique<PluginInstance>(*this, ic, found));
    } catch (const std::exception& e) {
      const std::string why = with_plugin_suggestion(catalog_, ic.plugin, e.what());
      if (ic.required) {
        throw StartupError(exit_code::kPlugin, "plugin instance \"" + ic.name + "\": " + why);
      }
      L()->warn("optional plugin instance \"{}\" skipped: {}", ic.name, why);
    }
  }
}

void Gateway::open_storage() {
  for (auto& inst : instances_) {
    if (inst->kind() != VSP_KIND_STORAGE) continue;
    if (storage_instance_ != nullptr) {
      throw StartupError(exit_code::kConfig, "more than one storage instance is configured (\"" +
                                                 storage_instance_->name() + "\" and \"" +
                                                 inst->name() +
                                                 "\"); the gateway uses exactly one");
    }
    storage_instance_ = inst.get();
  }
  if (storage_instance_ == nullptr) {
    throw StartupError(exit_code::kConfig,
                       "no storage plugin instance is configured; add one to plugins.instances, "
                       "e.g. {\"name\": \"storage\", \"plugin\": \"sqlite\"}");
  }
  // Completions enter the core on the storage thread while the gateway runs, through the loop
  // before and after (runtime/core_entry.hpp); never refused, even during shutdown, so no
  // coroutine is left waiting forever.
  auto deliver = [this](std::function<void()> fn) { storage_entry_.enter(std::move(fn)); };
  storage_ = std::make_unique<StorageService>(
      storage_instance_->storage(), deliver,
      StorageService::Options{cfg_.storage_max_batch, cfg_.storage_queue_depth,
                              cfg_.storage_defer_syncs});
  try {
    storage_->open(host_api(), storage_instance_->handle(), storage_instance_->config_json());
  } catch (const StorageError& e) {
    storage_instance_->set_state(PluginInstance::State::Failed);
    throw StartupError(exit_code::kStorage, "storage instance \"" + storage_instance_->name() +
                                                "\" (" + storage_instance_->plugin_id() +
                                                ") failed to start: " + e.what());
  }
  storage_instance_->set_state(PluginInstance::State::Started);
  repo_ = std::make_unique<repo::Repository>(*storage_);
  try {
    int schema = run_to_completion(loop_, repo_->migrate());
    log::get("storage")->info("storage \"{}\" ready (schema {}, revision {})",
                              storage_instance_->name(), schema, storage_->last_revision());
  } catch (const std::exception& e) {
    throw StartupError(exit_code::kStorage, std::string("storage: ") + e.what());
  }
}

std::string Gateway::instance_key(const std::string& name) const {
  for (size_t i = 0; i < cfg_.instances.size(); ++i) {
    if (cfg_.instances[i].name == name) return "plugins.instances[" + std::to_string(i) + "]";
  }
  return "plugins.instances";
}

void Gateway::start_bus() {
  PluginInstance* chosen = nullptr;
  for (auto& inst : instances_) {
    if (inst->kind() != VSP_KIND_BUS) continue;
    if (chosen != nullptr) {
      throw StartupError(
          exit_code::kConfig,
          "config error: " + instance_key(inst->name()) + " (\"" + inst->name() + "\", plugin " +
              inst->plugin_id() + "): a second bus instance; a gateway has exactly one bus, and " +
              instance_key(chosen->name()) + " (\"" + chosen->name() + "\") is already one");
    }
    chosen = inst.get();
  }
  if (chosen == nullptr) {
    // An explicit instance list written before the bus existed: the single-machine default.
    std::string name = "bus";
    for (const auto& inst : instances_) {
      if (inst->name() == name) name = "local-bus";
    }
    try {
      config::PluginInstance ic{name, "local", json::object(), true};
      instances_.push_back(std::make_unique<PluginInstance>(*this, ic, catalog_.find("local")));
    } catch (const std::exception& e) {
      throw StartupError(exit_code::kPlugin, std::string("no bus instance is configured and the "
                                                         "default \"local\" bus is missing: ") +
                                                 e.what());
    }
    chosen = instances_.back().get();
    L()->info("no bus instance configured; using the in-process \"local\" bus as \"{}\"", name);
  }
  bus_ = std::make_unique<host::PluginBus>(*chosen);
  try {
    bus_->start();
  } catch (const std::exception& e) {
    // Always required: a gateway meant to be one of many must not quietly run alone.
    throw StartupError(exit_code::kPlugin, "bus instance \"" + chosen->name() + "\" (" +
                                               chosen->plugin_id() +
                                               ") failed to start: " + e.what());
  }
  if (bus_->up()) {
    L()->info("bus \"{}\" ({}) up", chosen->name(), chosen->plugin_id());
  } else {
    L()->warn("bus \"{}\" ({}) started but not connected yet; it keeps trying", chosen->name(),
              chosen->plugin_id());
  }
}

void Gateway::start_transports() {
  for (auto& inst : instances_) {
    if (inst->kind() != VSP_KIND_TRANSPORT) continue;
    vsp_error err = fresh_error();
    vsp_plugin_instance* p = nullptr;
    int rc = inst->life().create(host_api(), inst->handle(), inst->config_json().data(),
                                 inst->config_json().size(), &p, &err);
    if (rc == VSP_OK) {
      inst->set_plugin(p);
      err = fresh_error();
      rc = inst->life().start(p, &err);
      if (rc != VSP_OK) {
        inst->life().destroy(p);
        inst->set_plugin(nullptr);
      }
    }
    if (rc != VSP_OK) {
      inst->set_state(PluginInstance::State::Failed);
      std::string msg = "plugin instance \"" + inst->name() + "\" (" + inst->plugin_id() +
                        ") failed to start: " + err.message;
      if (!inst->required()) {
        L()->warn("{} (optional; continuing)", msg);
        continue;
      }
      if (rc == VSP_E_ADDR_IN_USE) {
        // The operator's next question is which setting moves it.
        msg += "; to listen on another port, change " + config::port_setting_of(cfg_, inst->name());
      }
      int code = (rc == VSP_E_ADDR_IN_USE || rc == VSP_E_PERMISSION) ? exit_code::kListen
                                                                     : exit_code::kPlugin;
      throw StartupError(code, msg);
    }
    inst->set_state(PluginInstance::State::Started);
    L()->info("started {} instance \"{}\" ({})", kind_name(inst->kind()), inst->name(),
              inst->plugin_id());
  }
}

void Gateway::prepare_tls() {
  std::string cert = cfg_.string("tls.cert_file");
  std::string key = cfg_.string("tls.key_file");
  if (cert.empty()) cert = tls::default_cert_path(cfg_.state_dir);
  if (key.empty()) key = tls::default_key_path(cfg_.state_dir);
  try {
    tls::Material m = tls::ensure(cert, key, cfg_.boolean("tls.generate"));
    if (m.generated) {
      L()->info("generated a self-signed TLS certificate {} (sha256 {})", cert,
                tls::fingerprint_sha256(cert));
    }
  } catch (const std::exception& e) {
    throw StartupError(exit_code::kConfig, e.what());
  }
  // Plugins read the effective paths with config_get("tls.cert_file").
  cfg_.effective["tls"]["cert_file"] = cert;
  cfg_.effective["tls"]["key_file"] = key;
}

void Gateway::build_semantics() {
  deadlines_ = std::make_unique<Deadlines>(loop_);
  hub_->use_deadlines(*deadlines_);
  node_store_ = std::make_unique<nodes::NodeStore>(
      *storage_, nodes::NodeStore::Limits{cfg_.integer("pairing.ttl_ms")});
  router_ = std::make_unique<nodes::LocalNodeRouter>(
      *deadlines_, static_cast<int>(cfg_.integer("invoke.max_in_flight_per_node")));
  cluster_settings_.instance_id =
      resolve_instance_id(cfg_.string("cluster.instance_id"), cfg_.state_dir);
  cluster_settings_.subject_prefix = cfg_.string("cluster.subject_prefix");
  cluster_settings_.heartbeat = std::chrono::milliseconds(cfg_.integer("cluster.heartbeat_ms"));
  cluster_settings_.lease = std::chrono::milliseconds(cfg_.integer("cluster.lease_ms"));
  if (cluster_settings_.lease < 2 * cluster_settings_.heartbeat) {
    throw StartupError(exit_code::kConfig,
                       "cluster.lease_ms must be at least twice cluster.heartbeat_ms, or one "
                       "late heartbeat would declare a live instance dead");
  }
  if (!cluster::is_subject_token(cluster_settings_.subject_prefix)) {
    throw StartupError(exit_code::kConfig,
                       "cluster.subject_prefix must be one bus subject token (letters, digits, "
                       "'-', '_')");
  }
  cluster_router_ = std::make_unique<cluster::ClusterNodeRouter>(
      cluster_settings_, bus(), loop_.sequencer(), *deadlines_, *router_);

  build_web_signin();
  auto op = std::make_unique<OperatorDialect>(
      methods_, *repo_, *deadlines_,
      std::chrono::milliseconds(cfg_.integer("limits.anonymous_timeout_ms")),
      web_cookie_auth_.get());
  operator_dialect_ = op.get();
  hub_->add_dialect(std::move(op));
  // Operators hear of nodes coming and going, here and (through presence) on other instances.
  node_events_ = std::make_unique<NodeEvents>(*operator_dialect_, *cluster_router_,
                                              cluster_settings_.instance_id);
  router_->add_observer(node_events_.get());
  cluster_router_->on_remote_presence(
      [events = node_events_.get()](const nodes::ConnectedNode& node, const std::string& instance) {
        events->remote_presence(node, instance);
      });

  BridgeSettings bs;
  bs.server_name = cfg_.string("bridge.server_name");
  if (bs.server_name.empty()) {
    char host[256] = {};
    bs.server_name = ::gethostname(host, sizeof host - 1) == 0 && host[0] ? host : "vespid";
  }
  bs.canvas_host_url = cfg_.string("bridge.canvas_host_url");
  bs.handshake_timeout = std::chrono::milliseconds(cfg_.integer("bridge.handshake_timeout_ms"));
  bs.ping_interval = std::chrono::milliseconds(cfg_.integer("bridge.ping_interval_ms"));
  bs.idle_timeout = std::chrono::milliseconds(cfg_.integer("bridge.idle_timeout_ms"));
  bs.tick_interval = std::chrono::milliseconds(cfg_.integer("bridge.tick_interval_ms"));
  bs.max_pending = static_cast<size_t>(cfg_.integer("pairing.max_pending"));
  bs.max_pending_per_peer = static_cast<size_t>(cfg_.integer("pairing.max_pending_per_peer"));
  bs.max_claims_bytes = static_cast<size_t>(cfg_.integer("pairing.max_claims_bytes"));
  // Through the cluster fan-out (built last), so operators on every instance hear of it.
  auto bridge = std::make_unique<BridgeDialect>(
      bs, *node_store_, *router_, *deadlines_, [this](const nodes::PendingPairing& p) {
        if (fanout_) fanout_->pairing_requested(nodes::to_public_json(p));
      });
  bridge_dialect_ = bridge.get();
  bridge_dialect_->set_pairing_end_announcer(
      [this](const std::string& node_id, const std::string& request_id, const char* how) {
        if (fanout_) fanout_->pairing_resolved(pairing_ended(node_id, request_id, how));
      });
  hub_->add_dialect(std::move(bridge));

  auto rest = std::make_unique<RestDialect>();
  rest->route("GET", "/healthz", [this](RestRequest req) -> Task<RestResponse> {
    (void)req;
    // Liveness plus the one fact an orchestrator wants: storage answers.
    co_return RestResponse{
        200, {{"ok", true}, {"version", kVersion}, {"revision", storage_->last_revision()}}};
  });
  build_node_hosts(*rest);
  register_web_signin(*rest);
  register_metrics(*rest);
  hub_->add_dialect(std::move(rest));

  register_admin_methods(methods_,
                         AdminServices{*repo_, *this, [this] { return status_snapshot(); }});
  register_log_methods(methods_, LogMethodServices{*repo_, *operator_dialect_, log::tail(),
                                                   [this](std::function<void()> fn) {
                                                     loop_.post_core(std::move(fn));
                                                   }});
  register_node_methods(
      methods_,
      NodeServices{*repo_, *node_store_, *cluster_router_, *fanout_,
                   std::chrono::milliseconds(cfg_.integer("invoke.default_timeout_ms")),
                   std::chrono::milliseconds(cfg_.integer("invoke.max_timeout_ms")), *node_events_,
                   [fanout = fanout_.get()](const nlohmann::json& resolved) {
                     fanout->pairing_resolved(resolved);
                   },
                   cluster_settings_.instance_id});
}

void Gateway::start() {
  for (const auto& note : prepare_state_dir(cfg_.state_dir)) {
    log::get("core")->warn("state directory was readable by other users; made private: {}", note);
  }
  json_input::set_max_depth(static_cast<int>(cfg_.integer("limits.json_max_depth")));
  if (!keep_freed_heap(cfg_.integer("memory.heap_keep_bytes"))) {
    log::get("core")->warn("the C library refused memory.heap_keep_bytes = {}; its defaults stay",
                           cfg_.integer("memory.heap_keep_bytes"));
  }
  lock_ = std::make_unique<StateDirLock>(cfg_.state_dir);
  hub_ = std::make_unique<ConnectionHub>(
      loop_, ConnectionHub::Limits{cfg_.max_connections, cfg_.connection_queue_depth,
                                   cfg_.max_anonymous_per_peer});
  load_instances();
  open_storage();
  start_bus();
  prepare_tls();
  build_semantics();
  loop_.sequencer().execute([this] {
    cluster_router_->start();
    fanout_->start();
  });
  net_ = std::make_unique<NetInstances>(
      loop_, cfg_, [this](PluginInstance& t) { return transport_fingerprint(t); });
  net_->start(instances_);  // transports bind through netbind, so it starts first
  start_transports();
}

std::string Gateway::transport_fingerprint(PluginInstance& transport) const {
  // The instance's own cert_file wins, as it does in the transports.
  json own = json::parse(transport.config_json(), nullptr, false);
  std::string cert = cfg_.string("tls.cert_file");
  if (own.is_object() && own.contains("cert_file") && own["cert_file"].is_string()) {
    cert = own["cert_file"].get<std::string>();
  }
  return tls::fingerprint_sha256(cert);
}

int Gateway::run() {
  started_at_ = std::chrono::steady_clock::now();
  ::signal(SIGPIPE, SIG_IGN);  // a peer that vanished must not kill the gateway
  L()->info("vespid-gateway {} starting (state dir {}, config {})", kVersion, cfg_.state_dir,
            cfg_.source);
  for (const auto& w : cfg_.warnings) L()->warn("config: {}", w);
  for (const auto& w : internal_route_exposures(cfg_)) L()->warn("config: {}", w);
  notifier_.status("starting");
  try {
    start();
  } catch (const StartupError& e) {
    // A plugin's unknown config key gets the nearest known one, as in `config check`.
    const std::string why = with_key_suggestion(e.what());
    L()->error("{}", why);
    notifier_.status(std::string("start-up failed: ") + why);
    // Undo what started, in reverse, so nothing is left half-open.
    for (auto it = instances_.rbegin(); it != instances_.rend(); ++it) {
      auto& inst = **it;
      if (inst.kind() == VSP_KIND_TRANSPORT && inst.plugin() != nullptr) stop_and_destroy(inst);
    }
    if (net_) net_->stop();
    if (bus_) bus_->stop(std::chrono::milliseconds(cfg_.shutdown_timeout_ms));
    if (storage_) storage_->close();
    return e.exit_code();
  }

  boost::asio::signal_set signals(loop_.io(), SIGINT, SIGTERM);
  signals.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (!ec) begin_shutdown(exit_code::kOk, sig == SIGINT ? "SIGINT" : "SIGTERM");
  });
  watch_reload_signal();
  L()->info("vespid-gateway ready: {} plugin instance(s) running", instances_.size());
  storage_entry_.open();
  announce_ready();
  // Where people go next: the web client, and how to get in without a password.
  for (const auto& inst : cfg_.instances) {
    if (inst.config.is_object() && inst.config.contains("static_dir") && inst.name == "web") {
      L()->info("web control client: {} (`vespid web login --user NAME` prints a sign-in link)",
                cfg_.string("web.url"));
    }
  }
  loop_.run();
  return exit_code_;
}

void Gateway::stop_and_destroy(PluginInstance& inst) {
  // abi.h: destroy only after stop reported done. The loop is not running here, so drive it
  // until the plugin says so, or until the shutdown timeout (then leak rather than destroy).
  std::atomic<bool> stopped{false};
  inst.life().stop(
      inst.plugin(), [](void* p) { static_cast<std::atomic<bool>*>(p)->store(true); }, &stopped);
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg_.shutdown_timeout_ms);
  loop_.io().restart();
  while (!stopped.load() && std::chrono::steady_clock::now() < deadline) {
    loop_.io().run_for(std::chrono::milliseconds(10));
  }
  if (!stopped.load()) {
    L()->warn("plugin instance \"{}\" did not finish stopping; not destroying it", inst.name());
    return;
  }
  inst.life().destroy(inst.plugin());
  inst.set_plugin(nullptr);
}

void Gateway::begin_shutdown(int code, const std::string& why) {
  if (shutting_down_) return;
  shutting_down_ = true;
  exit_code_ = code;
  storage_entry_.close();  // the loop decides from here when core work stops
  L()->info("shutting down ({}): no new connections, draining", why);
  notifier_.stopping(std::string("shutting down (") + why + "): draining");
  if (reload_signal_) reload_signal_->cancel();
  hub_->refuse_new();
  // Tell the other instances first: they drop this instance's nodes now rather than at the end
  // of its lease, and their nodes' reconnects are not sent here.
  loop_.sequencer().execute([this] {
    if (fanout_) fanout_->stop();
    if (cluster_router_) cluster_router_->stop();
  });
  if (bridge_dialect_)
    loop_.sequencer().execute([this] { bridge_dialect_->keep_pairing_requests(); });
  for (auto& inst : instances_) {
    if (inst->kind() != VSP_KIND_TRANSPORT || inst->state() != PluginInstance::State::Started)
      continue;
    inst->set_state(PluginInstance::State::Stopping);
    transports_stopping_++;
    PluginInstance* raw = inst.get();
    // `done` may come from any thread, possibly before stop() returns.
    struct Ctx {
      Gateway* self;
      PluginInstance* inst;
    };
    auto* ctx = new Ctx{this, raw};
    raw->life().stop(
        raw->plugin(),
        [](void* p) {
          std::unique_ptr<Ctx> c(static_cast<Ctx*>(p));
          Gateway* self = c->self;
          PluginInstance* stopped = c->inst;
          boost::asio::post(self->loop_.io(), [self, stopped] {
            if (stopped->state() != PluginInstance::State::Stopping) return;
            stopped->set_state(PluginInstance::State::Stopped);
            if (--self->transports_stopping_ == 0) self->finish_shutdown();
          });
        },
        ctx);
  }
  shutdown_timer_ = loop_.make_timer([this] {
    L()->warn("shutdown timeout ({} ms) reached with {} transport(s) still draining",
              cfg_.shutdown_timeout_ms, transports_stopping_);
    finish_shutdown();
  });
  shutdown_timer_->arm(std::chrono::milliseconds(cfg_.shutdown_timeout_ms),
                       std::chrono::milliseconds(0));
  if (transports_stopping_ == 0) boost::asio::post(loop_.io(), [this] { finish_shutdown(); });
}

void Gateway::finish_shutdown() {
  if (finished_) return;
  finished_ = true;
  shutdown_timer_.reset();
  if (dispatcher_) loop_.sequencer().execute([this] { dispatcher_->stop(); });
  loop_.sequencer().execute([this] { hub_->close_all("the gateway is shutting down"); });
  if (deadlines_) deadlines_->shutdown();
  for (auto& inst : instances_) {
    // Only instances that finished stopping may be destroyed; a plugin that did not drain in
    // time keeps its memory until the process exits rather than risk a use-after-free.
    if (inst->kind() == VSP_KIND_TRANSPORT && inst->state() == PluginInstance::State::Stopped &&
        inst->plugin() != nullptr) {
      inst->life().destroy(inst->plugin());
      inst->set_plugin(nullptr);
    }
  }
  if (net_) net_->stop();  // after the transports: they hold bind watches
  // After the core's own work is closed: waiting requests fail with Down, nothing is delivered
  // to a handler afterwards.
  if (bus_) bus_->stop(std::chrono::milliseconds(cfg_.shutdown_timeout_ms));
  storage_->close();  // lets queued writes finish and makes them durable
  if (storage_instance_) storage_instance_->set_state(PluginInstance::State::Stopped);
  L()->info("storage flushed; exiting with status {}", exit_code_);
  loop_.close_posts();
  loop_.stop();
}

void Gateway::instance_failed(PluginInstance& inst, int status, const std::string& message) {
  L()->error("plugin instance \"{}\" ({}) failed: {} ({})", inst.name(), inst.plugin_id(), message,
             status);
  inst.set_state(PluginInstance::State::Failed);
  if (inst.required()) begin_shutdown(exit_code::kFailure, "required instance failed");
}

std::string Gateway::config_text(const std::string& path) const {
  const json* v = config::lookup_public(cfg_, path);
  return v ? v->dump() : std::string();
}

json Gateway::status_snapshot() {
  json instances = json::array();
  for (const auto& inst : instances_) {
    json entry = {{"name", inst->name()},
                  {"plugin", inst->plugin_id()},
                  {"kind", kind_name(inst->kind())},
                  {"state", inst->state_name()},
                  {"module", inst->module_file()}};
    // A transport's listener as the transport itself reported it (bound addresses and port),
    // so `status` says where the gateway can be reached, not what the config asked for.
    if (net_) {
      const auto& listeners = net_->publisher().listeners();
      if (auto it = listeners.find(inst->name()); it != listeners.end()) {
        entry["listen"] = {{"addresses", it->second.addresses},
                           {"port", it->second.port},
                           {"tls", it->second.tls}};
      }
    }
    instances.push_back(std::move(entry));
  }
  auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started_at_)
                    .count();
  return {{"version", kVersion},
          {"abi", std::to_string(VSP_ABI_MAJOR) + "." + std::to_string(VSP_ABI_MINOR)},
          {"pid", ::getpid()},
          {"uptimeMs", uptime},
          {"stateDir", cfg_.state_dir},
          {"connections", hub_->open_count()},
          {"nodesOnline", router_ ? router_->connected_count() : 0},
          {"cluster",
           {{"instance", cluster_settings_.instance_id},
            {"otherInstances", cluster_router_ ? cluster_router_->presence().instance_count() : 0},
            {"nodesElsewhere", cluster_router_ ? cluster_router_->presence().remote_count() : 0}}},
          {"instances", instances},
          {"bus", bus_ ? json{{"instance", bus_->instance_name()},
                              {"plugin", std::string(bus_->plugin_name())},
                              {"up", bus_->up()}}
                       : json(nullptr)},
          {"storage",
           {{"instance", storage_instance_->name()},
            {"plugin", storage_instance_->plugin_id()},
            {"revision", storage_->last_revision()},
            {"commits", storage_->commits()},
            {"batches", storage_->batches()}}}};
}

void Gateway::close_after_this_turn(Connection& c, const char* reason) {
  auto conn = c.shared_from_this();
  loop_.sequencer().execute([conn, reason] { conn->close(VSP_E_PERMISSION, reason); });
}

int Gateway::membership_removed(const std::string& org_id, const std::string& user_id) {
  return fanout_ ? fanout_->membership_removed(org_id, user_id)
                 : close_member_here(org_id, user_id);
}

void Gateway::user_rights_changed(const std::string& user_id) {
  if (fanout_) {
    fanout_->user_rights_changed(user_id);
  } else if (operator_dialect_ != nullptr) {
    operator_dialect_->user_rights_changed(user_id);
  }
}

int Gateway::access_token_revoked(const std::string& token_id) {
  return fanout_ ? fanout_->access_token_revoked(token_id) : close_token_holders_here(token_id);
}

int Gateway::close_member_here(const std::string& org_id, const std::string& user_id) {
  int closed = 0;
  hub_->for_each([&](Connection& c) {
    if (c.principal.role == Role::Operator && c.principal.user_id == user_id &&
        c.principal.org_id == org_id && !c.closing()) {
      c.dialect->on_frame_failed(c, "FORBIDDEN", "your membership in this org was removed");
      c.principal = Principal{};
      close_after_this_turn(c, "membership removed");
      ++closed;
    }
  });
  if (closed > 0) {
    L()->info("user {} removed from org {}: {} open connection(s) closed here", user_id, org_id,
              closed);
  }
  // Their other connections (not bound to that org) stop hearing its events.
  if (operator_dialect_ != nullptr) operator_dialect_->user_rights_changed(user_id);
  return closed;
}

int Gateway::close_token_holders_here(const std::string& token_id) {
  int closed = 0;
  hub_->for_each([&](Connection& c) {
    // A web session opened with the token goes with it (its parent_token_id).
    if (c.principal.role == Role::Operator &&
        (c.principal.token_id == token_id || c.principal.parent_token_id == token_id)) {
      // Demoted now, closed once the current turn has sent its replies: a connection that
      // revoked its own token still hears that it worked.
      c.principal = Principal{};
      close_after_this_turn(c, "the access token was revoked");
      ++closed;
    }
  });
  if (closed > 0) {
    // token_id is an access token's id, or web-session/<id> for a web session that ended.
    L()->info("credential {} revoked: {} open connection(s) closed", token_id, closed);
  }
  return closed;
}

}  // namespace vespid::core
