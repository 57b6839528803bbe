// HostProxyActor: the `proxy-host` actor. It serves QEMU's ivshmem server protocol on
// <runtime_dir>/ivshmem.sock (mode 0600, or 0660 and the manifest's socket_group), so a stock
// QEMU started with
//   -chardev socket,path=<runtime_dir>/ivshmem.sock,id=vtas
//   -device ivshmem-doorbell,vectors=1,chardev=vtas
// attaches, and so does vtas-proxy-guest's client transport. Each connection is one VM with
// its own region (a memfd, BAR2 in the guest), its own channel and its own link to the fast
// path (VmSession). VMs never see each other: each VM's peer set is {host, itself}, so no VM
// gets another VM's eventfds or region.
//
// Guest requests (app attach/detach, contexts, the guest proxy's hello) pass through this
// actor's own mailbox as proxy.GuestMessage{vm_id, message}, so vtas-trace shows each one with
// its VM; wake-ups (a doorbell per wake) are relayed directly and only counted (putting
// ZeroMQ on every doorbell would cost the VMs their latency).
//
// Restart: the VMs' sockets die with the actor; QEMU does not reconnect an ivshmem chardev, so
// VMs attached to the previous incarnation lose their vtas service (the fast path frees their
// apps and regions when the links close). New VMs attach to the new incarnation.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "components/proxy/host/vm_session.h"
#include "proto/proxy.pb.h"
#include "runtime/actor.h"
#include "runtime/actor_registry.h"

namespace vtas::proxy {

struct HostProxyConfig {
  std::string socket_path;      // default <runtime_dir>/ivshmem.sock
  std::string fastpath_socket;  // <runtime_dir>/app.sock
  // Empty: the socket and the VM regions are owner-only (0600). Otherwise a group name or a
  // numeric gid: 0660 and that group (resolved at start; an unknown group fails the start).
  std::string socket_group;
  VmLimits limits;
  uint32_t max_vms = 64;
};

// The actor's settings (proxy_host { ... } on its manifest entry, proto/manifest.proto) with
// the instance's runtime directory. The manifest validator has checked the values.
HostProxyConfig host_proxy_config_from_manifest(const manifest::Manifest& manifest,
                                                const manifest::ProxyHostSettings& settings);

class HostProxyActor final : public Actor {
 public:
  HostProxyActor(std::string name, HostProxyConfig config);
  ~HostProxyActor() override;

  Status on_start() override;
  void on_stop() override;
  void fill_stats(supervisor::StatsReport* report) override;
  bool prepare_to_wait() override;
  void after_wait() override;

  size_t vm_count() const { return vms_.size(); }

 private:
  void accept_vms();
  void on_qemu_socket(uint32_t vm_id);
  void drop_vm(uint32_t vm_id, const std::string& why);
  void handle_guest_message(const GuestMessage& message, const Incoming& in);
  void handle_vm_event(const VmEvent& event, const Incoming& in);
  void report(uint32_t vm_id, VmEventKind kind, const std::string& detail);
  void schedule_flush();
  void schedule_reattach();
  uint32_t next_vm_id();
  VmSession* find(uint32_t vm_id);

  HostProxyConfig config_;
  SharedFileAccess access_;  // from config_.socket_group, at start
  int listen_fd_ = -1;
  std::map<uint32_t, std::unique_ptr<VmSession>> vms_;
  uint32_t last_vm_id_ = 0;
  bool flush_armed_ = false;
  bool reattach_armed_ = false;
  uint64_t vms_connected_ = 0, vms_refused_ = 0, vms_broken_ = 0;
};

void register_actors(ActorRegistry& registry);

}  // namespace vtas::proxy
