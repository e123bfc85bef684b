#include "published_service.hpp"

#include <nlohmann/json.hpp>
#include <vespid/config_json.hpp>
#include <vespid/plugin.hpp>

namespace vespid::dnssd {

namespace {

// The length of `s` cut to at most `max` bytes, backing off to the start of a UTF-8 sequence.
std::size_t utf8_cut(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s.size();
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

// The number after a trailing " #", or 0 when the name has none (or "#0", "#007", "#x").
unsigned long collision_number(const std::string& name, std::size_t& base_len) {
  const std::size_t mark = name.rfind(" #");
  if (mark == std::string::npos) return 0;
  const std::string digits = name.substr(mark + 2);
  if (digits.empty() || digits.size() > 9 || digits[0] == '0') return 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
  }
  base_len = mark;
  return std::stoul(digits);
}

}  // namespace

std::string dns_label(std::string name) {
  name.resize(utf8_cut(name, kMaxLabel));
  return name;
}

std::string alternative_name(const std::string& name) {
  std::size_t base_len = name.size();
  const unsigned long n = collision_number(name, base_len);
  const std::string suffix = " #" + std::to_string(n == 0 ? 2 : n + 1);
  std::string base = name.substr(0, base_len);
  base.resize(utf8_cut(base, kMaxLabel - suffix.size()));
  base += suffix;
  return base;
}

void PublishedService::assign(const vsp_service_record& r, std::string_view plugin) {
  if (r.instance_name == nullptr || r.service_type == nullptr) {
    throw vsp::Error(VSP_E_INVALID,
                     std::string(plugin) + ": a record needs instance_name and service_type");
  }
  const std::string wanted = dns_label(r.instance_name);
  if (wanted != wanted_name) {
    wanted_name = wanted;
    name = wanted;
  }
  type = r.service_type;
  domain = r.domain ? r.domain : "";
  host = r.host ? r.host : "";
  port = r.port;
  txt.clear();
  for (size_t i = 0; i < r.txt_count; ++i) {
    if (r.txt[i] != nullptr) txt.emplace_back(r.txt[i]);
  }
}

PublisherConfig parse_publisher_config(std::string_view json, std::string_view plugin) {
  const nlohmann::json doc = vsp::config::parse_object(json, plugin);
  PublisherConfig cfg;
  for (const auto& [key, v] : doc.items()) {
    if (key == "reconnect_ms") {
      if (!v.is_number_unsigned() || v.get<std::uint64_t>() < 100 ||
          v.get<std::uint64_t>() > 3600000) {
        vsp::config::invalid(
            plugin,
            "config key \"reconnect_ms\" must be an integer from 100 to 3600000, got " + v.dump());
      }
      cfg.reconnect_ms = v.get<std::uint32_t>();
    } else {
      vsp::config::invalid(plugin, "unknown config key \"" + key + "\" (known keys: reconnect_ms)");
    }
  }
  return cfg;
}

}  // namespace vespid::dnssd
