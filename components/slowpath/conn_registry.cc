#include "components/slowpath/conn_registry.h"

#include <cstring>
#include <type_traits>
#include <utility>

#include "runtime/shm/abi.h"

namespace vtas::conn {
namespace {

// Table tags mixed into the checksums: a record copied into another table never validates.
enum Tag : uint32_t {
  kTagMeta = 1,
  kTagApps,
  kTagListeners,
  kTagAccepts,
  kTagConns,
  kTagTimeWait,
  kTagRequestLog,
  kTagHandshakes,
};

constexpr uint64_t align64(uint64_t v) {
  return (v + 63) & ~uint64_t{63};
}

// Byte offsets of each table for a set of capacities (all fit easily in 64 bits: capacities
// are bounded by kMaxRegistry*).
struct Layout {
  uint64_t meta, apps, listeners, accepts, conns, time_wait, request_log, handshakes, total;
};

Layout layout_for(const RegistryCapacity& c) {
  Layout l{};
  uint64_t at = kRegistryHeaderOffset + sizeof(RegistryHeader);
  auto place = [&at](uint64_t count, uint64_t slot_size) {
    uint64_t here = align64(at);
    at = here + count * slot_size;
    return here;
  };
  l.meta = place(1, sizeof(Slot<MetaRecord>));
  l.apps = place(c.apps, sizeof(Slot<AppRecord>));
  l.listeners = place(c.listeners, sizeof(Slot<ListenerRecord>));
  l.accepts = place(c.accepts, sizeof(Slot<AcceptRecord>));
  l.conns = place(c.conns, sizeof(Slot<ConnRecord>));
  l.time_wait = place(c.time_wait, sizeof(Slot<TimeWaitRecord>));
  l.request_log = place(c.request_log, sizeof(Slot<RequestLogRecord>));
  l.handshakes = place(c.handshakes, sizeof(Slot<HandshakeRecord>));
  l.total = align64(at);
  return l;
}

// FNV-1a, 64-bit, folded to 32: not a MAC (only conn writes the file, mode 0600), a detector
// of torn and corrupted slots.
struct Fnv {
  uint64_t h = 0xcbf29ce484222325ull;
  void add(const void* data, size_t len) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < len; ++i) {
      h ^= p[i];
      h *= 0x100000001b3ull;
    }
  }
  template <class T>
  void add_value(T v) {
    add(&v, sizeof v);
  }
  uint32_t fold() const { return static_cast<uint32_t>(h ^ (h >> 32)); }
};

// a newer than b, wrap-safe.
bool newer(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b) > 0;
}

}  // namespace

Status check_capacity(const RegistryCapacity& c) {
  struct Bound {
    const char* name;
    uint32_t value;
    uint32_t max;
  };
  const Bound bounds[] = {{"apps", c.apps, kMaxRegistryApps},
                          {"listeners", c.listeners, kMaxRegistryListeners},
                          {"accepts", c.accepts, kMaxRegistryAccepts},
                          {"conns", c.conns, kMaxRegistryConns},
                          {"time_wait", c.time_wait, kMaxRegistryTimeWait},
                          {"request_log", c.request_log, kMaxRegistryRequestLog},
                          {"handshakes", c.handshakes, kMaxRegistryHandshakes}};
  for (const auto& b : bounds) {
    if (b.value == 0 || b.value > b.max) {
      return make_error("conn registry capacity '" + std::string(b.name) +
                        "' = " + std::to_string(b.value) + " is out of range: use 1.." +
                        std::to_string(b.max));
    }
  }
  return Status();
}

// ---- RegistryTable ------------------------------------------------------------------------

template <class Record>
RegistryTable<Record>::RegistryTable(Slot<Record>* slots, uint32_t capacity, uint32_t tag)
    : slots_(slots), capacity_(capacity), tag_(tag) {}

template <class Record>
uint32_t RegistryTable<Record>::checksum(SlotId slot, const SlotCopy<Record>& copy) const {
  Fnv f;
  f.add_value(tag_);
  f.add_value(slot);
  f.add_value(copy.generation);
  f.add_value(copy.in_use);
  f.add_value(copy.reserved);
  f.add(&copy.record, sizeof(Record));
  return f.fold();
}

template <class Record>
bool RegistryTable<Record>::valid(SlotId slot, const SlotCopy<Record>& copy) const {
  return copy.generation != 0 && copy.in_use <= 1 && copy.checksum == checksum(slot, copy);
}

