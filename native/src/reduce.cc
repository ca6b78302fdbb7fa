// Reductions (sum, mean, max, min over any set of axes) and softmax over the last axis, float32 in and out.
// Sums accumulate in double like tfjs' cpu kernels (which add float32 values into JavaScript numbers), so that sums of
// 10^5 terms stay exact to float32 rounding; max and min propagate NaN like the cpu kernels.
//
// reduce(out, x, op, dims, reduced): dims is x's shape with size-1 axes dropped and adjacent axes of the same kind
//   merged (src/native/kernels/reduce.ts), reduced[k] says whether axis k is reduced; out holds the kept axes in
//   order. The layouts the model uses have fast paths: [rows, R] (last axes), [R, C] (all but the last: per-channel
//   BatchNorm sums), [O, R, C] (the middle: spatial means), [R] (everything). Others take one strided pass.
// softmax(out, x, rows, d): softmax over the last axis (length d) of a [rows, d] tensor.
#include <omp.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include "common.h"

namespace {

constexpr int64_t kParallel = 32768;  // below this, thread start-up costs more than it saves

enum ReduceOp { kSum = 0, kMean, kMax, kMin, kProd };

// An accumulator: T is what partial results are kept in, add folds in one value, merge two partials.
struct SumAcc {
  using T = double;
  static T init() { return 0.0; }
  static T add(T a, float v) { return a + static_cast<double>(v); }
  static T merge(T a, T b) { return a + b; }
};
struct ProdAcc {
  using T = double;
  static T init() { return 1.0; }
  static T add(T a, float v) { return a * static_cast<double>(v); }
  static T merge(T a, T b) { return a * b; }
};
// Once NaN, always NaN (v > NaN and v != v are both false for an ordinary v), as in tfjs' Max and Min kernels.
struct MaxAcc {
  using T = float;
  static T init() { return -std::numeric_limits<float>::infinity(); }
  static T add(T a, float v) { return v != v ? v : (v > a ? v : a); }  // ternaries only: GCC turns them into blends
  static T merge(T a, T b) { return add(a, b); }
};
struct MinAcc {
  using T = float;
  static T init() { return std::numeric_limits<float>::infinity(); }
  static T add(T a, float v) { return v != v ? v : (v < a ? v : a); }
  static T merge(T a, T b) { return add(a, b); }
};

// Reduce n contiguous values, 16 lanes at a time. GCC's vector extensions (lowered to AVX-512, AVX2 or SSE, whatever
// -march=native offers) because neither the double accumulation (not reassociable) nor the NaN-propagating max
// (a branch) would be vectorised from scalar code.
typedef float F8 __attribute__((vector_size(32)));
typedef float F16 __attribute__((vector_size(64)));
typedef double D8 __attribute__((vector_size(64)));
typedef int32_t I16 __attribute__((vector_size(64)));

template <class V>
inline V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class A>
typename A::T contiguous(const float* __restrict p, int64_t n);

template <>
double contiguous<SumAcc>(const float* __restrict p, int64_t n) {
  D8 a0 = {}, a1 = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 += __builtin_convertvector(load<F8>(p + i), D8);
    a1 += __builtin_convertvector(load<F8>(p + i + 8), D8);
  }
  D8 a = a0 + a1;
  double r = 0.0;
  for (int k = 0; k < 8; k++) r += a[k];
  for (; i < n; i++) r += static_cast<double>(p[i]);
  return r;
}

template <>
double contiguous<ProdAcc>(const float* __restrict p, int64_t n) {
  double r = 1.0;
  for (int64_t i = 0; i < n; i++) r *= static_cast<double>(p[i]);
  return r;
}

// Max and min: a plain vector max or min, and a separate record of NaN (which wins, as in tfjs).
template <bool kMax>
inline float extreme(const float* __restrict p, int64_t n) {
  const float start = kMax ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  F16 m = start - F16{};
  I16 nan = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    F16 v = load<F16>(p + i);
    m = (kMax ? v > m : v < m) ? v : m;
    nan |= v != v;
  }
  float r = start;
  bool isNan = false;
  for (int k = 0; k < 16; k++) {
    r = kMax ? (m[k] > r ? m[k] : r) : (m[k] < r ? m[k] : r);
    isNan |= nan[k] != 0;
  }
  for (; i < n; i++) {
    r = kMax ? (p[i] > r ? p[i] : r) : (p[i] < r ? p[i] : r);
    isNan |= p[i] != p[i];
  }
  return isNan ? std::numeric_limits<float>::quiet_NaN() : r;
}

template <>
float contiguous<MaxAcc>(const float* __restrict p, int64_t n) { return extreme<true>(p, n); }
template <>
float contiguous<MinAcc>(const float* __restrict p, int64_t n) { return extreme<false>(p, n); }

// acc[j] folds in p[r * cols + j] for r in [0, rows).
template <class A>
void columns(typename A::T* __restrict acc, const float* __restrict p, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict q = p + r * cols;
    for (int64_t j = 0; j < cols; j++) acc[j] = A::add(acc[j], q[j]);
  }
}

