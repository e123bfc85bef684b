#include "host/bus/bus.hpp"

namespace vespid::host {

const char* to_string(BusStatus status) {
  switch (status) {
    case BusStatus::Ok:
      return "ok";
    case BusStatus::Timeout:
      return "timeout";
    case BusStatus::NoResponders:
      return "no responders";
    case BusStatus::Down:
      return "down";
    case BusStatus::Error:
      return "error";
  }
  return "?";
}

}  // namespace vespid::host
