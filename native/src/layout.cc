// Data movement for 4-byte elements (float32 and int32 alike: values are copied as bits): one strided copy over an
// index box, and a strided fill. Every layout kernel in src/native/kernels/layout.ts (transpose, slice, reverse, tile,
// pad, concat, split, stack, ...) is one or a few calls of these.
//
//   dst[dstOffset + sum_i idx_i * dstStrides_i] = src[srcOffset + sum_i idx_i * srcStrides_i]   for idx in shape
//
// Strides may be negative (reverse) or 0 (broadcast). Before copying, dimensions of size 1 are dropped and neighbours
// that are contiguous in both arrays are merged; the innermost run is then copied by memcpy (both strides 1), filled
// (source stride 0), copied through small 2-D tiles (a transpose: the destination is contiguous along one axis and
// the source along another) or element by element. Large copies are split over OpenMP threads.
#include <omp.h>
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include "common.h"

namespace {

constexpr int kMaxRank = 16;
constexpr int64_t kParallelMin = 32768;  // elements; below this a copy stays on the calling thread
constexpr int64_t kTile = 16;            // transpose tile edge (elements)

struct Words {
  uint32_t* data;
  int64_t length;
};

// A Float32Array or Int32Array (any 4-byte typed array), its offset into its buffer applied.
Words words(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsTypedArray()) throw std::invalid_argument("argument " + std::to_string(i) + " is not a typed array");
  Napi::TypedArray t = info[i].As<Napi::TypedArray>();
  if (t.ElementSize() != 4) throw std::invalid_argument("argument " + std::to_string(i) + " has elements of " +
                                                        std::to_string(t.ElementSize()) + " bytes, not 4");
  auto* base = static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
  return {reinterpret_cast<uint32_t*>(base), static_cast<int64_t>(t.ElementLength())};
}

// An index box with the strides of both arrays along each of its axes.
struct Box {
  int rank = 0;
  int64_t n[kMaxRank], ds[kMaxRank], ss[kMaxRank];
  int64_t size() const {
    int64_t s = 1;
    for (int i = 0; i < rank; i++) s *= n[i];
    return s;
  }
};

Box makeBox(const std::vector<int64_t>& shape, const std::vector<int64_t>& ds, const std::vector<int64_t>& ss) {
  if (shape.size() != ds.size() || shape.size() != ss.size()) throw std::invalid_argument("shape and strides differ in rank");
  if (shape.size() > kMaxRank) throw std::invalid_argument("rank above " + std::to_string(kMaxRank));
  Box b;
  b.rank = static_cast<int>(shape.size());
  for (int i = 0; i < b.rank; i++) {
    if (shape[i] < 0) throw std::invalid_argument("negative extent");
    b.n[i] = shape[i], b.ds[i] = ds[i], b.ss[i] = ss[i];
  }
  return b;
}

// Drop axes of extent 1 and merge an axis into its inner neighbour when both arrays step over it contiguously.
Box simplify(const Box& in) {
  Box out;
  for (int i = 0; i < in.rank; i++) {
    if (in.n[i] == 1) continue;
    int k = out.rank;
    out.n[k] = in.n[i], out.ds[k] = in.ds[i], out.ss[k] = in.ss[i];
    out.rank++;
    if (k > 0 && out.ds[k - 1] == out.n[k] * out.ds[k] && out.ss[k - 1] == out.n[k] * out.ss[k]) {
      out.n[k - 1] *= out.n[k];
      out.ds[k - 1] = out.ds[k], out.ss[k - 1] = out.ss[k];
      out.rank--;
    }
  }
  return out;
}

// The lowest and highest element the box touches from `offset` with strides `st` must lie inside [0, length).
void checkBounds(const Box& b, const int64_t* st, int64_t offset, int64_t length, const char* which) {
  int64_t lo = offset, hi = offset;
  for (int i = 0; i < b.rank; i++) {
    int64_t reach = (b.n[i] - 1) * st[i];
    (reach < 0 ? lo : hi) += reach;
  }
  if (lo < 0 || hi >= length)
    throw std::out_of_range(std::string(which) + " indices [" + std::to_string(lo) + ", " + std::to_string(hi) +
                            "] outside an array of " + std::to_string(length));
}

// Call body(task, dstOffset, srcOffset) for every index of the outer axes (0 .. rank-1) times `chunks` tasks each,
// split over threads when `parallel`; each thread decodes its first index once and then steps like an odometer.
template <typename Body>
void forEachTask(int rank, const int64_t* n, const int64_t* ds, const int64_t* ss, int64_t chunks, bool parallel,
                 Body body) {
  int64_t outer = 1;
  for (int i = 0; i < rank; i++) outer *= n[i];
  const int64_t tasks = outer * chunks;
#pragma omp parallel if (parallel && tasks > 1)
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t first = tasks * t / nt, last = tasks * (t + 1) / nt;
    if (first < last) {
      int64_t idx[kMaxRank];
      int64_t o = first / chunks, chunk = first % chunks, d = 0, s = 0;
      for (int i = rank - 1; i >= 0; i--) {
        idx[i] = o % n[i];
        o /= n[i];
        d += idx[i] * ds[i], s += idx[i] * ss[i];
      }
      for (int64_t task = first; task < last; task++) {
        body(chunk, d, s);
        if (++chunk < chunks) continue;
        chunk = 0;
        for (int i = rank - 1; i >= 0; i--) {  // next outer index
          d += ds[i], s += ss[i];
          if (++idx[i] < n[i]) break;
          d -= n[i] * ds[i], s -= n[i] * ss[i];
          idx[i] = 0;
        }
      }
    }
  }
}

