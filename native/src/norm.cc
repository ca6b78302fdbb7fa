// Fused batch and layer normalisation for training: one kernel each way instead of the ~15 elementwise passes the
// composite version makes over every activation. Sums accumulate in double (as tfjs' cpu backend does in JS), which
// keeps the golden-parity errors where they are.
#include <omp.h>
#include <algorithm>
#include <cmath>
#include <vector>
#include "common.h"

namespace {

// Per-channel sums over `rows` rows of C channels (nOut sums per channel). `row(r, acc)` adds row r into float
// accumulators, which are flushed into double ones every 64 rows: the inner loop vectorises in float, and the error
// stays that of 64-term float sums. Each thread sums a share of the blocks; the partials are added at the end.
template <typename RowFn>
void channelSums(int64_t rows, int64_t c, int nOut, std::vector<double>& out, RowFn&& row) {
  constexpr int64_t kBlock = 64;
  const int64_t width = nOut * c, blocks = (rows + kBlock - 1) / kBlock;
  int threads = rows * c >= 32768 ? omp_get_max_threads() : 1;
  std::vector<double> partial(static_cast<size_t>(threads) * width, 0.0);
#pragma omp parallel num_threads(threads)
  {
    double* acc = partial.data() + static_cast<size_t>(omp_get_thread_num()) * width;
    std::vector<float> block(width);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
      std::fill(block.begin(), block.end(), 0.0f);
      for (int64_t r = b * kBlock, end = std::min(rows, r + kBlock); r < end; r++) row(r, block.data());
      for (int64_t k = 0; k < width; k++) acc[k] += block[k];
    }
  }
  out.assign(static_cast<size_t>(width), 0.0);
  for (int t = 0; t < threads; t++)
    for (int64_t k = 0; k < width; k++) out[k] += partial[static_cast<size_t>(t) * width + k];
}

// y = x * scale + shift per channel, then ReLU when asked: the last pass of BatchNorm in either mode.
void scaleShift(float* y, const float* x, const float* scale, const float* shift, int64_t rows, int64_t c, bool relu) {
#pragma omp parallel for schedule(static) if (rows * c >= 32768)
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * c;
    float* yr = y + r * c;
    if (relu) {
      for (int64_t k = 0; k < c; k++) yr[k] = std::max(xr[k] * scale[k] + shift[k], 0.0f);
    } else {
      for (int64_t k = 0; k < c; k++) yr[k] = xr[k] * scale[k] + shift[k];
    }
  }
}

// batchNormTrain(y, mean, variance, x, gamma, beta, rows, c, eps, relu): x is (rows, c); variance is the biased one;
// y = relu(bn(x)) when relu is true.
Napi::Value BatchNormTrain(const Napi::CallbackInfo& info) {
  float *y = dfer::f32(info, 0), *meanOut = dfer::f32(info, 1), *varOut = dfer::f32(info, 2);
  const float *x = dfer::f32(info, 3), *gamma = dfer::f32(info, 4), *beta = dfer::f32(info, 5);
  int64_t rows = dfer::i64(info, 6), c = dfer::i64(info, 7);
  double eps = info[8].As<Napi::Number>().DoubleValue();
  bool relu = dfer::flag(info, 9);
  std::vector<double> sums;
  channelSums(rows, c, 1, sums, [&](int64_t r, float* acc) {
    const float* xr = x + r * c;
    for (int64_t k = 0; k < c; k++) acc[k] += xr[k];
  });
  std::vector<double> mean(c);
  std::vector<float> meanF(c);
  for (int64_t k = 0; k < c; k++) meanF[k] = static_cast<float>(mean[k] = sums[k] / rows);
  // Two-pass variance (centred), as exact as the composite version.
  channelSums(rows, c, 1, sums, [&](int64_t r, float* acc) {
    const float* xr = x + r * c;
    for (int64_t k = 0; k < c; k++) {
      float d = xr[k] - meanF[k];
      acc[k] += d * d;
    }
  });
  std::vector<float> scale(c), shift(c);
  for (int64_t k = 0; k < c; k++) {
    double var = sums[k] / rows;
    meanOut[k] = static_cast<float>(mean[k]);
    varOut[k] = static_cast<float>(var);
    double s = gamma[k] / std::sqrt(var + eps);
    scale[k] = static_cast<float>(s);
    shift[k] = static_cast<float>(beta[k] - mean[k] * s);
  }
  scaleShift(y, x, scale.data(), shift.data(), rows, c, relu);
  return info.Env().Undefined();
}

