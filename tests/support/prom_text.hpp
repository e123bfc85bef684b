// A strict reader of the Prometheus text exposition format (0.0.4) for tests: it checks what
// `promtool check metrics` would reject (Debian's prometheus package is ~100 MB for that one
// tool), and gives the samples back so that a test can compare two scrapes.
//
// Checked: every line is a comment or a sample that parses (name, {label="value",...}, a
// number); a family's # HELP and # TYPE come before its samples and once each; the samples of
// one family are together; no series repeats; counters end in _total; a histogram's buckets
// are cumulative, end with le="+Inf", and come with _sum and a _count equal to the +Inf bucket.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace vespid::test {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromText {
  std::vector<PromSample> samples;
  std::map<std::string, std::string> types;  // family -> counter, gauge, histogram, ...
  std::vector<std::string> errors;           // empty when the text is valid

  // The value of the one sample with this name whose labels include `labels`; the sum over all
  // matching samples when several match (a counter over the labels not given). 0 if none.
  double value(const std::string& name,
               const std::map<std::string, std::string>& labels = {}) const;
  bool has(const std::string& name, const std::map<std::string, std::string>& labels = {}) const;
};

PromText parse_prom_text(const std::string& text);

}  // namespace vespid::test
