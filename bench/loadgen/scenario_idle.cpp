// `idle`: N nodes connect and stay; how much resident memory the gateway spends per node, next
// to what nats-server spends per idle client with one subscription. The TLS transports
// (bridge-tls, wss) are measured next to their plain form in the same run, each on a freshly
// started gateway.
#include <chrono>
#include <filesystem>
#include <thread>

#include "nats.hpp"
#include "scenario_common.hpp"
#include "tls_client.hpp"

namespace vespid::bench {

namespace {

void settle(double s) {
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(s * 1000)));
}

bool is_ws(const std::string& transport) {
  return transport == "ws" || transport == "wss";
}

bool is_tls(const std::string& transport) {
  return transport == "wss" || transport == "bridge-tls";
}

struct Held {
  ConnectStats st;
  double per_node = 0;  // bytes of gateway RSS per node online
  nlohmann::json refused_reasons = nlohmann::json::object();
};

// Restarts the gateway (so neither pairing nor an earlier transport's connections are in the
// figures), connects the nodes over `transport` and holds them for --duration s.
Held hold(Report& report, GatewayRunner& gw, IoPool& pool, const CommonOptions& c,
          const std::string& transport, const std::vector<NodeCred>& bridge_creds,
          const std::vector<WsCred>& ws_creds, const std::string& prefix) {
  gw.stop();
  gw.start();
  settle(c.warmup_s);
  const ProcStats before = read_proc_stats(gw.pid());
  report.add_process("gateway", prefix + "before", before);

  std::shared_ptr<TlsClient> tls;
  if (is_tls(transport)) tls = TlsClient::pinning(gw.tls_cert_file());
  BridgeFleet bridge(pool, tls ? gw.bridge_tls_port() : gw.bridge_port(), tls);
  WsFleet hosts(pool, tls ? gw.wss_port() : gw.ws_port(), tls);
  Held h;
  h.st = is_ws(transport) ? hosts.connect_all(ws_creds, 300, 512)
                          : bridge.connect_all(bridge_creds, 300, 512);
  report.add_figure(prefix + "nodes online", static_cast<double>(h.st.online), "");
  report.add_figure(prefix + "nodes refused", static_cast<double>(h.st.refused), "");
  report.add_figure(prefix + "connect all (512 connects in flight)", h.st.all_s, "s");
  for (const auto& [k, v] : h.st.reasons) h.refused_reasons[k] = v;
  report.add_process("gateway", prefix + "connected", read_proc_stats(gw.pid()));
  settle(c.duration_s);  // held: pings and pongs flow if the hold is long enough
  const ProcStats held = read_proc_stats(gw.pid());
  report.add_process("gateway", prefix + "held", held);
  h.per_node = h.st.online ? (static_cast<double>(held.rss_kib) - before.rss_kib) * 1024.0 /
                                 static_cast<double>(h.st.online)
                           : 0;
  bridge.close_all();
  hosts.close_all();
  return h;
}

}  // namespace

int run_idle(const CommonOptions& c, const IdleOptions& o) {
  raise_nofile(2 * o.nodes + 4096);
  IoPool pool(c.threads);
  Report report("idle");
  nlohmann::json setup = setup_facts(c);
  setup["nodes"] = o.nodes;
  setup["transport"] = o.transport;
  report.set("setup", setup);
  const bool ws = is_ws(o.transport);
  const bool tls = is_tls(o.transport);

  GatewayOptions gopts = c.gateway;
  gopts.tls_listeners = tls;
  GatewayRunner gw(gopts);
  gw.start();
  std::vector<NodeCred> bridge_creds;
  std::vector<WsCred> ws_creds;
  if (ws) {
    ws_creds = ensure_ws_creds(gw, o.nodes);
  } else {
    bridge_creds = ensure_bridge_creds(gw, pool, o.nodes);
  }

  // A TLS transport: its plain form first, then the TLS one, each on a fresh gateway.
  const std::string plain_form = ws ? "ws" : "bridge";
  Held plain, secure;
  if (tls) {
    plain = hold(report, gw, pool, c, plain_form, bridge_creds, ws_creds, plain_form + " ");
    secure = hold(report, gw, pool, c, o.transport, bridge_creds, ws_creds, o.transport + " ");
    report.set("refusedReasons",
               {{plain_form, plain.refused_reasons}, {o.transport, secure.refused_reasons}});
  } else {
    plain = hold(report, gw, pool, c, o.transport, bridge_creds, ws_creds, "");
    report.set("refusedReasons", plain.refused_reasons);
  }

  // The nodes went before the baseline's clients come, so the bench holds one crowd at a time.
  double nats_per_conn = 0;
  if (c.baselines) {
    NatsServer nats;
    nats.start(c.nats_bin, gw.state_dir() + "/baselines/nats-idle");
    settle(c.warmup_s);
    const ProcStats nb = read_proc_stats(nats.pid());
    report.add_process("nats-server", "before", nb);
    NatsCrowd crowd(pool, nats.port());
    auto ns = crowd.connect_all(o.nodes, 300, 512);
    settle(c.duration_s);
    const ProcStats na = read_proc_stats(nats.pid());
    report.add_process("nats-server", "held", na);
    nats_per_conn =
        ns.ready ? (static_cast<double>(na.rss_kib) - nb.rss_kib) * 1024.0 / ns.ready : 0;
    crowd.close_all();
    nats.stop();
  }
  if (tls) {
    report.add_ratio("gateway RSS per idle " + o.transport + " node", secure.per_node, "B",
                     "per idle " + plain_form + " node", plain.per_node);
  }
  if (c.baselines) {
    report.add_ratio("gateway RSS per idle " + plain_form + " node", plain.per_node, "B",
                     "nats-server per idle client", nats_per_conn);
    if (tls) {
      report.add_ratio("gateway RSS per idle " + o.transport + " node", secure.per_node, "B",
                       "nats-server per idle client", nats_per_conn);
    }
  } else {
    report.add_figure("gateway RSS per idle " + plain_form + " node", plain.per_node, "B");
  }
  pool.stop();
  gw.stop();
  const bool failed =
      plain.st.online != plain.st.wanted || (tls && secure.st.online != secure.st.wanted);
  return finish(report, c, failed);
}

}  // namespace vespid::bench