// batchNormInfer(y, x, scale, shift, rows, c, relu): evaluation mode, scale and shift folded from the running stats.
Napi::Value BatchNormInfer(const Napi::CallbackInfo& info) {
  scaleShift(dfer::f32(info, 0), dfer::f32(info, 1), dfer::f32(info, 2), dfer::f32(info, 3), dfer::i64(info, 4),
             dfer::i64(info, 5), dfer::flag(info, 6));
  return info.Env().Undefined();
}

// batchNormTrainGrad(dx, dgamma, dbeta, dy, x, mean, variance, gamma, y, rows, c, eps, relu)
// dx = gamma * invStd / M * (M * g - sum(g) - xhat * sum(g * xhat)), xhat recomputed from x, where g = dy, or with
// relu g = (y > 0 ? dy : 0) for the forward output y (the ReLU's backward pass, fused).
Napi::Value BatchNormTrainGrad(const Napi::CallbackInfo& info) {
  float *dx = dfer::f32(info, 0), *dgamma = dfer::f32(info, 1), *dbeta = dfer::f32(info, 2);
  const float *dyIn = dfer::f32(info, 3), *x = dfer::f32(info, 4), *mean = dfer::f32(info, 5), *var = dfer::f32(info, 6),
              *gamma = dfer::f32(info, 7), *y = dfer::f32(info, 8);
  int64_t rows = dfer::i64(info, 9), c = dfer::i64(info, 10);
  double eps = info[11].As<Napi::Number>().DoubleValue();
  bool relu = dfer::flag(info, 12);
  // The masked gradient is written once into dx (then overwritten in place by the final pass).
  const float* dy = dyIn;
  if (relu) {
    int64_t n = rows * c;
#pragma omp parallel for simd schedule(static) if (n >= 32768)
    for (int64_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dyIn[i] : 0.0f;
    dy = dx;
  }
  std::vector<float> meanF(c), invStdF(c);
  std::vector<double> invStd(c);
  for (int64_t k = 0; k < c; k++) {
    invStd[k] = 1.0 / std::sqrt(static_cast<double>(var[k]) + eps);
    invStdF[k] = static_cast<float>(invStd[k]);
    meanF[k] = mean[k];
  }
  std::vector<double> sums;  // [sum dy | sum dy * xhat]
  channelSums(rows, c, 2, sums, [&](int64_t r, float* acc) {
    const float *dyr = dy + r * c, *xr = x + r * c;
    for (int64_t k = 0; k < c; k++) {
      acc[k] += dyr[k];
      acc[c + k] += dyr[k] * ((xr[k] - meanF[k]) * invStdF[k]);
    }
  });
  std::vector<float> a(c), b(c), m(c);  // dx = a * dy - b - m * xhat, per channel
  for (int64_t k = 0; k < c; k++) {
    dbeta[k] = static_cast<float>(sums[k]);
    dgamma[k] = static_cast<float>(sums[c + k]);
    double g = gamma[k] * invStd[k];
    a[k] = static_cast<float>(g);
    b[k] = static_cast<float>(g * sums[k] / rows);
    m[k] = static_cast<float>(g * sums[c + k] / rows);
  }
#pragma omp parallel for schedule(static) if (rows * c >= 32768)
  for (int64_t r = 0; r < rows; r++) {
    const float *dyr = dy + r * c, *xr = x + r * c;
    float* dxr = dx + r * c;
    for (int64_t k = 0; k < c; k++) {
      float xhat = (xr[k] - meanF[k]) * invStdF[k];
      dxr[k] = a[k] * dyr[k] - b[k] - m[k] * xhat;
    }
  }
  return info.Env().Undefined();
}

// layerNorm(y, mean, invStd, x, gamma, beta, rows, d, eps): normalise each row of d values.
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  float *y = dfer::f32(info, 0), *meanOut = dfer::f32(info, 1), *invOut = dfer::f32(info, 2);
  const float *x = dfer::f32(info, 3), *gamma = dfer::f32(info, 4), *beta = dfer::f32(info, 5);
  int64_t rows = dfer::i64(info, 6), d = dfer::i64(info, 7);
  double eps = info[8].As<Napi::Number>().DoubleValue();
#pragma omp parallel for schedule(static) if (rows * d >= 32768)
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * d;
    double s = 0;
    for (int64_t k = 0; k < d; k++) s += xr[k];
    double mu = s / d, v = 0;
    for (int64_t k = 0; k < d; k++) v += (xr[k] - mu) * (xr[k] - mu);
    double inv = 1.0 / std::sqrt(v / d + eps);
    meanOut[r] = static_cast<float>(mu);
    invOut[r] = static_cast<float>(inv);
    float* yr = y + r * d;
    for (int64_t k = 0; k < d; k++) yr[k] = static_cast<float>((xr[k] - mu) * inv) * gamma[k] + beta[k];
  }
  return info.Env().Undefined();
}

