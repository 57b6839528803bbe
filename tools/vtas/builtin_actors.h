// Every actor kind linked into the `vtas` binary. A new component adds one line to
// builtin_actors.cc.
#pragma once

#include "runtime/actor_registry.h"

namespace vtas {

const ActorRegistry& builtin_actors();

}  // namespace vtas
