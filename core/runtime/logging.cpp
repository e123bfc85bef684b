#include "runtime/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>

#include "runtime/log_tail.hpp"
#include "runtime/time.hpp"

namespace vespid::log {

namespace {

// One JSON object per line: {"ts","level","component","msg"}. The message is escaped by the JSON
// library, so a log line can never break the framing of a log shipper.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch());
    std::string ts = util::iso8601(ms.count());
    nlohmann::json line = {
        {"ts", ts},
        {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                              spdlog::level::to_string_view(msg.level).size())},
        {"component", std::string(msg.logger_name.data(), msg.logger_name.size())},
        {"msg", std::string(msg.payload.data(), msg.payload.size())},
    };
    std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

std::mutex g_mutex;
Settings g_settings;
std::shared_ptr<spdlog::sinks::sink> g_sink;
std::shared_ptr<LogTail> g_tail;
// Lines waiting for a `logs.tail` reader beyond this are dropped (and counted), never queued.
constexpr size_t kLiveQueue = 4096;

void use_sinks(const std::shared_ptr<spdlog::logger>& l) {
  l->sinks().clear();
  l->sinks().push_back(g_sink);
  if (g_tail) l->sinks().push_back(g_tail);
}

spdlog::level::level_enum level_for(const std::string& component) {
  auto it = g_settings.components.find(component);
  return spdlog::level::from_str(it != g_settings.components.end() ? it->second : g_settings.level);
}

void apply(const std::shared_ptr<spdlog::logger>& logger) {
  logger->set_level(level_for(logger->name()));
  // Warnings and errors reach the terminal at once; info may wait for the next line.
  logger->flush_on(spdlog::level::warn);
}

std::shared_ptr<spdlog::sinks::sink> make_sink(const Settings& s) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  if (s.format == "json") {
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%e %-5l [%n] %v", spdlog::pattern_time_type::utc));
  }
  return sink;
}

}  // namespace

void configure(const Settings& settings) {
  std::lock_guard lock(g_mutex);
  g_settings = settings;
  g_sink = make_sink(settings);
  // One tail for the process: reconfiguring keeps the lines and any reader of it.
  if (settings.tail_lines == 0) {
    g_tail.reset();
  } else if (!g_tail || g_tail->capacity() != settings.tail_lines) {
    g_tail = std::make_shared<LogTail>(settings.tail_lines, kLiveQueue);
  }
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) {
    use_sinks(l);
    apply(l);
  });
}

void set_levels(const std::string& level, const std::map<std::string, std::string>& components) {
  std::lock_guard lock(g_mutex);
  g_settings.level = level;
  g_settings.components = components;
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { apply(l); });
}

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  if (auto existing = spdlog::get(component)) return existing;
  std::lock_guard lock(g_mutex);
  if (auto existing = spdlog::get(component)) return existing;
  if (!g_sink) g_sink = make_sink(g_settings);
  auto logger = std::make_shared<spdlog::logger>(component, g_sink);
  use_sinks(logger);
  apply(logger);
  spdlog::register_logger(logger);
  return logger;
}

std::shared_ptr<LogTail> tail() {
  std::lock_guard lock(g_mutex);
  return g_tail;
}

}  // namespace vespid::log
