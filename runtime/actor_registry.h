// ActorRegistry: kind name ("conn", "diag-echo", ...) -> factory. The supervisor (thread
// placement) and the `actor` sub-command (process placement) create actors only through it,
// so the same actor code runs either way.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proto/manifest.pb.h"
#include "runtime/actor.h"

namespace vtas {

// What a factory gets: the actor's own manifest entry and the whole manifest (TAS parameters,
// network, the other actors' names).
struct ActorSpec {
  const manifest::Manifest& manifest;
  const manifest::Actor& actor;
};

using ActorFactory = std::function<std::unique_ptr<Actor>(const ActorSpec&)>;

class ActorRegistry {
 public:
  void add(const std::string& kind, ActorFactory factory) { factories_[kind] = std::move(factory); }
  bool has(const std::string& kind) const { return factories_.count(kind) != 0; }
  std::unique_ptr<Actor> create(const ActorSpec& spec) const {
    auto found = factories_.find(spec.actor.kind());
    return found == factories_.end() ? nullptr : found->second(spec);
  }
  std::vector<std::string> kinds() const {
    std::vector<std::string> out;
    for (const auto& [kind, factory] : factories_) out.push_back(kind);
    return out;
  }

 private:
  std::map<std::string, ActorFactory> factories_;
};

}  // namespace vtas
