// Vectorisable float32 approximations of exp, sigmoid and tanh (branch-free, so GCC turns the loops that call them
// into AVX-512 code), good to a few ulp; shared by the elementwise kernels and the fused GELU.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace dfer {

inline float bitsToFloat(int32_t i) { return __builtin_bit_cast(float, i); }

// exp(x), Cephes' expf polynomial (about 1 ulp) with a two-step scale so that overflow gives +inf and underflow 0.
inline float expApprox(float x) {
  float xc = std::min(std::max(x, -104.0f), 89.0f);
  float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest
  float r = std::fma(n, -0.693359375f, xc);
  r = std::fma(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  float y = std::fma(p, r * r, r) + 1.0f;
  int32_t ni = static_cast<int32_t>(n);
  int32_t n1 = ni >> 1, n2 = ni - n1;
  float v = y * bitsToFloat((n1 + 127) << 23) * bitsToFloat((n2 + 127) << 23);
  return x != x ? x : v;
}

inline float sigmoidApprox(float x) { return 1.0f / (1.0f + expApprox(-x)); }

// tanh(x): Cephes' tanhf polynomial below |x| = 0.625, 1 - 2 / (exp(2|x|) + 1) above.
inline float tanhApprox(float x) {
  float ax = std::fabs(x);
  float z = x * x;
  float p = -5.70498872745e-3f;
  p = std::fma(p, z, 2.06390887954e-2f);
  p = std::fma(p, z, -5.37397155531e-2f);
  p = std::fma(p, z, 1.33314422036e-1f);
  p = std::fma(p, z, -3.33332819422e-1f);
  float small = std::fma(p * z, x, x);
  float big = 1.0f - 2.0f / (expApprox(2.0f * ax) + 1.0f);
  big = std::copysign(big, x);
  return ax < 0.625f ? small : big;
}

}  // namespace dfer
