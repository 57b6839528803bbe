// vtas-proxy-host: an actor binary holding only the `proxy-host` actor, for manifests that run
// the host proxy as its own program:
//   actor { name: "proxy" kind: "proxy-host" binary: "/usr/lib/vtas/vtas-proxy-host" }
// The supervisor starts it as `vtas-proxy-host actor --runtime-dir DIR --name NAME ...`. The
// `vtas` binary itself also runs the proxy-host kind (no `binary` needed).
#include <cstdio>
#include <cstring>

#include "components/proxy/host/host_proxy_actor.h"
#include "runtime/supervisor/actor_process.h"

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "actor") != 0) {
    std::fprintf(stderr,
                 "usage: vtas-proxy-host actor --runtime-dir DIR --name NAME (started by vtas's supervisor;\n"
                 "       put `actor { name: \"proxy\" kind: \"proxy-host\" }` in the manifest)\n");
    return 64;
  }
  vtas::ActorRegistry registry;
  vtas::proxy::register_actors(registry);
  return vtas::run_actor_process(argc, argv, registry);
}
