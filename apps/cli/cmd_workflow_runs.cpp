// vespid workflow run|runs|events|cancel: runs of published workflows over rest.v1
// (docs/workflows.md). `run --wait` and `events --follow` read the run's event log page by
// (a long-poll) until the run ends, so a script can start a run and learn how it ended.
#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include "commands.hpp"
#include "operator_client.hpp"
#include "output.hpp"
#include "remote.hpp"
#include "usage_error.hpp"

namespace vespid::cli {

namespace {

using nlohmann::json;

bool run_ended(const std::string& status) {
  return status == "succeeded" || status == "failed" || status == "canceled";
}

// --input '{"x":1}' or --input-file f.json ("-": stdin).
json read_input(const std::string& inline_json, const std::string& file) {
  if (!inline_json.empty() && !file.empty()) throw UsageError("give --input or --input-file");
  std::string text = inline_json;
  const std::string what = file.empty() ? "--input" : "--input-file " + file;
  if (!file.empty()) {
    if (file == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      std::ifstream in(file);
      if (!in) throw UsageError(what + ": cannot read the file");
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  if (text.empty()) return nullptr;
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) throw UsageError(what + ": not JSON");
  return j;
}

void print_runs(const json& runs) {
  Table t({"RUN", "STATUS", "ATTEMPT", "CREATED", "FINISHED", "ERROR"});
  for (const auto& r : runs) {
    t.add_row({text(r, "id"), text(r, "status"),
               text(r, "attemptCount") + "/" + text(r, "maxAttempts"), time_text(r, "createdAt"),
               time_text(r, "finishedAt"), text(r, "error")});
  }
  t.print(std::cout);
}

// One line per event: "seq  eventType  node  detail".
void print_event(const json& e) {
  std::string line = text(e, "seq") + "  " + text(e, "eventType");
  if (e.value("nodeId", json()).is_string()) line += "  " + e["nodeId"].get<std::string>();
  const json& p = e.contains("payload") ? e["payload"] : json();
  if (p.is_object()) {
    for (const char* k : {"error", "requestId", "workerId", "reason", "result"}) {
      if (p.contains(k) && !p[k].is_null())
        line += std::string("  ") + k + "=" +
                (p[k].is_string() ? p[k].get<std::string>() : p[k].dump());
    }
  }
  if (p.is_object() && p.contains("output") && !p["output"].is_null()) {
    // What a node or the run produced, on one line and cut short: `runs --json` has it whole.
    std::string out = p["output"].dump(-1, ' ', true);  // ASCII: safe to cut anywhere
    if (out.size() > 100) out = out.substr(0, 97) + "...";
    line += "  output=" + out;
  }
  if (e.value("message", json()).is_string()) line += "  " + e["message"].get<std::string>();
  std::cout << line << std::endl;
}

// Prints the events after `after` until the log is read and, when `follow`, the run has ended;
// returns the run as it ended (or as it stands). Following is a long-poll: the gateway answers
// as soon as the run's next events are stored.
json follow_events(const Remote& r, const std::string& base, uint64_t after, bool follow,
                   bool json_lines, std::chrono::seconds timeout) {
  constexpr size_t kPage = 500;
  // Prints every event after `after`; the first read waits up to wait_ms for one to come.
  auto drain = [&](int wait_ms) {
    for (;;) {
      json page = rest_call(r, "GET",
                            base + "/events?limit=" + std::to_string(kPage) + "&cursor=" +
                                std::to_string(after) + "&waitMs=" + std::to_string(wait_ms));
      wait_ms = 0;
      const json events = page.value("events", json::array());
      for (const auto& e : events) {
        if (json_lines) {
          std::cout << e.dump() << std::endl;
        } else {
          print_event(e);
        }
        after = e.value("seq", after);
      }
      if (events.size() < kPage) return;
    }
  };
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (int wait_ms = 0;; wait_ms = 20000) {
    drain(follow ? wait_ms : 0);
    json run = rest_call(r, "GET", base)["run"];
    if (run_ended(run.value("status", ""))) {
      drain(0);  // the events stored with the run's end, if they came after the last page
      return run;
    }
    if (!follow) return run;
    if (std::chrono::steady_clock::now() > until) {
      throw OperatorError("TIMEOUT",
                          "run " + run.value("id", std::string()) + " is still " +
                              run.value("status", std::string()) + " after " +
                              std::to_string(timeout.count()) +
                              " s; is a vespid-worker running against this gateway?",
                          nullptr);
    }
  }
}

// `--wait` and `--follow` end like the run: 0 when it succeeded, else an error naming why.
void end_like(const json& run) {
  const std::string status = run.value("status", "");
  if (status == "succeeded") return;
  throw OperatorError(
      status == "canceled" ? "RUN_CANCELED" : "RUN_FAILED",
      "run " + run.value("id", std::string()) + " " + status +
          (run.value("error", json()).is_string() ? ": " + run["error"].get<std::string>()
                                                  : std::string()),
      nullptr);
}

}  // namespace

void add_workflow_run_commands(CLI::App* group, Registry& reg) {
  auto rr = std::make_shared<Remote>();
  auto wf = std::make_shared<std::string>();
  auto input = std::make_shared<std::string>();
  auto input_file = std::make_shared<std::string>();
  auto wait = std::make_shared<bool>(false);
  auto timeout = std::make_shared<int>(300);
  auto* run = group->add_subcommand(
      "run", "Start a run of a published workflow and print its id (--wait: follow it to its end)");
  add_remote_options(run, *rr, false);
  run->add_option("workflow", *wf, "The workflow id")->required();
  run->add_option("--input", *input, "The run's input, JSON (conditions read it)");
  run->add_option("--input-file", *input_file, "The input from a file; - reads stdin");
  run->add_flag("--wait", *wait,
                "Print the run's events until it ends; exit 0 only if it succeeded");
  run->add_option("--timeout", *timeout, "With --wait: give up after this many seconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  on_run(run, reg, [&ctx = reg.ctx, rr, wf, input, input_file, wait, timeout] {
    json body = json::object();
    json in = read_input(*input, *input_file);
    if (!in.is_null()) body["input"] = in;
    json r = rest_call(*rr, "POST", "/workflows/" + *wf + "/runs", body);
    const std::string id = text(r["run"], "id");
    if (!*wait) {
      if (ctx.json()) return print_json(r);
      std::cout << id << std::endl;
      return;
    }
    if (!ctx.json()) std::cout << "run " << id << " queued" << std::endl;
    json ended = follow_events(*rr, "/workflows/" + *wf + "/runs/" + id, 0, true, ctx.json(),
                               std::chrono::seconds(*timeout));
    if (!ctx.json()) print_runs(json::array({ended}));
    end_like(ended);
  });