// The output value from an accumulator: the mean divides by the number of reduced values.
template <class A>
inline float finish(typename A::T v, double count, bool mean) {
  return static_cast<float>(mean ? static_cast<double>(v) / count : static_cast<double>(v));
}

// [O, R] reduced over R (contiguous rows).
template <class A>
void reduceRows(float* out, const float* x, int64_t O, int64_t R, bool mean) {
  using T = typename A::T;
  const int64_t total = O * R;
  const int nt = omp_get_max_threads();
  if (total < kParallel || O >= 8 * nt || R < 4096) {
#pragma omp parallel for if (total >= kParallel) schedule(static)
    for (int64_t o = 0; o < O; o++) out[o] = finish<A>(contiguous<A>(x + o * R, R), R, mean);
    return;
  }
  // Few long rows: every row is split between the threads, the partials merged in thread order.
  std::vector<T> part(nt);
  for (int64_t o = 0; o < O; o++) {
    const float* p = x + o * R;
#pragma omp parallel num_threads(nt)
    {
      const int t = omp_get_thread_num(), n = omp_get_num_threads();
      const int64_t r0 = R * t / n, r1 = R * (t + 1) / n;
      part[t] = contiguous<A>(p + r0, r1 - r0);
      if (t == 0)
        for (int k = n; k < nt; k++) part[k] = A::init();
    }
    T r = A::init();
    for (int k = 0; k < nt; k++) r = A::merge(r, part[k]);
    out[o] = finish<A>(r, R, mean);
  }
}

// [O, R, C] reduced over R: O independent column reductions of R rows of C values.
template <class A>
void reduceMiddle(float* out, const float* x, int64_t O, int64_t R, int64_t C, bool mean) {
  using T = typename A::T;
  const int64_t total = O * R * C;
  const int nt = omp_get_max_threads();
  if (total < kParallel || O >= 2 * nt) {
    // Enough outer blocks: one per work item, each with its own accumulator row.
#pragma omp parallel if (total >= kParallel)
    {
      std::vector<T> acc(C);
#pragma omp for schedule(static)
      for (int64_t o = 0; o < O; o++) {
        std::fill(acc.begin(), acc.end(), A::init());
        columns<A>(acc.data(), x + o * R * C, R, C);
        for (int64_t j = 0; j < C; j++) out[o * C + j] = finish<A>(acc[j], R, mean);
      }
    }
    return;
  }
  for (int64_t o = 0; o < O; o++) {
    const float* p = x + o * R * C;
    float* q = out + o * C;
    if (R >= 4 * nt) {
      // Split the rows: per-thread partial sums over a block of rows, then merged in thread order.
      std::vector<T> part(static_cast<size_t>(nt) * C, A::init());
#pragma omp parallel num_threads(nt)
      {
        const int t = omp_get_thread_num(), n = omp_get_num_threads();
        const int64_t r0 = R * t / n, r1 = R * (t + 1) / n;
        columns<A>(part.data() + static_cast<size_t>(t) * C, p + r0 * C, r1 - r0, C);
      }
#pragma omp parallel for if (C >= kParallel) schedule(static)
      for (int64_t j = 0; j < C; j++) {
        T r = A::init();
        for (int k = 0; k < nt; k++) r = A::merge(r, part[static_cast<size_t>(k) * C + j]);
        q[j] = finish<A>(r, R, mean);
      }
    } else {
      // Few rows of many columns: split the columns.
#pragma omp parallel num_threads(nt)
      {
        const int t = omp_get_thread_num(), n = omp_get_num_threads();
        const int64_t j0 = C * t / n, j1 = C * (t + 1) / n;
        std::vector<T> acc(j1 - j0, A::init());
        for (int64_t r = 0; r < R; r++) {
          const float* __restrict s = p + r * C + j0;
          for (int64_t j = 0; j < j1 - j0; j++) acc[j] = A::add(acc[j], s[j]);
        }
        for (int64_t j = j0; j < j1; j++) q[j] = finish<A>(acc[j - j0], R, mean);
      }
    }
  }
}

// Any pattern of kept and reduced axes, in one strided pass with an accumulator per output value.
template <class A>
struct General {
  using T = typename A::T;
  const std::vector<int64_t>& dims;
  const std::vector<bool>& red;
  std::vector<int64_t> xs, os;  // strides of x and of the output (0 along reduced axes)

