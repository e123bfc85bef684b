// What a run reports: load results as latency/throughput rows, each gateway figure next to its
// baselines with the ratio, process figures from /proc; printed as plain tables, and collected
// as one JSON document for --json.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "load.hpp"
#include "proc_stats.hpp"

namespace vespid::bench {

class Report {
 public:
  explicit Report(std::string scenario);

  // A load run: `target` (gateway, raw-1hop, raw-2hop, nats) under `run` (serial, load, ...).
  // server_cpu_s is the CPU the server process used during the run (NaN if unknown);
  // client_cpu_s the bench's own, so a reader can tell whether the bench was the bottleneck.
  void add_load(const std::string& run, const std::string& target, const LoadSpec& spec,
                int callers, const LoadResult& r, double server_cpu_s, double client_cpu_s);
  // A figure compared with a baseline figure measured in the same run.
  void add_ratio(const std::string& figure, double value, const std::string& unit,
                 const std::string& baseline, double base_value);
  // Any other figure.
  void add_figure(const std::string& name, double value, const std::string& unit);
  void add_process(const std::string& name, const std::string& when, const ProcStats& s);
  void set(const std::string& key, nlohmann::json value) { doc_[key] = std::move(value); }
  bool has(const std::string& key) const { return doc_.contains(key); }

  // Adds `key` to the load row of (run, target), when there is one.
  void set_load_field(const std::string& run, const std::string& target, const std::string& key,
                      nlohmann::json value);
  // The load row of (run, target) as JSON (null when absent), for building ratios.
  const nlohmann::json* load_row(const std::string& run, const std::string& target) const;

  // True when a load run had errors or lost requests (the bench then exits 1).
  bool load_failed() const;

  void print_text() const;
  std::string json_text() const { return doc_.dump(2); }

 private:
  nlohmann::json doc_;
};

}  // namespace vespid::bench
