// The MagicDNS name of this machine, from `tailscale status --json` (Self.DNSName). Only a
// hint: addresses always come from the interfaces. The command runs as a child process whose
// output is read through the host's fd watch, so the loop never blocks on it; it is killed if it
// takes longer than a few seconds.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vespid/plugin.hpp>

namespace vespid::tailnet {

class MagicDns {
 public:
  MagicDns(vsp::Host host, std::string command, std::function<void()> changed);
  ~MagicDns();
  MagicDns(const MagicDns&) = delete;
  MagicDns& operator=(const MagicDns&) = delete;

  // Loop thread. Starts one query unless one is running.
  void refresh();
  const std::string& name() const noexcept { return name_; }

 private:
  void readable();
  void finish();
  void tick();

  vsp::Host host_;
  std::string command_;
  std::function<void()> changed_;
  std::string name_;
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string output_;
  int ticks_ = 0;
  bool missing_logged_ = false;
  bool again_ = false;  // refresh() was asked for while a query ran
  std::unique_ptr<vsp::Watch> watch_;
  std::unique_ptr<vsp::Timer> timer_;
};

// Self.DNSName of a `tailscale status --json` document, without its trailing dot; "" if absent.
std::string parse_status_dns_name(const std::string& json);

}  // namespace vespid::tailnet
