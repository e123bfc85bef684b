#include "reference.hpp"

#include <cmath>

#include "proc_stats.hpp"

namespace vespid::bench {

std::function<double()> reference_more_cpu(const ReferenceOptions& r) {
  if (r.cpu_trees.empty()) return {};
  return [roots = r.cpu_trees] {
    double sum = 0;
    for (int p : roots) sum += tree_cpu_seconds(static_cast<pid_t>(p));
    return sum;  // NaN as soon as one of them is gone
  };
}

void add_reference_ratios(Report& report, const std::string& ref,
                          const std::vector<RunPlan>& plan) {
  add_standard_ratios(report, "gateway", plan, {ref});
  for (const auto& p : plan) {
    const auto* g = report.load_row(p.name, "gateway");
    const auto* t = report.load_row(p.name, ref);
    if (!g || !t || !g->contains("serverCpuUsPerReq") || !t->contains("serverCpuUsPerReq")) {
      continue;
    }
    report.add_ratio("gateway " + p.name + " server CPU/request", (*g)["serverCpuUsPerReq"], "µs",
                     ref, (*t)["serverCpuUsPerReq"]);
  }
}

}  // namespace vespid::bench