  auto lr = std::make_shared<Remote>();
  auto lwf = std::make_shared<std::string>();
  auto limit = std::make_shared<int>(20);
  auto* runs = group->add_subcommand("runs", "List a workflow's runs, newest first");
  add_remote_options(runs, *lr, false);
  runs->add_option("workflow", *lwf, "The workflow id")->required();
  runs->add_option("--limit", *limit, "At most this many")
      ->capture_default_str()
      ->check(CLI::Range(1, 200));
  on_run(runs, reg, [&ctx = reg.ctx, lr, lwf, limit] {
    json r = rest_call(*lr, "GET", "/workflows/" + *lwf + "/runs?limit=" + std::to_string(*limit));
    if (ctx.json()) return print_json(r);
    print_runs(r.value("runs", json::array()));
  });

  auto er = std::make_shared<Remote>();
  auto ewf = std::make_shared<std::string>();
  auto erun = std::make_shared<std::string>();
  auto after = std::make_shared<uint64_t>(0);
  auto follow = std::make_shared<bool>(false);
  auto* events = group->add_subcommand("events", "Print a run's event log, oldest first");
  add_remote_options(events, *er, false);
  events->add_option("workflow", *ewf, "The workflow id")->required();
  events->add_option("run", *erun, "The run id")->required();
  events->add_option("--after", *after, "Only events after this seq");
  events->add_flag("--follow,-f", *follow, "Keep printing until the run ends");
  on_run(events, reg, [&ctx = reg.ctx, er, ewf, erun, after, follow] {
    json ended = follow_events(*er, "/workflows/" + *ewf + "/runs/" + *erun, *after, *follow,
                               ctx.json(), std::chrono::hours(24));
    if (*follow) end_like(ended);
  });

  auto cr = std::make_shared<Remote>();
  auto cwf = std::make_shared<std::string>();
  auto crun = std::make_shared<std::string>();
  auto* cancel = group->add_subcommand("cancel", "Cancel a queued or running run");
  add_remote_options(cancel, *cr, false);
  cancel->add_option("workflow", *cwf, "The workflow id")->required();
  cancel->add_option("run", *crun, "The run id")->required();
  on_run(cancel, reg, [&ctx = reg.ctx, cr, cwf, crun] {
    json r =
        rest_call(*cr, "POST", "/workflows/" + *cwf + "/runs/" + *crun + "/cancel", json::object());
    if (ctx.json()) return print_json(r);
    print_runs(json::array({r["run"]}));
  });
}

}  // namespace vespid::cli
