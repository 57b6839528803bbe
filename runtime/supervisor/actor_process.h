// The entry point of an actor process: `<binary> actor --runtime-dir DIR --name NAME
// --incarnation N`, as the supervisor spawns it. It reads the resolved manifest the supervisor
// wrote into DIR, creates the actor through the registry and runs it over ipc:// until
// Terminate. Any binary that links the actors it needs can serve as an actor binary.
#pragma once

#include "runtime/actor_registry.h"

namespace vtas {

// Returns the process exit status: 0 after Terminate, 64 on bad arguments, 78 when the
// manifest or the actor's configuration is unusable, 70 when the actor failed.
int run_actor_process(int argc, const char* const* argv, const ActorRegistry& registry);

}  // namespace vtas
