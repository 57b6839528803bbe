#include "tools/vtas/builtin_actors.h"

#include "components/diag/diag_actors.h"

namespace vtas {

const ActorRegistry& builtin_actors() {
  static const ActorRegistry registry = [] {
    ActorRegistry r;
    diag::register_actors(r);
    return r;
  }();
  return registry;
}

}  // namespace vtas
