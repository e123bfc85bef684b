#include "prom_text.hpp"

#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

namespace vespid::test {

namespace {

bool name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9');
}

bool valid_name(const std::string& n, bool label) {
  if (n.empty() || !name_start(n[0]) || (label && n[0] == ':')) return false;
  for (char c : n) {
    if (!name_char(c) || (label && c == ':')) return false;
  }
  return true;
}

bool parse_number(const std::string& s, double& out) {
  if (s == "+Inf" || s == "Inf") {
    out = INFINITY;
    return true;
  }
  if (s == "-Inf") {
    out = -INFINITY;
    return true;
  }
  if (s == "NaN") {
    out = NAN;
    return true;
  }
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// name{a="x",b="y"} value [timestamp]
bool parse_sample(const std::string& line, PromSample& s, std::string& why) {
  size_t i = 0;
  while (i < line.size() && name_char(line[i])) ++i;
  s.name = line.substr(0, i);
  if (!valid_name(s.name, false)) {
    why = "bad metric name";
    return false;
  }
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      size_t start = i;
      while (i < line.size() && name_char(line[i])) ++i;
      std::string label = line.substr(start, i - start);
      if (!valid_name(label, true)) {
        why = "bad label name";
        return false;
      }
      if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
        why = "expected =\" after label " + label;
        return false;
      }
      i += 2;
      std::string value;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i >= line.size()) break;
          char e = line[i++];
          if (e == 'n') {
            value += '\n';
          } else if (e == '\\' || e == '"') {
            value += e;
          } else {
            why = "bad escape in label value";
            return false;
          }
        } else {
          value += c;
        }
      }
      if (!closed) {
        why = "unterminated label value";
        return false;
      }
      if (s.labels.count(label)) {
        why = "label " + label + " repeated";
        return false;
      }
      s.labels[label] = value;
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) {
      why = "unterminated label set";
      return false;
    }
    ++i;  // '}'
  }
  if (i >= line.size() || line[i] != ' ') {
    why = "expected a space before the value";
    return false;
  }
  std::istringstream rest(line.substr(i + 1));
  std::string number, timestamp, extra;
  rest >> number >> timestamp >> extra;
  if (!parse_number(number, s.value)) {
    why = "bad value \"" + number + "\"";
    return false;
  }
  double ts = 0;
  if (!timestamp.empty() && !parse_number(timestamp, ts)) {
    why = "bad timestamp";
    return false;
  }
  if (!extra.empty()) {
    why = "text after the timestamp";
    return false;
  }
  return true;
}

std::string series_key(const PromSample& s) {
  std::string k = s.name + "{";
  for (const auto& [n, v] : s.labels) k += n + "=" + v + ",";
  return k + "}";
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void check_histograms(PromText& out) {
  // Per histogram family and label set (without le): buckets in order, _sum, _count.
  struct Series {
    std::vector<std::pair<double, double>> buckets;  // le, value
    bool has_sum = false;
    bool has_count = false;
    double count = 0;
  };
  std::map<std::string, Series> series;
  for (const auto& s : out.samples) {
    for (const auto& [family, type] : out.types) {
      if (type != "histogram") continue;
      std::string part;
      if (s.name == family + "_bucket") {
        part = "bucket";
      } else if (s.name == family + "_sum") {
        part = "sum";
      } else if (s.name == family + "_count") {
        part = "count";
      } else {
        continue;
      }
      auto labels = s.labels;
      std::string le = labels.count("le") ? labels["le"] : "";
      labels.erase("le");
      PromSample key{family, labels, 0};
      Series& h = series[series_key(key)];
      if (part == "bucket") {
        double bound = 0;
        if (le.empty() || !parse_number(le, bound)) {
          out.errors.push_back(s.name + ": a bucket without a valid le label");
          continue;
        }
        h.buckets.emplace_back(bound, s.value);
      } else if (part == "sum") {
        h.has_sum = true;
      } else {
        h.has_count = true;
        h.count = s.value;
      }
    }
  }
  for (const auto& [key, h] : series) {
    if (h.buckets.empty()) {
      out.errors.push_back(key + ": histogram without buckets");
      continue;
    }
    for (size_t i = 1; i < h.buckets.size(); ++i) {
      if (!(h.buckets[i].first > h.buckets[i - 1].first))
        out.errors.push_back(key + ": bucket bounds are not increasing");
      if (h.buckets[i].second < h.buckets[i - 1].second)
        out.errors.push_back(key + ": buckets are not cumulative");
    }
    if (!std::isinf(h.buckets.back().first))
      out.errors.push_back(key + ": the last bucket is not le=\"+Inf\"");
    if (!h.has_sum) out.errors.push_back(key + ": no _sum");
    if (!h.has_count) {
      out.errors.push_back(key + ": no _count");
    } else if (h.count != h.buckets.back().second) {
      out.errors.push_back(key + ": _count differs from the +Inf bucket");
    }
  }
}

}  // namespace

PromText parse_prom_text(const std::string& text) {
  PromText out;
  std::set<std::string> helped, typed, finished, seen_series;
  std::string current;  // the family whose samples are being read
  std::istringstream in(text);
  std::string line;
  int number = 0;
  auto error = [&](const std::string& what) {
    out.errors.push_back("line " + std::to_string(number) + ": " + what + ": " + line);
  };
  auto family_of = [&](const std::string& name) -> std::string {
    if (out.types.count(name)) return name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (!ends_with(name, suffix)) continue;
      std::string base = name.substr(0, name.size() - std::string(suffix).size());
      auto t = out.types.find(base);
      if (t != out.types.end() && (t->second == "histogram" || t->second == "summary")) return base;
    }
    return name;
  };
  if (!text.empty() && text.back() != '\n')
    out.errors.push_back("the text does not end in a line feed");
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream c(line);
      std::string hash, keyword, name;
      c >> hash >> keyword >> name;
      if (keyword != "HELP" && keyword != "TYPE") continue;  // a plain comment
      if (!valid_name(name, false)) {
        error("bad metric name in " + keyword);
        continue;
      }
      if (finished.count(name) || current == name) error(keyword + " after the family's samples");
      if (keyword == "HELP") {
        if (!helped.insert(name).second) error("second HELP");
      } else {
        std::string type;
        c >> type;
        static const std::set<std::string> types = {"counter", "gauge", "histogram", "summary",
                                                    "untyped"};
        if (!types.count(type)) error("unknown type \"" + type + "\"");
        if (!typed.insert(name).second) error("second TYPE");
        out.types[name] = type;
        if (type == "counter" && !ends_with(name, "_total")) error("a counter not named *_total");
      }
      continue;
    }
    PromSample s;
    std::string why;
    if (!parse_sample(line, s, why)) {
      error(why);
      continue;
    }
    const std::string family = family_of(s.name);
    if (!typed.count(family) || !helped.count(family)) error("a sample before its HELP and TYPE");
    if (family != current) {
      if (finished.count(family)) error("the family's samples are not together");
      if (!current.empty()) finished.insert(current);
      current = family;
    }
    if (!seen_series.insert(series_key(s)).second) error("a series repeats");
    out.samples.push_back(std::move(s));
  }
  check_histograms(out);
  return out;
}

bool PromText::has(const std::string& name,
                   const std::map<std::string, std::string>& labels) const {
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) match = false;
    }
    if (match) return true;
  }
  return false;
}

double PromText::value(const std::string& name,
                       const std::map<std::string, std::string>& labels) const {
  double sum = 0;
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) match = false;
    }
    if (match) sum += s.value;
  }
  return sum;
}

}  // namespace vespid::test