  General(const std::vector<int64_t>& d, const std::vector<bool>& r) : dims(d), red(r), xs(d.size()), os(d.size()) {
    int64_t sx = 1, so = 1;
    for (int k = static_cast<int>(d.size()) - 1; k >= 0; k--) {
      xs[k] = sx;
      sx *= d[k];
      os[k] = r[k] ? 0 : so;
      if (!r[k]) so *= d[k];
    }
  }
  void walk(size_t k, const float* x, T* acc) const {
    if (k + 1 == dims.size()) {
      if (red[k]) *acc = A::merge(*acc, contiguous<A>(x, dims[k]));
      else
        for (int64_t j = 0; j < dims[k]; j++) acc[j] = A::add(acc[j], x[j]);
      return;
    }
    for (int64_t i = 0; i < dims[k]; i++) walk(k + 1, x + i * xs[k], acc + i * os[k]);
  }
  void run(float* out, const float* x, int64_t outSize, double count, bool mean) const {
    std::vector<T> acc(outSize, A::init());
    int64_t total = 1;
    for (int64_t d : dims) total *= d;
    if (!red[0] && dims.size() > 1) {
      // The outermost axis is kept: its slices write disjoint outputs.
#pragma omp parallel for if (total >= kParallel) schedule(static)
      for (int64_t i = 0; i < dims[0]; i++) walk(1, x + i * xs[0], acc.data() + i * os[0]);
    } else {
      walk(0, x, acc.data());
    }
#pragma omp parallel for if (outSize >= kParallel) schedule(static)
    for (int64_t j = 0; j < outSize; j++) out[j] = finish<A>(acc[j], count, mean);
  }
};

template <class A>
void reduceWith(float* out, const float* x, int64_t outSize, const std::vector<int64_t>& dims, const std::vector<bool>& red,
                bool mean) {
  double count = 1;
  for (size_t k = 0; k < dims.size(); k++)
    if (red[k]) count *= static_cast<double>(dims[k]);
  const size_t n = dims.size();
  // Fast layouts: [R], [O, R], [R, C], [O, R, C] with R reduced.
  if (n == 1 && red[0]) return reduceRows<A>(out, x, 1, dims[0], mean);
  if (n == 2 && !red[0] && red[1]) return reduceRows<A>(out, x, dims[0], dims[1], mean);
  if (n == 2 && red[0] && !red[1]) return reduceMiddle<A>(out, x, 1, dims[0], dims[1], mean);
  if (n == 3 && !red[0] && red[1] && !red[2]) return reduceMiddle<A>(out, x, dims[0], dims[1], dims[2], mean);
  if (n == 0) {  // a single value
    out[0] = finish<A>(A::add(A::init(), x[0]), 1.0, mean);
    return;
  }
  General<A>(dims, red).run(out, x, outSize, count, mean);
}

Napi::Value Reduce(const Napi::CallbackInfo& info) {
  return dfer::guarded(info, "reduce", [&] {
    float* out = dfer::f32(info, 0);
    const float* x = dfer::f32(info, 1);
    const int op = static_cast<int>(dfer::i64(info, 2));
    std::vector<int64_t> dims = dfer::i64s(info, 3);
    std::vector<int64_t> flags = dfer::i64s(info, 4);
    if (flags.size() != dims.size()) throw std::invalid_argument("dims and reduced differ in length");
    std::vector<bool> red(flags.begin(), flags.end());
    int64_t total = 1, outSize = 1;
    for (size_t k = 0; k < dims.size(); k++) {
      total *= dims[k];
      if (!red[k]) outSize *= dims[k];
    }
    if (static_cast<int64_t>(dfer::f32len(info, 1)) != total || static_cast<int64_t>(dfer::f32len(info, 0)) != outSize)
      throw std::invalid_argument("buffer sizes do not match the shape");
    if (total == 0) throw std::invalid_argument("empty input");
    switch (op) {
      case kSum: return reduceWith<SumAcc>(out, x, outSize, dims, red, false);
      case kMean: return reduceWith<SumAcc>(out, x, outSize, dims, red, true);
      case kMax: return reduceWith<MaxAcc>(out, x, outSize, dims, red, false);
      case kMin: return reduceWith<MinAcc>(out, x, outSize, dims, red, false);
      case kProd: return reduceWith<ProdAcc>(out, x, outSize, dims, red, false);
      default: throw std::invalid_argument("unknown reduce op " + std::to_string(op));
    }
  });
}

// softmax(out, x, rows, d): per row, subtract the max, exponentiate, divide by the sum (accumulated in double).
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  return dfer::guarded(info, "softmax", [&] {
    float* out = dfer::f32(info, 0);
    const float* x = dfer::f32(info, 1);
    const int64_t rows = dfer::i64(info, 2), d = dfer::i64(info, 3);
    if (static_cast<int64_t>(dfer::f32len(info, 1)) != rows * d || static_cast<int64_t>(dfer::f32len(info, 0)) != rows * d)
      throw std::invalid_argument("buffer sizes do not match the shape");
#pragma omp parallel for if (rows * d >= kParallel) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
      const float* p = x + r * d;
      float* __restrict q = out + r * d;
      const float m = contiguous<MaxAcc>(p, d);
      dfer::expShifted(q, p, m, d);
      // tfjs divides by the sum in double; multiplying by the double reciprocal gives the same float32 but for rare
      // double-rounding cases (one ulp).
      const double inv = 1.0 / contiguous<SumAcc>(q, d);
      for (int64_t j = 0; j < d; j++) q[j] = static_cast<float>(static_cast<double>(q[j]) * inv);
    }
  });
}

DFER_EXPORT("reduce", Reduce);
DFER_EXPORT("softmax", Softmax);

}  // namespace