template <class Record>
TableLoadStats RegistryTable<Record>::load(std::vector<std::pair<SlotId, Record>>* out) {
  TableLoadStats stats;
  current_.assign(capacity_, 2);
  in_use_.assign(capacity_, 0);
  free_.clear();
  for (SlotId s = 0; s < capacity_; ++s) {
    // Copy out first: the file is the only truth, read each copy once.
    SlotCopy<Record> c0;
    SlotCopy<Record> c1;
    std::memcpy(&c0, &slots_[s].copies[0], sizeof c0);
    std::memcpy(&c1, &slots_[s].copies[1], sizeof c1);
    const bool v0 = valid(s, c0);
    const bool v1 = valid(s, c1);
    int pick = -1;
    if (v0 && v1) {
      pick = newer(c1.generation, c0.generation) ? 1 : 0;
    } else if (v0) {
      pick = 0;
    } else if (v1) {
      pick = 1;
    }
    const bool written = c0.generation != 0 || c1.generation != 0;
    if (pick < 0) {
      if (written) ++stats.dropped_corrupt;
      continue;
    }
    current_[s] = static_cast<uint8_t>(pick);
    const SlotCopy<Record>& c = pick == 0 ? c0 : c1;
    const SlotCopy<Record>& other = pick == 0 ? c1 : c0;
    if (c.in_use == 1) {
      in_use_[s] = 1;
      ++stats.loaded;
      // The other copy was written after this one (higher generation) but does not check out.
      if (other.generation != 0 && newer(other.generation, c.generation)) ++stats.recovered_older;
      if (out != nullptr) out->emplace_back(s, c.record);
    }
  }
  for (SlotId s = capacity_; s-- > 0;) {
    if (in_use_[s] == 0) free_.push_back(s);
  }
  return stats;
}

template <class Record>
void RegistryTable<Record>::write(SlotId slot, const Record* record) {
  Slot<Record>& target_slot = slots_[slot];
  const uint8_t cur = current_[slot];
  const uint8_t target = cur == 2 ? 0 : static_cast<uint8_t>(1 - cur);
  uint32_t generation = 0;
  if (cur != 2) {
    generation = target_slot.copies[cur].generation + 1;
  } else {
    const uint32_t g0 = target_slot.copies[0].generation;
    const uint32_t g1 = target_slot.copies[1].generation;
    generation = (newer(g1, g0) ? g1 : g0) + 1;
  }
  if (generation == 0) generation = 1;
  SlotCopy<Record> copy{};
  copy.generation = generation;
  copy.in_use = record != nullptr ? 1 : 0;
  if (record != nullptr) copy.record = *record;
  copy.checksum = checksum(slot, copy);
  std::memcpy(&target_slot.copies[target], &copy, sizeof copy);
  current_[slot] = target;
}

template <class Record>
Result<SlotId> RegistryTable<Record>::insert(const Record& record) {
  if (free_.empty()) {
    return make_error("conn registry table is full (" + std::to_string(capacity_) + " entries)");
  }
  SlotId slot = free_.back();
  free_.pop_back();
  in_use_[slot] = 1;
  write(slot, &record);
  return slot;
}

template <class Record>
void RegistryTable<Record>::update(SlotId slot, const Record& record) {
  if (slot >= capacity_ || in_use_[slot] == 0) return;
  write(slot, &record);
}

template <class Record>
void RegistryTable<Record>::erase(SlotId slot) {
  if (slot >= capacity_ || in_use_[slot] == 0) return;
  write(slot, nullptr);
  in_use_[slot] = 0;
  free_.push_back(slot);
}

template class RegistryTable<MetaRecord>;
template class RegistryTable<AppRecord>;
template class RegistryTable<ListenerRecord>;
template class RegistryTable<AcceptRecord>;
template class RegistryTable<ConnRecord>;
template class RegistryTable<TimeWaitRecord>;
template class RegistryTable<RequestLogRecord>;
template class RegistryTable<HandshakeRecord>;

// ---- ConnRegistry -------------------------------------------------------------------------

namespace {

// Why the mapped file cannot be resumed, or "" if it can. Fills `capacity` from its header.
std::string check_existing(const shm::Region& region, RegistryCapacity* capacity) {
  Status header = shm::check_region_header(region.base(), region.size(),
                                           shm::RegionKind::kConnRegistry, kRegistryLayoutVersion);
  if (!header) return header.error().message;
  const auto* h = region.at<RegistryHeader>(kRegistryHeaderOffset);
  if (h == nullptr) return "the file is too small for a registry header";
  RegistryHeader copy;
  std::memcpy(&copy, h, sizeof copy);
  RegistryCapacity c;
  c.apps = copy.apps;
  c.listeners = copy.listeners;
  c.accepts = copy.accepts;
  c.conns = copy.conns;
  c.time_wait = copy.time_wait;
  c.request_log = copy.request_log;
  c.handshakes = copy.handshakes;
  Status ok = check_capacity(c);
  if (!ok) return "its header is corrupt: " + ok.error().message;
  const Layout l = layout_for(c);
  if (l.total > region.size()) {
    return "its tables need " + std::to_string(l.total) + " bytes but the file has " +
           std::to_string(region.size());
  }
  *capacity = c;
  return "";
}

}  // namespace

