// GET /metrics as the gateway serves it: the counters and histograms call sites update
// (runtime/gateway_metrics.hpp), then gauges read from the gateway's state at the scrape, so
// that nothing on a hot path keeps a count of what is open or waiting.
#include <unistd.h>

#include <array>

#include "gateway/exit_codes.hpp"
#include "gateway/gateway.hpp"
#include "protocols/bridge/bridge_dialect.hpp"
#include "protocols/rest/metrics_route.hpp"
#include "runtime/crypto.hpp"
#include "runtime/gateway_metrics.hpp"
#include "runtime/logging.hpp"
#include "version.hpp"

namespace vespid::core {

namespace {

constexpr size_t kMinMetricsTokenLength = 16;
constexpr size_t kDialects = static_cast<size_t>(metrics::Dialect::Count);

void gauge(metrics::TextWriter& w, std::string_view name, std::string_view help, int64_t value) {
  w.family(name, help, "gauge");
  w.sample(name, {}, value);
}

}  // namespace

void Gateway::register_metrics(RestDialect& rest) {
  if (!cfg_.boolean("metrics.enabled")) return;  // /metrics is then a 404 like any unknown path
  const std::string token = cfg_.string("metrics.token");
  if (!token.empty() && token.size() < kMinMetricsTokenLength) {
    throw StartupError(exit_code::kConfig,
                       "metrics.token is too short (" + std::to_string(token.size()) +
                           " characters; at least " + std::to_string(kMinMetricsTokenLength) +
                           "): use a long random secret, e.g. `openssl rand -hex 32`");
  }
  register_metrics_route(
      rest, MetricsRouteServices{token.empty() ? std::string() : crypto::sha256_hex(token),
                                 [this] { return metrics_text(); }});
}

std::string Gateway::metrics_text() {
  metrics::TextWriter w;
  metrics::instruments().write(w);

  // Connections open now, by dialect, and whether their principal is known yet. A REST
  // connection stays "open": each of its requests carries its own credentials.
  std::array<std::array<int64_t, 2>, kDialects> conns{};
  hub_->for_each([&](Connection& c) {
    if (c.gone) return;
    conns[static_cast<size_t>(c.dialect_label())][c.principal.role != Role::Anonymous ? 1 : 0]++;
  });
  w.family("vespid_connections",
           "Connections open now, by dialect and state (open: not authenticated, or a REST "
           "connection; authenticated: its handshake gave it a principal).",
           "gauge");
  for (size_t d = 0; d < kDialects; ++d) {
    const std::string_view dialect = metrics::name(static_cast<metrics::Dialect>(d));
    const metrics::Label open[] = {{"dialect", dialect}, {"state", "open"}};
    const metrics::Label auth[] = {{"dialect", dialect}, {"state", "authenticated"}};
    w.sample("vespid_connections", open, conns[d][0]);
    w.sample("vespid_connections", auth, conns[d][1]);
  }

  int64_t bridge_nodes = 0, node_hosts = 0;
  router_->for_each(
      [&](const nodes::ConnectedNode& n) { (n.kind == "agent" ? node_hosts : bridge_nodes)++; });
  w.family("vespid_nodes_online", "Nodes connected to this instance, by kind.", "gauge");
  const metrics::Label bridge[] = {{"kind", "bridge"}};
  const metrics::Label host[] = {{"kind", "node_host"}};
  w.sample("vespid_nodes_online", bridge, bridge_nodes);
  w.sample("vespid_nodes_online", host, node_hosts);
  gauge(w, "vespid_invokes_in_flight", "Invokes sent to nodes connected here, not answered yet.",
        static_cast<int64_t>(router_->invokes_in_flight()));
  gauge(w, "vespid_dispatch_outstanding", "Dispatches this instance waits for.",
        static_cast<int64_t>(dispatcher_->outstanding()));
  gauge(w, "vespid_dispatch_max_outstanding",
        "dispatch.max_outstanding: more dispatches are refused (outcome overloaded).",
        cfg_.integer("dispatch.max_outstanding"));
  gauge(w, "vespid_storage_queue_depth", "Storage operations waiting for the storage thread.",
        static_cast<int64_t>(storage_->queued()));
  gauge(w, "vespid_storage_queue_capacity",
        "storage.queue_depth: more operations are refused while the queue is this deep.",
        static_cast<int64_t>(cfg_.storage_queue_depth));
  gauge(w, "vespid_pairing_pending",
        "Bridge nodes connected here waiting for an operator's decision on their pairing.",
        static_cast<int64_t>(bridge_dialect_ != nullptr ? bridge_dialect_->pairing_waiting() : 0));

  // How loaded the core is: one logical thread today (docs/design.md, "A core on more than one
  // thread"), so busy seconds per second near 1 say more I/O threads will not add throughput.
  const Sequencer::Load core = loop_.sequencer().load();
  w.family("vespid_core_busy_seconds_total",
           "Wall time some thread held the core (ran core work, or was descheduled holding it).",
           "counter");
  w.sample("vespid_core_busy_seconds_total", {}, static_cast<double>(core.busy_ns) / 1e9);
  w.family("vespid_core_work_total",
           "Items of core work run, by whether they found the core idle (at_once) or waited for "
           "the thread holding it (queued).",
           "counter");
  const metrics::Label at_once[] = {{"path", "at_once"}};
  const metrics::Label queued[] = {{"path", "queued"}};
  w.sample("vespid_core_work_total", at_once, core.ran_at_once);
  w.sample("vespid_core_work_total", queued, core.ran_queued);

  w.family("vespid_plugin_up",
           "1 when the plugin instance is started, 0 when it failed, stopped or is stopping.",
           "gauge");
  for (const auto& inst : instances_) {
    const metrics::Label l[] = {{"instance", inst->name()},
                                {"plugin", inst->plugin_id()},
                                {"kind", kind_name(inst->kind())}};
    w.sample("vespid_plugin_up", l,
             int64_t{inst->state() == PluginInstance::State::Started ? 1 : 0});
  }
  gauge(w, "vespid_bus_up", "1 when the bus between gateway instances is connected.",
        bus_ && bus_->up() ? 1 : 0);
  gauge(w, "vespid_cluster_other_instances",
        "Other gateway instances this one hears from (cluster presence).",
        static_cast<int64_t>(cluster_router_->presence().instance_count()));

  w.family("vespid_build_info", "The gateway's version and plugin ABI; always 1.", "gauge");
  const std::string abi = std::to_string(VSP_ABI_MAJOR) + "." + std::to_string(VSP_ABI_MINOR);
  const metrics::Label build[] = {{"version", kVersion}, {"abi", abi}};
  w.sample("vespid_build_info", build, int64_t{1});
  const auto now = std::chrono::steady_clock::now();
  const double uptime = std::chrono::duration<double>(now - started_at_).count();
  const double wall_now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  w.family("vespid_start_time_seconds", "When the gateway process started (Unix time).", "gauge");
  w.sample("vespid_start_time_seconds", {}, wall_now - uptime);
  w.family("vespid_uptime_seconds", "Seconds since the gateway process started.", "gauge");
  w.sample("vespid_uptime_seconds", {}, uptime);
  return w.take();
}

}  // namespace vespid::core