void copyBox(uint32_t* dst, const uint32_t* src, const Box& box) {
  const Box b = simplify(box);
  if (b.rank == 0) {
    dst[0] = src[0];
    return;
  }
  const int64_t total = b.size();
  if (total == 0) return;
  const bool parallel = total >= kParallelMin && omp_get_max_threads() > 1;
  const int in = b.rank - 1;
  const int64_t len = b.n[in], dsi = b.ds[in], ssi = b.ss[in];

  // A transpose: one stride-1 axis in each array, different ones. Copy 2-D tiles so both sides stay in cache.
  int other = -1;
  if (b.rank >= 2 && (dsi == 1) != (ssi == 1) && len >= 4) {
    for (int i = in - 1; i >= 0; i--) {
      if ((dsi == 1 ? b.ss[i] : b.ds[i]) == 1) {
        other = i;
        break;
      }
    }
  }
  if (other >= 0 && b.n[other] >= 4) {
    Box outer;
    for (int i = 0; i < in; i++) {
      if (i == other) continue;
      outer.n[outer.rank] = b.n[i], outer.ds[outer.rank] = b.ds[i], outer.ss[outer.rank] = b.ss[i];
      outer.rank++;
    }
    const int64_t rows = b.n[other], dsr = b.ds[other], ssr = b.ss[other];
    const int64_t chunks = (rows + kTile - 1) / kTile;
    forEachTask(outer.rank, outer.n, outer.ds, outer.ss, chunks, parallel, [&](int64_t chunk, int64_t d, int64_t s) {
      const int64_t r0 = chunk * kTile, r1 = std::min(rows, r0 + kTile);
      for (int64_t c0 = 0; c0 < len; c0 += kTile) {
        const int64_t c1 = std::min(len, c0 + kTile);
        for (int64_t r = r0; r < r1; r++) {
          uint32_t* dp = dst + d + r * dsr;
          const uint32_t* sp = src + s + r * ssr;
          for (int64_t c = c0; c < c1; c++) dp[c * dsi] = sp[c * ssi];
        }
      }
    });
    return;
  }

  // Otherwise the innermost axis is the run; split it into chunks only when there are few outer indices.
  const int64_t outerCount = total / len;
  int64_t chunkLen = len;
  if (parallel && outerCount < 4 * omp_get_max_threads()) {
    chunkLen = std::max<int64_t>(4096, (len + 4 * omp_get_max_threads() - 1) / (4 * omp_get_max_threads()));
  }
  const int64_t chunks = (len + chunkLen - 1) / chunkLen;
  forEachTask(in, b.n, b.ds, b.ss, chunks, parallel, [&](int64_t chunk, int64_t d, int64_t s) {
    const int64_t c0 = chunk * chunkLen, c1 = std::min(len, c0 + chunkLen);
    uint32_t* dp = dst + d;
    const uint32_t* sp = src + s;
    if (dsi == 1 && ssi == 1) {
      std::memcpy(dp + c0, sp + c0, (c1 - c0) * sizeof(uint32_t));
    } else if (dsi == 1 && ssi == 0) {
      std::fill(dp + c0, dp + c1, sp[0]);
    } else if (dsi == 1 && ssi == -1) {
      for (int64_t c = c0; c < c1; c++) dp[c] = sp[-c];
    } else {
      for (int64_t c = c0; c < c1; c++) dp[c * dsi] = sp[c * ssi];
    }
  });
}

// stridedCopy(dst, src, dstOffset, srcOffset, shape, dstStrides, srcStrides)
Napi::Value StridedCopy(const Napi::CallbackInfo& info) {
  return dfer::guarded(info, "stridedCopy", [&] {
    Words dst = words(info, 0), src = words(info, 1);
    int64_t dOff = dfer::i64(info, 2), sOff = dfer::i64(info, 3);
    Box box = makeBox(dfer::i64s(info, 4), dfer::i64s(info, 5), dfer::i64s(info, 6));
    if (box.size() == 0) return;
    checkBounds(box, box.ds, dOff, dst.length, "destination");
    checkBounds(box, box.ss, sOff, src.length, "source");
    copyBox(dst.data + dOff, src.data + sOff, box);
  });
}

// stridedFill(dst, dstOffset, shape, dstStrides, bits): bits is the 32-bit pattern of the value (an int32, or the
// float32's bits), so one function fills both dtypes. A fill is a copy from one element with all source strides 0.
Napi::Value StridedFill(const Napi::CallbackInfo& info) {
  return dfer::guarded(info, "stridedFill", [&] {
    Words dst = words(info, 0);
    int64_t dOff = dfer::i64(info, 1);
    std::vector<int64_t> shape = dfer::i64s(info, 2);
    Box box = makeBox(shape, dfer::i64s(info, 3), std::vector<int64_t>(shape.size(), 0));
    if (box.size() == 0) return;
    checkBounds(box, box.ds, dOff, dst.length, "destination");
    const uint32_t value = static_cast<uint32_t>(dfer::i64(info, 4));
    copyBox(dst.data + dOff, &value, box);
  });
}

DFER_EXPORT("stridedCopy", StridedCopy);
DFER_EXPORT("stridedFill", StridedFill);

}  // namespace
