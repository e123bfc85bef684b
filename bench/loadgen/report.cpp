#include "report.hpp"

#include <cmath>
#include <cstdio>

namespace vespid::bench {

using nlohmann::json;

Report::Report(std::string scenario) {
  doc_ = {{"scenario", std::move(scenario)},
          {"loads", json::array()},
          {"ratios", json::array()},
          {"figures", json::array()},
          {"processes", json::array()}};
}

void Report::add_load(const std::string& run, const std::string& target, const LoadSpec& spec,
                      int callers, const LoadResult& r, double server_cpu_s, double client_cpu_s) {
  auto us = [](uint64_t ns) { return ns / 1000.0; };
  json codes = json::object();
  for (const auto& [c, n] : r.error_codes) codes[c] = n;
  const double tput = r.throughput();
  json row = {{"run", run},
              {"target", target},
              {"callers", callers},
              {"inFlightPerCaller", spec.in_flight},
              {"rate", spec.rate},
              {"windowS", r.window_s},
              {"throughput", tput},
              {"sent", r.sent},
              {"ok", r.ok},
              {"errors", r.errors},
              {"lost", r.lost},
              {"errorCodes", codes},
              {"p50Us", us(r.latency.percentile(50))},
              {"p90Us", us(r.latency.percentile(90))},
              {"p99Us", us(r.latency.percentile(99))},
              {"p999Us", us(r.latency.percentile(99.9))},
              {"maxUs", us(r.latency.max())},
              {"meanUs", r.latency.mean() / 1000.0}};
  if (!std::isnan(server_cpu_s) && r.completed_in_window > 0) {
    row["serverCpuS"] = server_cpu_s;
    // CPU the server spent per request answered in the window: the cost the lead will cut.
    row["serverCpuUsPerReq"] = server_cpu_s * 1e6 / static_cast<double>(r.completed_in_window);
  }
  if (r.completed_in_window > 0) {
    row["clientCpuUsPerReq"] = client_cpu_s * 1e6 / static_cast<double>(r.completed_in_window);
  }
  doc_["loads"].push_back(row);
}

void Report::add_ratio(const std::string& figure, double value, const std::string& unit,
                       const std::string& baseline, double base_value) {
  doc_["ratios"].push_back({{"figure", figure},
                            {"value", value},
                            {"unit", unit},
                            {"baseline", baseline},
                            {"baselineValue", base_value},
                            {"ratio", base_value != 0 ? value / base_value : 0.0}});
}

void Report::add_figure(const std::string& name, double value, const std::string& unit) {
  doc_["figures"].push_back({{"name", name}, {"value", value}, {"unit", unit}});
}

void Report::add_process(const std::string& name, const std::string& when, const ProcStats& s) {
  doc_["processes"].push_back({{"process", name},
                               {"when", when},
                               {"rssKiB", s.rss_kib},
                               {"hwmKiB", s.hwm_kib},
                               {"cpuS", s.cpu_s},
                               {"threads", s.threads}});
}

void Report::set_load_field(const std::string& run, const std::string& target,
                            const std::string& key, nlohmann::json value) {
  auto& loads = doc_["loads"];
  // The latest row of (run, target): the one add_load() just made.
  for (auto it = loads.rbegin(); it != loads.rend(); ++it) {
    if ((*it)["run"] == run && (*it)["target"] == target) {
      (*it)[key] = std::move(value);
      return;
    }
  }
}

const json* Report::load_row(const std::string& run, const std::string& target) const {
  for (const auto& r : doc_["loads"]) {
    if (r["run"] == run && r["target"] == target) return &r;
  }
  return nullptr;
}

bool Report::load_failed() const {
  for (const auto& r : doc_["loads"]) {
    if (r["errors"].get<uint64_t>() > 0 || r["lost"].get<uint64_t>() > 0) return true;
  }
  return false;
}

namespace {
std::string cpu_cell(const json& r) {
  auto part = [&](const char* key) {
    return r.contains(key) ? std::to_string(static_cast<int>(r[key].get<double>() + 0.5))
                           : std::string("-");
  };
  return part("serverCpuUsPerReq") + "/" + part("clientCpuUsPerReq");
}
// The share of the run the gateway's core was held and its storage thread committed
// (coreBusy/storageBusy), or "-".
std::string busy_cell(const json& r) {
  auto part = [&](const char* key) {
    if (!r.contains(key)) return std::string("-");
    char text[16];
    std::snprintf(text, sizeof text, "%.2f", r[key].get<double>());
    return std::string(text);
  };
  return part("coreBusy") + "/" + part("storageBusy");
}
}  // namespace

void Report::print_text() const {
  std::printf("== vespid-bench %s\n", doc_["scenario"].get<std::string>().c_str());
  if (doc_.contains("setup")) std::printf("setup: %s\n", doc_["setup"].dump().c_str());
  if (!doc_["loads"].empty()) {
    // cpu µs/req s/c: the server's CPU per answered request, then the bench's own; busy c/s:
    // the share of the run the gateway's core was held, and its storage thread committed.
    std::printf("\n%-11s %-11s %10s %9s %9s %9s %9s %9s %9s %6s %6s %12s %11s\n", "run", "target",
                "callers×K", "req/s", "p50 µs", "p90 µs", "p99 µs", "p99.9 µs", "max µs", "errors",
                "lost", "cpu µs/req s/c", "busy c/s");
    for (const auto& r : doc_["loads"]) {
      // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) on
      // "literal" + std::string temporaries at -O3.
      std::string ck = std::to_string(r["callers"].get<int>());
      ck += "×";
      ck += std::to_string(r["inFlightPerCaller"].get<int>());
      if (r["rate"].get<double>() > 0) {
        ck += "@";
        ck += std::to_string(static_cast<long>(r["rate"].get<double>()));
      }
      const std::string cpu = cpu_cell(r);
      const std::string busy = busy_cell(r);
      std::printf(
          "%-11s %-11s %10s %9.0f %9.1f %9.1f %9.1f %9.1f %9.1f %6llu %6llu %12s %11s\n",
          r["run"].get<std::string>().c_str(), r["target"].get<std::string>().c_str(), ck.c_str(),
          r["throughput"].get<double>(), r["p50Us"].get<double>(), r["p90Us"].get<double>(),
          r["p99Us"].get<double>(), r["p999Us"].get<double>(), r["maxUs"].get<double>(),
          static_cast<unsigned long long>(r["errors"].get<uint64_t>()),
          static_cast<unsigned long long>(r["lost"].get<uint64_t>()), cpu.c_str(), busy.c_str());
      if (!r["errorCodes"].empty())
        std::printf("           errors: %s\n", r["errorCodes"].dump().c_str());
      if (const auto it = r.find("serverThreads"); it != r.end() && !it->empty()) {
        std::string line;
        for (const auto& th : *it) {
          char cell[64];
          std::snprintf(cell, sizeof cell, "%s%s %.2f", line.empty() ? "" : " · ",
                        th["thread"].get<std::string>().c_str(), th["cores"].get<double>());
          line += cell;
        }
        std::printf("           server threads, cores: %s\n", line.c_str());
      }
    }
  }
  if (!doc_["ratios"].empty()) {
    std::printf("\n%-44s %12s %-26s %12s %8s\n", "figure", "value", "baseline", "baseline",
                "ratio");
    for (const auto& r : doc_["ratios"]) {
      const std::string unit = r["unit"];
      std::printf("%-44s %10.1f %-2s %-26s %10.1f %-2s %7.2fx\n",
                  r["figure"].get<std::string>().c_str(), r["value"].get<double>(), unit.c_str(),
                  r["baseline"].get<std::string>().c_str(), r["baselineValue"].get<double>(),
                  unit.c_str(), r["ratio"].get<double>());
    }
  }
  if (!doc_["figures"].empty()) {
    std::printf("\n");
    for (const auto& f : doc_["figures"]) {
      std::printf("%-52s %12.2f %s\n", f["name"].get<std::string>().c_str(),
                  f["value"].get<double>(), f["unit"].get<std::string>().c_str());
    }
  }
  if (!doc_["processes"].empty()) {
    std::printf("\n%-14s %-22s %10s %10s %9s %7s\n", "process", "when", "VmRSS KiB", "VmHWM KiB",
                "cpu s", "threads");
    for (const auto& p : doc_["processes"]) {
      std::printf("%-14s %-22s %10llu %10llu %9.2f %7d\n", p["process"].get<std::string>().c_str(),
                  p["when"].get<std::string>().c_str(),
                  static_cast<unsigned long long>(p["rssKiB"].get<uint64_t>()),
                  static_cast<unsigned long long>(p["hwmKiB"].get<uint64_t>()),
                  p["cpuS"].get<double>(), p["threads"].get<int>());
    }
  }
  // Whatever else a scenario set (rounds, refusal reasons, the result check), as JSON.
  for (const auto& [key, value] : doc_.items()) {
    if (key == "scenario" || key == "setup" || key == "loads" || key == "ratios" ||
        key == "figures" || key == "processes") {
      continue;
    }
    std::printf("\n%s: %s\n", key.c_str(), value.dump().c_str());
  }
  std::fflush(stdout);
}

}  // namespace vespid::bench
