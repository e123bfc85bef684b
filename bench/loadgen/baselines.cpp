#include "baselines.hpp"

#include <boost/asio/post.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "channels.hpp"
#include "proc_stats.hpp"
#include "raw_servers.hpp"

namespace vespid::bench {

namespace asio = boost::asio;

std::string make_payload(int size) {
  std::string p;
  for (int i = 0; i < size; ++i) p += static_cast<char>('a' + i % 26);
  return p;
}

Baselines::Baselines(IoPool& pool, const CommonOptions& opts, std::string work_dir,
                     int node_subjects)
    : pool_(pool),
      opts_(opts),
      dir_(std::move(work_dir)),
      payload_(make_payload(opts.size)),
      node_subjects_(node_subjects) {
  shared_subject_ = std::make_shared<const std::vector<std::string>>(1, "bench.echo");
  auto names = std::make_shared<std::vector<std::string>>();
  for (int i = 0; i < node_subjects_; ++i) names->push_back("node." + std::to_string(i));
  node_subject_names_ = names;
}

Baselines::~Baselines() {
  stop();
}

void Baselines::start() {
  std::filesystem::create_directories(dir_);
  // The two-hop relay's far end is an echo in this process, where the gateway's nodes live.
  const int local_echo = start_echo_listener(pool_.at(0), 0);
  raw_echo_port_ = pick_free_port();
  raw_relay_port_ = pick_free_port();
  raw_.start(
      {"/proc/self/exe", "serve-raw", "--echo-port", std::to_string(raw_echo_port_), "--relay-port",
       std::to_string(raw_relay_port_), "--upstream-port", std::to_string(local_echo)},
      dir_ + "/raw-servers.log");
  // Wait until both listen.
  for (int port : {raw_echo_port_, raw_relay_port_}) {
    bool up = false;
    for (int i = 0; i < 500 && !up; ++i) {
      try {
        connect_blocking(pool_.at(0), tcp_endpoint("127.0.0.1", port), "raw server")->close();
        up = true;
      } catch (const std::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    if (!up) throw std::runtime_error("the raw baseline servers did not start; see " + dir_);
  }
  nats_.start(opts_.nats_bin, dir_ + "/nats");
  // One responder per client thread, in one queue group: NATS spreads requests over them.
  for (std::size_t i = 0; i < pool_.size(); ++i) {
    responders_.push_back(nats_responder(pool_.at(i), nats_.port()));
  }
  if (node_subjects_ > 1) {
    for (int i = 0; i < node_subjects_; ++i) {
      responders_.push_back(
          nats_responder(pool_.at(i % pool_.size()), nats_.port(), (*node_subject_names_)[i]));
    }
  }
}

void Baselines::stop() {
  for (auto& r : responders_) {
    asio::post(r->stream().io(), [r] { r->stream().close(); });
  }
  responders_.clear();
  raw_.stop();
  nats_.stop();
}

std::vector<Target> Baselines::targets() {
  std::vector<Target> t;
  auto line_target = [this](std::string name, int port) {
    return Target{
        std::move(name), raw_.pid(), [this, port](int callers) {
          std::vector<std::shared_ptr<Channel>> chs;
          for (int i = 0; i < callers; ++i) {
            chs.push_back(echo_channel(
                connect_blocking(pool_.next(), tcp_endpoint("127.0.0.1", port), "raw"), payload_));
          }
          return chs;
        }};
  };
  t.push_back(line_target("raw-1hop", raw_echo_port_));
  t.push_back(line_target("raw-2hop", raw_relay_port_));
  t.push_back(Target{"nats", nats_.pid(), [this](int callers) {
                       std::vector<std::shared_ptr<Channel>> chs;
                       for (int i = 0; i < callers; ++i) {
                         chs.push_back(nats_channel(pool_.next(), nats_.port(), next_tag_++,
                                                    payload_, shared_subject_));
                       }
                       return chs;
                     }});
  if (node_subjects_ > 1) {
    t.push_back(Target{"nats-nodes", nats_.pid(), [this](int callers) {
                         std::vector<std::shared_ptr<Channel>> chs;
                         for (int i = 0; i < callers; ++i) {
                           chs.push_back(nats_channel(pool_.next(), nats_.port(), next_tag_++,
                                                      payload_, node_subject_names_, spread_));
                           spread_ += node_subject_names_->size() / std::max(callers, 1) + 1;
                         }
                         return chs;
                       }});
  }
  return t;
}

Target gateway_invoke_target(IoPool& pool, pid_t gateway_pid, std::string socket_path,
                             std::shared_ptr<const std::vector<std::string>> nodes,
                             std::string payload, std::string name) {
  auto spread = std::make_shared<std::size_t>(0);
  return Target{std::move(name), gateway_pid,
                [&pool, socket_path = std::move(socket_path), nodes = std::move(nodes),
                 payload = std::move(payload), spread](int callers) {
                  std::vector<std::shared_ptr<Channel>> chs;
                  for (int i = 0; i < callers; ++i) {
                    auto conn =
                        connect_blocking(pool.next(), unix_endpoint(socket_path), "admin socket");
                    chs.push_back(invoke_channel(conn, nodes, *spread, payload));
                    *spread += nodes->size() / std::max(callers, 1) + 1;
                  }
                  return chs;
                }};
}

LoadResult run_target(Report& report, const std::string& run, Target& t, const LoadSpec& spec,
                      int callers) {
  auto channels = t.open(callers);
  // The CPU of every process in the middle, summed; NaN when one cannot be read.
  auto server_cpu = [&t] {
    const ProcStats s = read_proc_stats(t.server_pid);
    const double more = t.more_cpu ? t.more_cpu() : 0.0;
    return s.valid ? s.cpu_s + more : std::nan("");
  };
  const double before = server_cpu();
  const std::vector<ThreadCpu> threads_before =
      t.server_pid > 0 ? read_thread_cpu(t.server_pid) : std::vector<ThreadCpu>{};
  const double self_before = self_cpu_seconds();
  const SerialBusy busy_before = t.serial_busy ? t.serial_busy() : SerialBusy{NAN, NAN};
  const auto wall_before = std::chrono::steady_clock::now();
  LoadResult r = run_load(channels, spec);
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  const SerialBusy busy_after = t.serial_busy ? t.serial_busy() : SerialBusy{NAN, NAN};
  const double self_used = self_cpu_seconds() - self_before;
  const double after = server_cpu();
  // CPU over the whole call (warmup and drain too) scaled to the measured window.
  const double total_s = spec.warmup_s + spec.duration_s;
  const double cpu = (after - before) * spec.duration_s / total_s;
  report.add_load(run, t.name, spec, callers, r, cpu, self_used * spec.duration_s / total_s);
  // The share of the whole call (warmup and drain too) that the core was held, and that the
  // storage thread spent in commits.
  const double core_busy = (busy_after.core_s - busy_before.core_s) / wall_s;
  const double storage_busy = (busy_after.storage_commit_s - busy_before.storage_commit_s) / wall_s;
  if (!std::isnan(core_busy)) report.set_load_field(run, t.name, "coreBusy", core_busy);
  if (!std::isnan(storage_busy)) report.set_load_field(run, t.name, "storageBusy", storage_busy);
  // Which of the server's threads did the work, and whether one of them is near a whole core
  // (the multi-core question: what a second core could take over).
  if (t.server_pid > 0) {
    nlohmann::json shares = nlohmann::json::array();
    for (const auto& sh : thread_shares(threads_before, read_thread_cpu(t.server_pid), wall_s)) {
      shares.push_back({{"thread", sh.name}, {"cores", sh.cores}});
    }
    report.set_load_field(run, t.name, "serverThreads", std::move(shares));
  }
  for (auto& ch : channels) ch->close();
  char busy_text[48] = "";
  if (!std::isnan(core_busy)) {
    std::snprintf(busy_text, sizeof busy_text, "  busy: core %.2f storage %.2f", core_busy,
                  storage_busy);
  }
  std::fprintf(stderr,
               "  %-8s %-9s %8.0f req/s  p50 %.1f µs  p99 %.1f µs  errors %llu lost %llu%s\n",
               run.c_str(), t.name.c_str(), r.throughput(), r.latency.percentile(50) / 1000.0,
               r.latency.percentile(99) / 1000.0, static_cast<unsigned long long>(r.errors),
               static_cast<unsigned long long>(r.lost), busy_text);
  return r;
}

std::vector<RunPlan> standard_plan(const CommonOptions& c, int callers, int in_flight,
                                   double rate) {
  std::vector<RunPlan> plan;
  LoadSpec serial{1, 0, c.warmup_s, c.duration_s};
  plan.push_back({"serial", serial, 1});
  LoadSpec load{in_flight, 0, c.warmup_s, c.duration_s};
  plan.push_back({"load", load, callers});
  if (rate > 0) {
    LoadSpec paced{in_flight, rate, c.warmup_s, c.duration_s};
    plan.push_back({"paced", paced, callers});
  }
  return plan;
}

void add_standard_ratios(Report& report, const std::string& target,
                         const std::vector<RunPlan>& plan,
                         const std::vector<std::string>& baselines) {
  for (const auto& p : plan) {
    const auto* g = report.load_row(p.name, target);
    if (!g) continue;
    for (const auto& base : baselines) {
      const auto* b = report.load_row(p.name, base);
      if (!b) continue;
      const std::string what = target + " " + p.name;
      if (p.name == "load") {
        report.add_ratio(what + " throughput", (*g)["throughput"], "/s", base, (*b)["throughput"]);
      }
      report.add_ratio(what + " p50", (*g)["p50Us"], "µs", base, (*b)["p50Us"]);
      report.add_ratio(what + " p99", (*g)["p99Us"], "µs", base, (*b)["p99Us"]);
    }
  }
}

}  // namespace vespid::bench
