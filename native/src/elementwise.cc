// Elementwise kernels: binary ops with numpy broadcasting, n-ary sums and unary maps, float32, multi-threaded above
// a size threshold. Results match tfjs' cpu kernels, which compute in float64 and round once to float32: the
// arithmetic ops are exact in float32 (or computed in double where float32 would round twice), the transcendental
// ones either run in double (cheap or rare ones) or use vectorisable float32 approximations good to a few ulp (Exp,
// Sigmoid, Tanh). NaN propagates as in JavaScript (Math.max, Math.pow, ...).
//
// binary(out, a, b, op, dims, aStrides, bStrides): out has the (merged) shape dims; a and b are read at
//   sum(index[k] * strides[k]) with stride 0 along broadcast axes. JavaScript merges the axes (src/native/kernels/
//   elementwise.ts) so that the innermost one has unit or zero strides.
// addN(out, [inputs]): out = sum of the same-shaped inputs, accumulated in float32 in order (as tfjs does).
// unary(out, x, op, alpha, beta): out = op(x); alpha and beta are the op's parameters (Step, LeakyRelu, clip bounds).
#include <omp.h>
#include <algorithm>
#include <cmath>
#include "approx.h"
#include "common.h"

namespace {

using dfer::expApprox;
using dfer::sigmoidApprox;
using dfer::tanhApprox;

constexpr int64_t kParallel = 32768;  // below this, thread start-up costs more than it saves
constexpr int64_t kPiece = 8192;      // rows longer than this are split between threads

// JavaScript's Math.max / Math.min: NaN if either side is NaN, and +0 is larger than -0.
inline float jsMax(float a, float b) {
  return a != a ? a : (b != b ? b : (a > b ? a : (b > a ? b : (std::signbit(a) ? b : a))));
}
inline float jsMin(float a, float b) {
  return a != a ? a : (b != b ? b : (a < b ? a : (b < a ? b : (std::signbit(a) ? a : b))));
}

// JavaScript's Math.pow differs from C's pow on two special cases.
inline float jsPow(float a, float b) {
  if (b != b) return b;                                    // pow(1, NaN) is NaN in JavaScript, 1 in C
  if (std::isinf(b) && std::fabs(a) == 1.0f) return NAN;  // pow(+-1, +-Infinity) likewise
  return static_cast<float>(std::pow(static_cast<double>(a), static_cast<double>(b)));
}

// ---------------------------------------------------------------------------------------------------------------
// Binary ops.

enum BinaryOp { kAdd = 0, kSub, kMul, kDiv, kMax, kMin, kSqDiff, kPow, kPrelu, kEluGrad, kBinaryOps };

struct Add { static float f(float a, float b) { return a + b; } };
struct Sub { static float f(float a, float b) { return a - b; } };
struct Mul { static float f(float a, float b) { return a * b; } };
struct Div { static float f(float a, float b) { return a / b; } };
struct Max { static float f(float a, float b) { return jsMax(a, b); } };
struct Min { static float f(float a, float b) { return jsMin(a, b); } };
// (a - b)^2 in double, rounded once, as tfjs does.
struct SqDiff {
  static float f(float a, float b) {
    double d = static_cast<double>(a) - static_cast<double>(b);
    return static_cast<float>(d * d);
  }
};
struct Pow { static float f(float a, float b) { return jsPow(a, b); } };
struct Prelu { static float f(float x, float alpha) { return x < 0.0f ? alpha * x : x; } };
struct EluGrad {
  static float f(float dy, float y) { return y >= 0.0f ? dy : static_cast<float>(static_cast<double>(dy) * (static_cast<double>(y) + 1.0)); }
};

// One row of the innermost axis: a and b step by 1 or 0.
template <class Op>
inline void row(float* __restrict out, const float* __restrict a, const float* __restrict b, int64_t n, bool sa, bool sb) {
  if (sa && sb) {
    for (int64_t j = 0; j < n; j++) out[j] = Op::f(a[j], b[j]);
  } else if (sa) {
    const float bv = *b;
    for (int64_t j = 0; j < n; j++) out[j] = Op::f(a[j], bv);
  } else if (sb) {
    const float av = *a;
    for (int64_t j = 0; j < n; j++) out[j] = Op::f(av, b[j]);
  } else {
    const float v = Op::f(*a, *b);
    for (int64_t j = 0; j < n; j++) out[j] = v;
  }
}

struct Layout {
  std::vector<int64_t> dims, as, bs;
  int64_t total() const {
    int64_t t = 1;
    for (int64_t d : dims) t *= d;
    return t;
  }
  // Offsets of a and b at the start of outer row `r` (the index over every axis but the last).
  void offsets(int64_t r, int64_t& ao, int64_t& bo) const {
    ao = bo = 0;
    for (int k = static_cast<int>(dims.size()) - 2; k >= 0; k--) {
      int64_t i = r % dims[k];
      r /= dims[k];
      ao += i * as[k];
      bo += i * bs[k];
    }
  }
};

template <class Op>
void binaryStrided(float* out, const float* a, const float* b, const Layout& L) {
  const int rank = static_cast<int>(L.dims.size());
  const int64_t inner = L.dims[rank - 1];
  const bool sa = L.as[rank - 1] != 0, sb = L.bs[rank - 1] != 0;
  const int64_t total = L.total();
  if (total == 0) return;
  const int64_t rows = total / inner;
  const bool par = total >= kParallel;
  if (inner >= 2 * kPiece || rows == 1) {
    // Long rows: split every row into pieces, the pieces of all rows are the parallel work items.
    const int64_t pieces = (inner + kPiece - 1) / kPiece;
#pragma omp parallel for if (par) schedule(static)
    for (int64_t u = 0; u < rows * pieces; u++) {
      int64_t r = u / pieces, p = u % pieces;
      int64_t j0 = p * kPiece, j1 = std::min(inner, j0 + kPiece);
      int64_t ao, bo;
      L.offsets(r, ao, bo);
      row<Op>(out + r * inner + j0, a + ao + (sa ? j0 : 0), b + bo + (sb ? j0 : 0), j1 - j0, sa, sb);
    }
    return;
  }
  // Short rows: every thread walks its block of rows with an odometer.
#pragma omp parallel if (par)
  {
    const int nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    if (r0 < r1) {
      std::vector<int64_t> idx(std::max(rank - 1, 1), 0);
      int64_t rr = r0;
      for (int k = rank - 2; k >= 0; k--) {
        idx[k] = rr % L.dims[k];
        rr /= L.dims[k];
      }
      int64_t ao, bo;
      L.offsets(r0, ao, bo);
      for (int64_t r = r0; r < r1; r++) {
        row<Op>(out + r * inner, a + ao, b + bo, inner, sa, sb);
        for (int k = rank - 2; k >= 0; k--) {
          ao += L.as[k];
          bo += L.bs[k];
          if (++idx[k] < L.dims[k]) break;
          ao -= L.as[k] * L.dims[k];
          bo -= L.bs[k] * L.dims[k];
          idx[k] = 0;
        }
      }
    }
  }
}

// x ** e for a scalar exponent: small integers and 1/2 by multiplication or sqrt in double (exact, or one rounding
// off tfjs' Math.pow), anything else by pow.
bool powScalar(float* out, const float* x, int64_t n, float e) {
  auto map = [&](auto f) {
#pragma omp parallel for if (n >= kParallel) schedule(static)
    for (int64_t i = 0; i < n; i++) out[i] = f(static_cast<double>(x[i]));
  };
  if (e == 1.0f) map([](double v) { return static_cast<float>(v); });
  else if (e == 2.0f) map([](double v) { return static_cast<float>(v * v); });
  else if (e == 3.0f) map([](double v) { return static_cast<float>(v * v * v); });
  else if (e == 4.0f) map([](double v) { double s = v * v; return static_cast<float>(s * s); });
  // Math.pow(x, 0.5) is +0 at -0 and +Infinity at -Infinity, where sqrt gives -0 and NaN.
  else if (e == 0.5f) map([](double v) { return static_cast<float>(v == -INFINITY ? INFINITY : std::sqrt(v) + 0.0); });
  else if (e == -1.0f) map([](double v) { return static_cast<float>(1.0 / v); });
  else if (e == -2.0f) map([](double v) { return static_cast<float>(1.0 / (v * v)); });
  else if (e == 0.0f) map([](double) { return 1.0f; });
  else return false;
  return true;
}

Napi::Value Binary(const Napi::CallbackInfo& info) {
  return dfer::guarded(info, "binary", [&] {
    float* out = dfer::f32(info, 0);
    const float* a = dfer::f32(info, 1);
    const float* b = dfer::f32(info, 2);
    int op = static_cast<int>(dfer::i64(info, 3));
    Layout L{dfer::i64s(info, 4), dfer::i64s(info, 5), dfer::i64s(info, 6)};
    if (L.dims.empty() || L.as.size() != L.dims.size() || L.bs.size() != L.dims.size())
      throw std::invalid_argument("bad layout");
    // Pow with a scalar exponent over a contiguous base (x ** 3 in GELU, x ** 1.5 in rsqrt's gradient).
    if (op == kPow && L.dims.size() == 1 && L.as[0] == 1 && L.bs[0] == 0 && powScalar(out, a, L.dims[0], *b)) return;
    switch (op) {
      case kAdd: return binaryStrided<Add>(out, a, b, L);
      case kSub: return binaryStrided<Sub>(out, a, b, L);
      case kMul: return binaryStrided<Mul>(out, a, b, L);
      case kDiv: return binaryStrided<Div>(out, a, b, L);
      case kMax: return binaryStrided<Max>(out, a, b, L);
      case kMin: return binaryStrided<Min>(out, a, b, L);
      case kSqDiff: return binaryStrided<SqDiff>(out, a, b, L);
      case kPow: return binaryStrided<Pow>(out, a, b, L);
      case kPrelu: return binaryStrided<Prelu>(out, a, b, L);
      case kEluGrad: return binaryStrided<EluGrad>(out, a, b, L);
      default: throw std::invalid_argument("unknown binary op " + std::to_string(op));
    }
  });
}

// addN(out, [x0, x1, ...]): same-shaped inputs, summed left to right in float32 like tfjs' cpu kernel.
Napi::Value AddN(const Napi::CallbackInfo& info) {
  return dfer::guarded(info, "addN", [&] {
    float* out = dfer::f32(info, 0);
    const int64_t n = static_cast<int64_t>(dfer::f32len(info, 0));
    Napi::Array arr = info[1].As<Napi::Array>();
    std::vector<const float*> xs(arr.Length());
    for (uint32_t k = 0; k < arr.Length(); k++) {
      auto t = arr.Get(k).As<Napi::TypedArrayOf<float>>();
      if (static_cast<int64_t>(t.ElementLength()) != n) throw std::invalid_argument("addN: inputs differ in size");
      xs[k] = t.Data();
    }
    const int64_t m = static_cast<int64_t>(xs.size());
#pragma omp parallel if (n * m >= kParallel)
    {
      const int nt = omp_get_num_threads(), t = omp_get_thread_num();
      // Blocks that stay in L1 while every input is added into them.
      constexpr int64_t kBlock = 2048;
      const int64_t blocks = (n + kBlock - 1) / kBlock;
      for (int64_t blk = blocks * t / nt; blk < blocks * (t + 1) / nt; blk++) {
        const int64_t i0 = blk * kBlock, len = std::min(n, i0 + kBlock) - i0;
        float* __restrict o = out + i0;
        if (m == 0) {
          std::fill(o, o + len, 0.0f);
          continue;
        }
        const float* __restrict x0 = xs[0] + i0;
        for (int64_t j = 0; j < len; j++) o[j] = 0.0f + x0[j];
        for (int64_t k = 1; k < m; k++) {
          const float* __restrict xk = xs[k] + i0;
          for (int64_t j = 0; j < len; j++) o[j] += xk[j];
        }
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Unary ops. The codes are mirrored in src/native/kernels/elementwise.ts.

enum UnaryOp {
  kRelu = 0, kRelu6, kStep, kExp, kLog, kSqrt, kRsqrt, kSquare, kNeg, kAbs, kTanh, kSigmoid, kSoftplus, kElu,
  kLeakyRelu, kReciprocal, kClip, kLog1p, kExpm1, kSign, kUnaryOps
};

template <class F>
void mapUnary(float* __restrict out, const float* __restrict x, int64_t n, F f) {
#pragma omp parallel for if (n >= kParallel) schedule(static)
  for (int64_t i = 0; i < n; i++) out[i] = f(x[i]);
}

// tfjs' softplus: thresholds at log(float32 epsilon) + 2, computed in double.
inline float softplus(float xf) {
  const double x = xf;
  const double threshold = std::log(1.1920928955078125e-7) + 2.0;
  if (x < threshold) return static_cast<float>(std::exp(x));
  if (x > -threshold) return xf;
  return static_cast<float>(std::log(1.0 + std::exp(x)));
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  return dfer::guarded(info, "unary", [&] {
    float* out = dfer::f32(info, 0);
    const float* x = dfer::f32(info, 1);
    const int64_t n = static_cast<int64_t>(dfer::f32len(info, 1));
    if (static_cast<int64_t>(dfer::f32len(info, 0)) != n) throw std::invalid_argument("output size differs");
    const int op = static_cast<int>(dfer::i64(info, 2));
    // Parameters stay double: tfjs multiplies and compares with them in double before rounding.
    const double alpha = info[3].As<Napi::Number>().DoubleValue();
    const double beta = info[4].As<Napi::Number>().DoubleValue();
    const float alphaF = static_cast<float>(alpha);
    switch (op) {
      // Math.max(0, x): NaN stays NaN.
      case kRelu: return mapUnary(out, x, n, [](float v) { return v != v ? v : (v > 0.0f ? v : 0.0f); });
      case kRelu6: return mapUnary(out, x, n, [](float v) { return v != v ? v : (v > 0.0f ? (v < 6.0f ? v : 6.0f) : 0.0f); });
      case kStep: return mapUnary(out, x, n, [alphaF](float v) { return v != v ? v : (v > 0.0f ? 1.0f : alphaF); });
      case kExp: return mapUnary(out, x, n, [](float v) { return expApprox(v); });
      case kLog: return mapUnary(out, x, n, [](float v) { return static_cast<float>(std::log(static_cast<double>(v))); });
      case kSqrt: return mapUnary(out, x, n, [](float v) { return std::sqrt(v); });  // correctly rounded
      case kRsqrt: return mapUnary(out, x, n, [](float v) { return static_cast<float>(1.0 / std::sqrt(static_cast<double>(v))); });
      case kSquare: return mapUnary(out, x, n, [](float v) { return v * v; });
      case kNeg: return mapUnary(out, x, n, [](float v) { return -v; });
      case kAbs: return mapUnary(out, x, n, [](float v) { return std::fabs(v); });
      case kTanh: return mapUnary(out, x, n, [](float v) { return tanhApprox(v); });
      case kSigmoid: return mapUnary(out, x, n, [](float v) { return sigmoidApprox(v); });
      case kSoftplus: return mapUnary(out, x, n, softplus);
      case kElu: return mapUnary(out, x, n, [](float v) { return v >= 0.0f ? v : static_cast<float>(std::exp(static_cast<double>(v)) - 1.0); });
      case kLeakyRelu: return mapUnary(out, x, n, [alpha](float v) { return v < 0.0f ? static_cast<float>(alpha * v) : v; });
      case kReciprocal: return mapUnary(out, x, n, [](float v) { return 1.0f / v; });
      case kClip: {
        const float lo = alphaF, hi = static_cast<float>(beta);
        return mapUnary(out, x, n, [=](float v) { return v > beta ? hi : (v < alpha ? lo : v); });
      }
      case kLog1p: return mapUnary(out, x, n, [](float v) { return static_cast<float>(std::log1p(static_cast<double>(v))); });
      case kExpm1: return mapUnary(out, x, n, [](float v) { return static_cast<float>(std::expm1(static_cast<double>(v))); });
      case kSign: return mapUnary(out, x, n, [](float v) { return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f); });  // NaN -> 0
      default: throw std::invalid_argument("unknown unary op " + std::to_string(op));
    }
  });
}

}  // namespace

namespace dfer {
// out[j] = exp(x[j] - shift), vectorised: the exponential step of reduce.cc's softmax.
void expShifted(float* __restrict out, const float* __restrict x, float shift, int64_t n) {
  for (int64_t j = 0; j < n; j++) out[j] = expApprox(x[j] - shift);
}
}  // namespace dfer

namespace {

DFER_EXPORT("binary", Binary);
DFER_EXPORT("addN", AddN);
DFER_EXPORT("unary", Unary);

}  // namespace
