#include "components/fastpath/tcp/out_of_order.h"

#include "components/fastpath/tcp/seq.h"

namespace vtas::tcp {
namespace {

uint32_t end_of(const abi::OooInterval& iv) {
  return iv.start + iv.len;
}

}  // namespace

bool ooo_add(abi::FlowState& fs, uint32_t start, uint32_t end) {
  const uint32_t count = fs.rx_ooo_count < abi::kMaxOooIntervals ? fs.rx_ooo_count
                                                                  : abi::kMaxOooIntervals;
  abi::OooInterval* iv = fs.rx_ooo;
  // [first, last): the intervals the new range overlaps or touches (contiguous: sorted).
  uint32_t first = 0;
  while (first < count && seq_lt(end_of(iv[first]), start)) ++first;
  uint32_t last = first;
  while (last < count && seq_leq(iv[last].start, end)) ++last;

  if (first == last) {  // touches none: a new interval at `first`
    if (count == abi::kMaxOooIntervals) return false;
    for (uint32_t i = count; i > first; --i) iv[i] = iv[i - 1];
    iv[first] = {start, end - start};
    fs.rx_ooo_count = static_cast<uint8_t>(count + 1);
  } else {  // merge [first, last) and the new range into iv[first]
    const uint32_t merged_start = seq_min(start, iv[first].start);
    const uint32_t merged_end = seq_max(end, end_of(iv[last - 1]));
    iv[first] = {merged_start, merged_end - merged_start};
    const uint32_t removed = last - first - 1;
    for (uint32_t i = first + 1; i + removed < count; ++i) iv[i] = iv[i + removed];
    fs.rx_ooo_count = static_cast<uint8_t>(count - removed);
  }
  fs.rx_ooo_recent = static_cast<uint8_t>(first);
  return true;
}

bool ooo_take_reached(abi::FlowState& fs, uint32_t* beyond) {
  if (fs.rx_ooo_count == 0 || seq_gt(fs.rx_ooo[0].start, fs.rx_next_seq)) return false;
  const uint32_t end = end_of(fs.rx_ooo[0]);
  *beyond = seq_gt(end, fs.rx_next_seq) ? end - fs.rx_next_seq : 0;
  const uint32_t count = fs.rx_ooo_count < abi::kMaxOooIntervals ? fs.rx_ooo_count
                                                                  : abi::kMaxOooIntervals;
  for (uint32_t i = 1; i < count; ++i) fs.rx_ooo[i - 1] = fs.rx_ooo[i];
  fs.rx_ooo_count = static_cast<uint8_t>(count - 1);
  fs.rx_ooo_recent = fs.rx_ooo_recent > 0 ? static_cast<uint8_t>(fs.rx_ooo_recent - 1) : 0;
  return true;
}

size_t ooo_sack_blocks(const abi::FlowState& fs, abi::OooInterval* out, size_t max) {
  const uint32_t count = fs.rx_ooo_count < abi::kMaxOooIntervals ? fs.rx_ooo_count
                                                                  : abi::kMaxOooIntervals;
  const uint32_t recent = fs.rx_ooo_recent < count ? fs.rx_ooo_recent : 0;
  size_t n = 0;
  if (count != 0 && n < max) out[n++] = fs.rx_ooo[recent];
  for (uint32_t i = 0; i < count && n < max; ++i) {
    if (i != recent) out[n++] = fs.rx_ooo[i];
  }
  return n;
}

}  // namespace vtas::tcp
