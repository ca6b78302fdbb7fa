// 2-D max and average pooling (NHWC, float32) and their gradients, as direct loops (OpenMP over batch x rows, SIMD
// over channels). They reproduce tfjs' cpu kernels exactly, quirks included:
//  - max ignores NaN and keeps the first maximum of a window in row-major order (strict >), -inf for an empty window;
//  - the max gradient goes to that first maximum only (tfjs' maxPoolPositions), nothing when the window had none;
//  - average divides by the number of in-bounds elements (padding excluded), summing in double like JavaScript;
//  - the average gradient divides by the full window area (tfjs' avgPoolGrad does, even for padded windows).
// oneDNN's pooling is not used: its max backward needs the forward's workspace, which tfjs' MaxPoolGrad lacks.
#include <omp.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>
#include "common.h"

namespace {

constexpr int64_t kParallelMin = 32768;  // output elements; below this the loops stay on the calling thread

// Arguments after the buffers, in order: n, h, w, c, oh, ow, fh, fw, sh, sw, padTop, padLeft
struct Pool {
  int64_t n, h, w, c, oh, ow, fh, fw, sh, sw, pt, pl;
  static Pool from(const Napi::CallbackInfo& info, size_t first) {
    int64_t v[12];
    for (int k = 0; k < 12; k++) v[k] = dfer::i64(info, first + k);
    Pool p{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]};
    for (int k = 0; k < 12; k++)
      if (v[k] < 0) throw std::invalid_argument("negative pooling geometry");
    if (p.fh == 0 || p.fw == 0 || p.sh == 0 || p.sw == 0) throw std::invalid_argument("empty window or zero stride");
    return p;
  }
  int64_t inSize() const { return n * h * w * c; }
  int64_t outSize() const { return n * oh * ow * c; }
  // The in-bounds rows [r0, r1) of output row oy's window (empty when r1 <= r0).
  void rows(int64_t oy, int64_t& r0, int64_t& r1) const {
    int64_t corner = oy * sh - pt;
    r0 = std::max<int64_t>(0, corner), r1 = std::min(h, corner + fh);
  }
  void cols(int64_t ox, int64_t& q0, int64_t& q1) const {
    int64_t corner = ox * sw - pl;
    q0 = std::max<int64_t>(0, corner), q1 = std::min(w, corner + fw);
  }
  // The output rows whose windows contain input row r: [oy0, oy1).
  void outRows(int64_t r, int64_t& oy0, int64_t& oy1) const {
    // corner = oy*sh - pt <= r  and  corner + fh > r
    oy0 = std::max<int64_t>(0, ceilDiv(r + pt - fh + 1, sh));
    oy1 = std::min(oh, floorDiv(r + pt, sh) + 1);
  }
  // outRows for every input column q, as [ox0, ox1) pairs (computed once: integer division is slow).
  std::vector<int64_t> outColRanges() const {
    std::vector<int64_t> r(2 * w);
    for (int64_t q = 0; q < w; q++) {
      r[2 * q] = std::max<int64_t>(0, ceilDiv(q + pl - fw + 1, sw));
      r[2 * q + 1] = std::min(ow, floorDiv(q + pl, sw) + 1);
    }
    return r;
  }
  static int64_t floorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
  static int64_t ceilDiv(int64_t a, int64_t b) { return -floorDiv(-a, b); }
};

