// A node host's answer to an `execute`, as the dispatcher stores it: the result object's JSON
// text and the two facts about it the dispatcher reads (metrics, the log). Carried as text so
// that the host's output is stored and answered as the host wrote it, with no DOM of it on the
// way (issue 17: payloads pass through as text both ways).
#pragma once

#include <string>

namespace vespid::dispatch {

struct HostResult {
  std::string request_id;
  bool succeeded = false;  // status "succeeded"; anything else is a failure
  std::string error;       // the result's "error" when it is one (empty otherwise)
  // {"error"?, "output"?, "status"}: one JSON object, valid UTF-8, that the gateway checked.
  std::string text;
};

}  // namespace vespid::dispatch