Result<ConnRegistry> ConnRegistry::open(const std::string& path, const RegistryCapacity& capacity,
                                        Mode mode) {
  ConnRegistry r;
  if (mode == Mode::kResume) {
    auto existing = shm::Region::open_file(path, shm::Access::kReadWrite);
    if (existing) {
      RegistryCapacity found;
      std::string why = check_existing(*existing, &found);
      if (why.empty()) {
        r.region_.emplace(std::move(*existing));
        r.capacity_ = found;
        r.resumed_ = true;
      } else {
        r.fresh_reason_ = "registry " + path + " was not resumed: " + why;
      }
    }
  }
  if (!r.resumed_) {
    Status ok = check_capacity(capacity);
    if (!ok) return ok.error();
    const Layout l = layout_for(capacity);
    auto created = shm::Region::create_file(path, l.total, 0600);
    if (!created) {
      return make_error("conn registry: " + created.error().message +
                        " (check that the runtime directory exists and is writable)");
    }
    r.region_.emplace(std::move(*created));
    r.capacity_ = capacity;
    RegistryHeader header{};
    header.apps = capacity.apps;
    header.listeners = capacity.listeners;
    header.accepts = capacity.accepts;
    header.conns = capacity.conns;
    header.time_wait = capacity.time_wait;
    header.request_log = capacity.request_log;
    header.handshakes = capacity.handshakes;
    std::memcpy(static_cast<char*>(r.region_->base()) + kRegistryHeaderOffset, &header,
                sizeof header);
    Status init = shm::init_region_header(r.region_->base(), r.region_->size(),
                                          shm::RegionKind::kConnRegistry, kRegistryLayoutVersion);
    if (!init) return make_error("conn registry " + path + ": " + init.error().message);
  }
  Status attached = r.attach_tables();
  if (!attached) return attached.error();
  r.load_tables();
  return r;
}

Status ConnRegistry::attach_tables() {
  const Layout l = layout_for(capacity_);
  char* base = static_cast<char*>(region_->base());
  auto table = [&](auto* table_ptr, uint64_t offset, uint32_t count, uint32_t tag) {
    using T = std::remove_pointer_t<decltype(table_ptr)>;
    using S = std::remove_pointer_t<decltype(std::declval<T>().raw_slot(0))>;
    *table_ptr = T(reinterpret_cast<S*>(base + offset), count, tag);
  };
  if (l.total > region_->size()) {
    return make_error("conn registry " + region_->name() + ": mapping too small for its tables");
  }
  table(&meta_, l.meta, 1, kTagMeta);
  table(&apps_, l.apps, capacity_.apps, kTagApps);
  table(&listeners_, l.listeners, capacity_.listeners, kTagListeners);
  table(&accepts_, l.accepts, capacity_.accepts, kTagAccepts);
  table(&conns_, l.conns, capacity_.conns, kTagConns);
  table(&time_wait_, l.time_wait, capacity_.time_wait, kTagTimeWait);
  table(&request_log_, l.request_log, capacity_.request_log, kTagRequestLog);
  table(&handshakes_, l.handshakes, capacity_.handshakes, kTagHandshakes);
  return Status();
}

void ConnRegistry::load_tables() {
  RegistryContents& c = contents_;
  LoadedRecords<MetaRecord> meta;
  c.stats.emplace_back("meta", meta_.load(&meta));
  if (!meta.empty()) {
    c.has_meta = true;
    c.meta = meta.front().second;
    meta_slot_ = meta.front().first;
  }
  c.stats.emplace_back("apps", apps_.load(&c.apps));
  c.stats.emplace_back("listeners", listeners_.load(&c.listeners));
  c.stats.emplace_back("accepts", accepts_.load(&c.accepts));
  c.stats.emplace_back("conns", conns_.load(&c.conns));
  c.stats.emplace_back("time_wait", time_wait_.load(&c.time_wait));
  c.stats.emplace_back("request_log", request_log_.load(&c.request_log));
  c.stats.emplace_back("handshakes", handshakes_.load(&c.handshakes));
}

void ConnRegistry::store_meta(const MetaRecord& meta) {
  if (meta_slot_ == kNoSlot) {
    auto slot = meta_.insert(meta);
    if (slot) meta_slot_ = *slot;
    return;
  }
  meta_.update(meta_slot_, meta);
}

}  // namespace vtas::conn