// g as a double where `take`, else +0.0: a select by bit mask, which GCC vectorizes (a ternary mixing int32
// comparisons with double lanes it leaves scalar, 5x slower).
inline double takeIf(bool take, float g) {
  double d = g;
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  bits &= -static_cast<uint64_t>(take);
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

void checkLength(const Napi::CallbackInfo& info, size_t i, int64_t expected, const char* what) {
  if (static_cast<int64_t>(dfer::f32len(info, i)) != expected)
    throw std::invalid_argument(std::string(what) + " has " + std::to_string(dfer::f32len(info, i)) +
                                " elements, expected " + std::to_string(expected));
}

// Calls visit(b, oy, ox, r0, r1, q0, q1) for every output element, with its window's input rows [r0, r1) and columns
// [q0, q1) (padding excluded); the output rows are split over the threads of the enclosing parallel region.
template <typename Visit>
void forEachWindow(const Pool& p, Visit&& visit) {
#pragma omp for schedule(static)
  for (int64_t task = 0; task < p.n * p.oh; task++) {
    const int64_t b = task / p.oh, oy = task % p.oh;
    int64_t r0, r1;
    p.rows(oy, r0, r1);
    for (int64_t ox = 0; ox < p.ow; ox++) {
      int64_t q0, q1;
      p.cols(ox, q0, q1);
      visit(b, oy, ox, r0, r1, q0, q1);
    }
  }
}

// maxPool(y, x, ...geometry)
Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  return dfer::guarded(info, "maxPool", [&] {
    const Pool p = Pool::from(info, 2);
    checkLength(info, 0, p.outSize(), "y");
    checkLength(info, 1, p.inSize(), "x");
    float* y = dfer::f32(info, 0);
    const float* x = dfer::f32(info, 1);
    const int64_t c = p.c;
#pragma omp parallel if (p.outSize() >= kParallelMin)
    forEachWindow(p, [&](int64_t b, int64_t oy, int64_t ox, int64_t r0, int64_t r1, int64_t q0, int64_t q1) {
      float* out = y + ((b * p.oh + oy) * p.ow + ox) * c;
      std::fill(out, out + c, -std::numeric_limits<float>::infinity());
      for (int64_t r = r0; r < r1; r++) {
        for (int64_t q = q0; q < q1; q++) {
          const float* px = x + ((b * p.h + r) * p.w + q) * c;
#pragma omp simd
          for (int64_t ch = 0; ch < c; ch++) out[ch] = px[ch] > out[ch] ? px[ch] : out[ch];
        }
      }
    });
  });
}

// avgPool(y, x, ...geometry)
Napi::Value AvgPool(const Napi::CallbackInfo& info) {
  return dfer::guarded(info, "avgPool", [&] {
    const Pool p = Pool::from(info, 2);
    checkLength(info, 0, p.outSize(), "y");
    checkLength(info, 1, p.inSize(), "x");
    float* y = dfer::f32(info, 0);
    const float* x = dfer::f32(info, 1);
    const int64_t c = p.c;
#pragma omp parallel if (p.outSize() >= kParallelMin)
    {
      std::vector<double> acc(c);
      forEachWindow(p, [&](int64_t b, int64_t oy, int64_t ox, int64_t r0, int64_t r1, int64_t q0, int64_t q1) {
        std::fill(acc.begin(), acc.end(), 0.0);
        double* a = acc.data();
        for (int64_t r = r0; r < r1; r++) {
          for (int64_t q = q0; q < q1; q++) {
            const float* px = x + ((b * p.h + r) * p.w + q) * c;
#pragma omp simd
            for (int64_t ch = 0; ch < c; ch++) a[ch] += px[ch];
          }
        }
        // An empty window (all padding) gives 0/0 = NaN, as in tfjs.
        const double count = static_cast<double>(std::max<int64_t>(0, r1 - r0) * std::max<int64_t>(0, q1 - q0));
        float* out = y + ((b * p.oh + oy) * p.ow + ox) * c;
        for (int64_t ch = 0; ch < c; ch++) out[ch] = static_cast<float>(a[ch] / count);
      });
    }
  });
}

// The backward passes' gather, called inside a parallel region: for every input element (b, r, q), sum over the
// output windows that contain it, in tfjs' order (output rows, then columns), of `add(a, o, here)`, where o is the
// offset of that window's output element and `here` the input's position inside the window (row * fw + col); then
// dx = sum * scale. Gathering per input element needs no atomics and keeps tfjs' summation order.
template <typename Add>
void gatherWindows(const Pool& p, const std::vector<int64_t>& colRanges, float* dx, double scale, Add&& add) {
  const int64_t c = p.c;
  std::vector<double> acc(c);
#pragma omp for schedule(static)
  for (int64_t task = 0; task < p.n * p.h; task++) {
    const int64_t b = task / p.h, r = task % p.h;
    int64_t oy0, oy1;
    p.outRows(r, oy0, oy1);
    for (int64_t q = 0; q < p.w; q++) {
      const int64_t ox0 = colRanges[2 * q], ox1 = colRanges[2 * q + 1];
      double* a = acc.data();
      std::fill(a, a + c, 0.0);
      for (int64_t oy = oy0; oy < oy1; oy++) {
        for (int64_t ox = ox0; ox < ox1; ox++) {
          const int32_t here = static_cast<int32_t>((r - (oy * p.sh - p.pt)) * p.fw + (q - (ox * p.sw - p.pl)));
          add(a, ((b * p.oh + oy) * p.ow + ox) * c, here);
        }
      }
      float* out = dx + ((b * p.h + r) * p.w + q) * c;
      for (int64_t ch = 0; ch < c; ch++) out[ch] = static_cast<float>(a[ch] * scale);
    }
  }
}

