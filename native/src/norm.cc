// Fused batch and layer normalisation for training: one kernel each way instead of the ~15 elementwise passes the
// composite version makes over every activation. Sums accumulate in double (as tfjs' cpu backend does in JS), which
// keeps the golden-parity errors where they are.
#include <omp.h>
#include <cmath>
#include <vector>
#include "common.h"

namespace {

// Per-channel sums over `rows` rows of C channels: each thread sums a block of rows, then the partials are added.
template <typename RowFn>
void channelSums(int64_t rows, int64_t c, int nOut, std::vector<double>& out, RowFn&& row) {
  int threads = rows * c >= 32768 ? omp_get_max_threads() : 1;
  std::vector<double> partial(static_cast<size_t>(threads) * nOut * c, 0.0);
#pragma omp parallel num_threads(threads)
  {
    double* acc = partial.data() + static_cast<size_t>(omp_get_thread_num()) * nOut * c;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; r++) row(r, acc);
  }
  out.assign(static_cast<size_t>(nOut) * c, 0.0);
  for (int t = 0; t < threads; t++)
    for (int64_t k = 0; k < nOut * c; k++) out[k] += partial[static_cast<size_t>(t) * nOut * c + k];
}

// batchNormTrain(y, mean, variance, x, gamma, beta, rows, c, eps): x is (rows, c); variance is the biased one.
Napi::Value BatchNormTrain(const Napi::CallbackInfo& info) {
  float *y = dfer::f32(info, 0), *meanOut = dfer::f32(info, 1), *varOut = dfer::f32(info, 2);
  const float *x = dfer::f32(info, 3), *gamma = dfer::f32(info, 4), *beta = dfer::f32(info, 5);
  int64_t rows = dfer::i64(info, 6), c = dfer::i64(info, 7);
  double eps = info[8].As<Napi::Number>().DoubleValue();
  std::vector<double> sums;
  channelSums(rows, c, 1, sums, [&](int64_t r, double* acc) {
    const float* xr = x + r * c;
    for (int64_t k = 0; k < c; k++) acc[k] += xr[k];
  });
  std::vector<double> mean(c);
  for (int64_t k = 0; k < c; k++) mean[k] = sums[k] / rows;
  // Two-pass variance (centred), as exact as the composite version.
  channelSums(rows, c, 1, sums, [&](int64_t r, double* acc) {
    const float* xr = x + r * c;
    for (int64_t k = 0; k < c; k++) {
      double d = xr[k] - mean[k];
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
#pragma omp parallel for schedule(static) if (rows * c >= 32768)
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * c;
    float* yr = y + r * c;
    for (int64_t k = 0; k < c; k++) yr[k] = xr[k] * scale[k] + shift[k];
  }
  return info.Env().Undefined();
}

// batchNormTrainGrad(dx, dgamma, dbeta, dy, x, mean, variance, gamma, rows, c, eps)
// dx = gamma * invStd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat)), xhat recomputed from x.
Napi::Value BatchNormTrainGrad(const Napi::CallbackInfo& info) {
  float *dx = dfer::f32(info, 0), *dgamma = dfer::f32(info, 1), *dbeta = dfer::f32(info, 2);
  const float *dy = dfer::f32(info, 3), *x = dfer::f32(info, 4), *mean = dfer::f32(info, 5), *var = dfer::f32(info, 6),
              *gamma = dfer::f32(info, 7);
  int64_t rows = dfer::i64(info, 8), c = dfer::i64(info, 9);
  double eps = info[10].As<Napi::Number>().DoubleValue();
  std::vector<double> invStd(c);
  for (int64_t k = 0; k < c; k++) invStd[k] = 1.0 / std::sqrt(static_cast<double>(var[k]) + eps);
  std::vector<double> sums;  // [sum dy | sum dy * xhat]
  channelSums(rows, c, 2, sums, [&](int64_t r, double* acc) {
    const float *dyr = dy + r * c, *xr = x + r * c;
    for (int64_t k = 0; k < c; k++) {
      acc[k] += dyr[k];
      acc[c + k] += dyr[k] * ((xr[k] - mean[k]) * invStd[k]);
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
      float xhat = static_cast<float>((xr[k] - mean[k]) * invStd[k]);
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
  channelSums(rows, d, 2, sums, [&](int64_t r, double* acc) {
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
DFER_EXPORT("layerNorm", LayerNorm);
DFER_EXPORT("layerNormGrad", LayerNormGrad);

}  // namespace
