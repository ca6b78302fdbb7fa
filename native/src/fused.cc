// Fused kernels that replace chains of elementwise ops: the ReLU backward pass (tfjs: Step, Cast and Multiply, three
// passes and two temporaries), a residual add with its ReLU, the SGD-with-momentum update (six ops per parameter) and
// the transformer's tanh-approximated GELU (eight ops forward, about twenty backward).
#include <algorithm>
#include "approx.h"
#include "common.h"

namespace {

constexpr int64_t kParallelMin = 32768;

// reluGrad(dx, dy, y): dx = y > 0 ? dy : 0, where y = relu(x) (so y > 0 exactly where x > 0).
Napi::Value ReluGrad(const Napi::CallbackInfo& info) {
  float* dx = dfer::f32(info, 0);
  const float *dy = dfer::f32(info, 1), *y = dfer::f32(info, 2);
  int64_t n = static_cast<int64_t>(dfer::f32len(info, 0));
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  return info.Env().Undefined();
}

// addRelu(y, a, b): y = max(a + b, 0), same shapes (a residual connection and its ReLU).
Napi::Value AddRelu(const Napi::CallbackInfo& info) {
  float* y = dfer::f32(info, 0);
  const float *a = dfer::f32(info, 1), *b = dfer::f32(info, 2);
  int64_t n = static_cast<int64_t>(dfer::f32len(info, 0));
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = std::max(a[i] + b[i], 0.0f);
  return info.Env().Undefined();
}

// sgdMomentum(newParam, newBuf, param, buf, grad, lr, momentum, weightDecay, hasBuf), PyTorch's SGD:
//   d = grad + weightDecay * param;  buf = hasBuf ? momentum * buf + d : d;  param = param - lr * buf
Napi::Value SgdMomentum(const Napi::CallbackInfo& info) {
  float *p1 = dfer::f32(info, 0), *b1 = dfer::f32(info, 1);
  const float *p = dfer::f32(info, 2), *b = dfer::f32(info, 3), *g = dfer::f32(info, 4);
  const float lr = static_cast<float>(info[5].As<Napi::Number>().DoubleValue());
  const float momentum = static_cast<float>(info[6].As<Napi::Number>().DoubleValue());
  const float wd = static_cast<float>(info[7].As<Napi::Number>().DoubleValue());
  const bool hasBuf = dfer::flag(info, 8);
  int64_t n = static_cast<int64_t>(dfer::f32len(info, 0));
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    float d = g[i] + wd * p[i];
    float v = hasBuf ? momentum * b[i] + d : d;
    b1[i] = v;
    p1[i] = p[i] - lr * v;
  }
  return info.Env().Undefined();
}

// GELU, tanh approximation (the official code's GELU class, PyTorch's gelu(approximate="tanh")):
//   y = x/2 (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
//   dy/dx = (1 + tanh(u))/2 + x/2 (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
// In float32 with the vectorised tanh (a few ulp): 1 + tanh(u) is what matters, so no cancellation is amplified.
// std::tanh in double made these two kernels 3% of a small-preset training step.
constexpr float kGeluScale = 0.7978845608028654f;  // sqrt(2 / pi)
constexpr float kGeluCubic = 0.044715f;

// gelu(y, x)
Napi::Value Gelu(const Napi::CallbackInfo& info) {
  float* y = dfer::f32(info, 0);
  const float* x = dfer::f32(info, 1);
  int64_t n = static_cast<int64_t>(dfer::f32len(info, 0));
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    y[i] = 0.5f * v * (1.0f + dfer::tanhApprox(kGeluScale * (v + kGeluCubic * v * v * v)));
  }
  return info.Env().Undefined();
}

// geluGrad(dx, dy, x)
Napi::Value GeluGrad(const Napi::CallbackInfo& info) {
  float* dx = dfer::f32(info, 0);
  const float *dy = dfer::f32(info, 1), *x = dfer::f32(info, 2);
  int64_t n = static_cast<int64_t>(dfer::f32len(info, 0));
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    const float t = dfer::tanhApprox(kGeluScale * (v + kGeluCubic * v * v * v));
    const float slope = 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * kGeluScale * (1.0f + 3.0f * kGeluCubic * v * v);
    dx[i] = dy[i] * slope;
  }
  return info.Env().Undefined();
}

// bnRunningStats(newMean, newVar, runningMean, runningVar, mean, variance, momentum, unbias): PyTorch's update of a
// training-mode BatchNorm's running estimates, with the batch variance made unbiased (unbias = count / (count - 1)):
//   runningMean = (1 - momentum) runningMean + momentum mean;  runningVar = (1 - momentum) runningVar + momentum var * unbias
// Every product and sum rounds to float32 once, as the chain of tfjs ops it replaces (nine ops per BatchNorm).
Napi::Value BnRunningStats(const Napi::CallbackInfo& info) {
  float *m1 = dfer::f32(info, 0), *v1 = dfer::f32(info, 1);
  const float *m0 = dfer::f32(info, 2), *v0 = dfer::f32(info, 3), *mean = dfer::f32(info, 4), *var = dfer::f32(info, 5);
  const double m = info[6].As<Napi::Number>().DoubleValue();
  const float momentum = static_cast<float>(m), keep = static_cast<float>(1.0 - m);  // as tfjs' float32 scalars
  const float unbias = static_cast<float>(info[7].As<Napi::Number>().DoubleValue());
  int64_t n = static_cast<int64_t>(dfer::f32len(info, 0));
  for (int64_t i = 0; i < n; i++) {
    m1[i] = keep * m0[i] + momentum * mean[i];
    const float unbiased = var[i] * unbias;
    v1[i] = keep * v0[i] + momentum * unbiased;
  }
  return info.Env().Undefined();
}

DFER_EXPORT("reluGrad", ReluGrad);
DFER_EXPORT("bnRunningStats", BnRunningStats);
DFER_EXPORT("gelu", Gelu);
DFER_EXPORT("geluGrad", GeluGrad);
DFER_EXPORT("sgdMomentum", SgdMomentum);
DFER_EXPORT("addRelu", AddRelu);

}  // namespace
