// Logging: one spdlog logger per component ("core", "storage", "plugins", "plugin.<instance>"),
// all writing to stderr through one sink, as human lines or as JSON lines, with levels per
// component.
#pragma once

#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <string>

namespace vespid::log {

class LogTail;

struct Settings {
  std::string level = "info";
  std::string format = "text";  // "text" | "json"
  std::map<std::string, std::string> components;
  size_t tail_lines = 1000;  // log.tail_lines: kept in memory for logs.tail (0: none)
};

// Installs the sink and the settings. Safe to call again (e.g. after the config is loaded).
void configure(const Settings& settings);

// Changes only the levels (the default and per component) of every logger; the sink and the
// format stay. Safe while other threads log (a logger's level is atomic; configure() replaces
// sinks and is not), so a running gateway can apply it on SIGHUP.
void set_levels(const std::string& level, const std::map<std::string, std::string>& components);

// The logger for a component, created on first use with the configured level.
std::shared_ptr<spdlog::logger> get(const std::string& component);

// The in-memory tail of the log (runtime/log_tail.hpp); null when log.tail_lines is 0.
std::shared_ptr<LogTail> tail();

}  // namespace vespid::log
