#include "target.hpp"

#include <arpa/inet.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <vespid/plugin.hpp>

namespace vespid::postgres {
namespace {

[[noreturn]] void invalid(const std::string& message) {
  throw vsp::Error(VSP_E_INVALID, "postgres: " + message);
}

// The keywords the conninfo gave a value for (PQconninfoParse fills `val` only for those).
std::map<std::string, std::string> parse_conninfo(const std::string& conninfo) {
  char* errmsg = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> opts(
      PQconninfoParse(conninfo.c_str(), &errmsg), &PQconninfoFree);
  if (!opts) {
    std::string why = errmsg != nullptr ? errmsg : "out of memory";
    PQfreemem(errmsg);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    // libpq quotes the part it could not read, which could be a piece of a password.
    if (conninfo.find("password") != std::string::npos)
      why = "(details withheld: it has a password)";
    invalid("\"conninfo\" is not a valid libpq connection string: " + why);
  }
  std::map<std::string, std::string> out;
  for (const PQconninfoOption* o = opts.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr) out[o->keyword] = o->val;
  }
  return out;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

std::string from(const std::map<std::string, std::string>& kv, const char* key, const char* env) {
  auto it = kv.find(key);
  if (it != kv.end() && !it->second.empty()) return it->second;
  const char* e = env != nullptr ? std::getenv(env) : nullptr;
  return e != nullptr ? e : "";
}

// A Unix socket directory (absolute path, or '@' for Linux's abstract namespace), "localhost",
// or a loopback address. An empty host is libpq's default Unix socket.
bool is_local_host(const std::string& h) {
  if (h.empty() || h[0] == '/' || h[0] == '@' || h == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

std::string tls_warning(const Target& t) {
  if (t.local) return "";
  const std::string head =
      "postgres: sslmode=" + t.sslmode + " (" + t.sslmode_origin + ") toward " + t.label + ": ";
  const std::string fix = "; set \"sslmode\": \"verify-full\" with \"sslrootcert\"";
  if (t.sslmode == "disable" || t.sslmode == "allow" || t.sslmode == "prefer") {
    return head + "the connection may be unencrypted and the server is not authenticated" + fix;
  }
  if (t.sslmode == "require") {
    return head + "encrypted, but the server's certificate is not checked" + fix;
  }
  if (t.sslmode == "verify-ca") {
    return head + "the certificate is checked but not that it names this host" + fix;
  }
  return "";
}

}  // namespace

Target resolve_target(const Config& cfg, const std::string& state_dir,
                      const std::string& application_name) {
  const auto given = parse_conninfo(cfg.conninfo);
  Target t;

  // Which servers: host (or hostaddr), one port for all or one per host; libpq's environment
  // fallbacks count, since libpq itself will use them.
  std::string hosts = from(given, "host", "PGHOST");
  if (hosts.empty()) hosts = from(given, "hostaddr", "PGHOSTADDR");
  std::string ports = from(given, "port", "PGPORT");
  if (ports.empty()) ports = "5432";
  const auto host_list = split_commas(hosts);
  const auto port_list = split_commas(ports);
  t.local = true;
  for (size_t i = 0; i < host_list.size(); ++i) {
    const std::string& h = host_list[i];
    const std::string& p = port_list.size() == host_list.size() ? port_list[i] : port_list[0];
    if (!t.label.empty()) t.label += ",";
    t.label += (h.empty() ? std::string("local socket") : h) + ":" + p;
    t.local = t.local && is_local_host(h);
  }
  // hostaddr is what libpq dials when both are given; it must be local too.
  auto addr = given.find("hostaddr");
  if (addr != given.end()) {
    for (const auto& a : split_commas(addr->second)) t.local = t.local && is_local_host(a);
  }

  std::string db = from(given, "dbname", "PGDATABASE");
  std::string user = from(given, "user", "PGUSER");
  if (!db.empty()) t.who = "database \"" + db + "\"";
  if (!user.empty()) t.who += (t.who.empty() ? "" : ", ") + std::string("user \"") + user + "\"";

  // TLS: one place decides. The plugin always passes sslmode explicitly, so PGSSLMODE in the
  // environment never weakens it behind the operator's back.
  const bool conninfo_mode = given.count("sslmode") > 0;
  if (cfg.sslmode && conninfo_mode) {
    invalid("sslmode is set both in \"conninfo\" and as \"sslmode\"; set it in one place");
  }
  if (cfg.sslmode) {
    t.sslmode = *cfg.sslmode;
    t.sslmode_origin = "config";
  } else if (conninfo_mode) {
    t.sslmode = given.at("sslmode");
    t.sslmode_origin = "conninfo";
  } else {
    // A server on this machine is reached over loopback or a socket that never leaves it:
    // TLS is used when the server offers it, but a certificate there would authenticate
    // nothing. Anywhere else the server must prove who it is.
    t.sslmode = t.local ? "prefer" : "verify-full";
    t.sslmode_origin = "default";
  }
  if (cfg.sslrootcert && given.count("sslrootcert") > 0) {
    invalid("sslrootcert is set both in \"conninfo\" and as \"sslrootcert\"; set it in one place");
  }
  t.tls_warning = tls_warning(t);

  auto add = [&t](std::string k, std::string v) {
    t.keywords.push_back(std::move(k));
    t.values.push_back(std::move(v));
  };
  add("dbname", cfg.conninfo);
  add("sslmode", t.sslmode);
  if (cfg.sslrootcert) {
    std::filesystem::path p(*cfg.sslrootcert);
    add("sslrootcert",
        p.is_absolute() ? p.string() : (std::filesystem::path(state_dir) / p).string());
  }
  add("fallback_application_name", application_name);
  // libpq turns keepalives on but leaves the timing to the OS (two hours on Linux): a server
  // that vanished without a FIN would hold a request until request_timeout_ms anyway, but an
  // idle connection should be found dead long before it is next needed.
  if (given.count("keepalives_idle") == 0) add("keepalives_idle", "30");
  if (given.count("keepalives_interval") == 0) add("keepalives_interval", "10");
  if (given.count("keepalives_count") == 0) add("keepalives_count", "3");
  return t;
}

}  // namespace vespid::postgres
