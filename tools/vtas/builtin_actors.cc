#include "tools/vtas/builtin_actors.h"

#include "components/arp/arp_actor.h"
#include "components/cc/actor/cc_actor.h"
#include "components/diag/diag_actors.h"
#include "components/fastpath/fastpath_actor.h"
#include "components/proxy/host/host_proxy_actor.h"
#include "components/scale/scale_actor.h"
#include "components/slowpath/conn_actor.h"
#include "components/slowpath/timer/timer_actor.h"

namespace vtas {

const ActorRegistry& builtin_actors() {
  static const ActorRegistry registry = [] {
    ActorRegistry r;
    diag::register_actors(r);
    fastpath::register_actors(r);
    arp::register_actors(r);
    timer::register_actors(r);
    conn::register_actors(r);
    proxy::register_actors(r);
    cc::register_actors(r);
    scale::register_actors(r);
    return r;
  }();
  return registry;
}

}  // namespace vtas