// layerNormGrad(dx, dgamma, dbeta, dy, x, mean, invStd, gamma, rows, d)
// dx = invStd / D * (D * g - sum(g) - xhat * sum(g * xhat)) with g = dy * gamma; dgamma, dbeta summed over rows.
Napi::Value LayerNormGrad(const Napi::CallbackInfo& info) {
  float *dx = dfer::f32(info, 0), *dgamma = dfer::f32(info, 1), *dbeta = dfer::f32(info, 2);
  const float *dy = dfer::f32(info, 3), *x = dfer::f32(info, 4), *mean = dfer::f32(info, 5), *inv = dfer::f32(info, 6),
              *gamma = dfer::f32(info, 7);
  int64_t rows = dfer::i64(info, 8), d = dfer::i64(info, 9);
#pragma omp parallel for schedule(static) if (rows * d >= 32768)
  for (int64_t r = 0; r < rows; r++) {
    const float *dyr = dy + r * d, *xr = x + r * d;
    double sg = 0, sgx = 0;
    for (int64_t k = 0; k < d; k++) {
      double g = static_cast<double>(dyr[k]) * gamma[k];
      sg += g;
      sgx += g * ((xr[k] - mean[r]) * inv[r]);
    }
    float* dxr = dx + r * d;
    for (int64_t k = 0; k < d; k++) {
      double xhat = (xr[k] - mean[r]) * inv[r];
      dxr[k] = static_cast<float>(inv[r] / d * (d * static_cast<double>(dyr[k]) * gamma[k] - sg - xhat * sgx));
    }
  }
  std::vector<double> sums;  // [sum dy | sum dy * xhat] per feature
  channelSums(rows, d, 2, sums, [&](int64_t r, float* acc) {
    const float *dyr = dy + r * d, *xr = x + r * d;
    for (int64_t k = 0; k < d; k++) {
      acc[k] += dyr[k];
      acc[d + k] += dyr[k] * ((xr[k] - mean[r]) * inv[r]);
    }
  });
  for (int64_t k = 0; k < d; k++) {
    dbeta[k] = static_cast<float>(sums[k]);
    dgamma[k] = static_cast<float>(sums[d + k]);
  }
  return info.Env().Undefined();
}

DFER_EXPORT("batchNormTrain", BatchNormTrain);
DFER_EXPORT("batchNormTrainGrad", BatchNormTrainGrad);
DFER_EXPORT("batchNormInfer", BatchNormInfer);
DFER_EXPORT("layerNorm", LayerNorm);
DFER_EXPORT("layerNormGrad", LayerNormGrad);

}  // namespace
