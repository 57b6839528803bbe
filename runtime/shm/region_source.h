// RegionSource: where an actor gets a region another process creates and may re-create, such
// as the fast path's flow table (`<runtime_dir>/flows`), which the timer and cc actors map
// read-write. FileRegionSource opens the file at a path; tests hand the actor a source of
// their own (a memfd they laid a table out in).
#pragma once

#include <string>

#include "runtime/result.h"
#include "runtime/shm/region.h"

namespace vtas::shm {

class RegionSource {
 public:
  virtual ~RegionSource() = default;
  // Maps the region. Fails while its owner has not created it yet.
  virtual Result<Region> open() = 0;
  // False once `mapped` is no longer the owner's region (a restarted owner creates a new file
  // in place of the old one: the old mapping stays valid but nobody writes it).
  virtual bool is_current(const Region& mapped) const = 0;
  // For log lines: the path, or what the test calls it.
  virtual std::string describe() const = 0;
};

class FileRegionSource final : public RegionSource {
 public:
  explicit FileRegionSource(std::string path) : path_(std::move(path)) {}
  Result<Region> open() override;
  // Same device and inode as the file at the path now.
  bool is_current(const Region& mapped) const override;
  std::string describe() const override { return path_; }

 private:
  std::string path_;
};

}  // namespace vtas::shm