// maxPoolGrad(dx, dy, x, ...geometry): dx gets each dy at the first maximum of its window.
// Pass 1 records, per output element, the window position (row * fw + col) of that maximum, or -1; pass 2 gathers,
// per input element, the dy of the windows whose maximum it is, in tfjs' order (output rows, then columns).
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  return dfer::guarded(info, "maxPoolGrad", [&] {
    const Pool p = Pool::from(info, 3);
    checkLength(info, 0, p.inSize(), "dx");
    checkLength(info, 1, p.outSize(), "dy");
    checkLength(info, 2, p.inSize(), "x");
    float* dx = dfer::f32(info, 0);
    const float* dy = dfer::f32(info, 1);
    const float* x = dfer::f32(info, 2);
    const int64_t c = p.c;
    const bool parallel = p.inSize() >= kParallelMin;
    const std::vector<int64_t> colRanges = p.outColRanges();
    // Kept between calls (kernels run on the JavaScript thread only): a fresh vector zero-fills and page-faults one int
    // per output element every training step, a third of this kernel's time at the stem's max-pool.
    static std::vector<int32_t> positions;
    if (positions.size() < static_cast<size_t>(p.outSize())) positions.resize(p.outSize());
    int32_t* pos = positions.data();
#pragma omp parallel if (parallel)
    {
      std::vector<float> best(c);
      forEachWindow(p, [&](int64_t b, int64_t oy, int64_t ox, int64_t r0, int64_t r1, int64_t q0, int64_t q1) {
        const int64_t rowCorner = oy * p.sh - p.pt, colCorner = ox * p.sw - p.pl;
        int32_t* at = pos + ((b * p.oh + oy) * p.ow + ox) * c;
        float* m = best.data();
        std::fill(m, m + c, -std::numeric_limits<float>::infinity());
        std::fill(at, at + c, -1);
        for (int64_t r = r0; r < r1; r++) {
          for (int64_t q = q0; q < q1; q++) {
            const float* px = x + ((b * p.h + r) * p.w + q) * c;
            const int32_t here = static_cast<int32_t>((r - rowCorner) * p.fw + (q - colCorner));
#pragma omp simd
            for (int64_t ch = 0; ch < c; ch++) {
              const bool greater = px[ch] > m[ch];
              m[ch] = greater ? px[ch] : m[ch];
              at[ch] = greater ? here : at[ch];
            }
          }
        }
      });
      gatherWindows(p, colRanges, dx, 1.0, [&](double* a, int64_t o, int32_t here) {
        const int32_t* at = pos + o;
        const float* g = dy + o;
#pragma omp simd
        for (int64_t ch = 0; ch < c; ch++) a[ch] += takeIf(at[ch] == here, g[ch]);
      });
    }
  });
}

// avgPoolGrad(dx, dy, ...geometry): dx = sum of dy over the windows containing the element / (fh * fw).
Napi::Value AvgPoolGrad(const Napi::CallbackInfo& info) {
  return dfer::guarded(info, "avgPoolGrad", [&] {
    const Pool p = Pool::from(info, 2);
    checkLength(info, 0, p.inSize(), "dx");
    checkLength(info, 1, p.outSize(), "dy");
    float* dx = dfer::f32(info, 0);
    const float* dy = dfer::f32(info, 1);
    const int64_t c = p.c;
    const double scale = 1.0 / static_cast<double>(p.fh * p.fw);
    const std::vector<int64_t> colRanges = p.outColRanges();
#pragma omp parallel if (p.inSize() >= kParallelMin)
    gatherWindows(p, colRanges, dx, scale, [&](double* a, int64_t o, int32_t) {
      const float* g = dy + o;
#pragma omp simd
      for (int64_t ch = 0; ch < c; ch++) a[ch] += g[ch];
    });
  });
}

DFER_EXPORT("maxPool", MaxPool);
DFER_EXPORT("avgPool", AvgPool);
DFER_EXPORT("maxPoolGrad", MaxPoolGrad);
DFER_EXPORT("avgPoolGrad", AvgPoolGrad);

}  // namespace
