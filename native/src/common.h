// Shared plumbing for dfer's native kernels: the function registry, argument helpers and the oneDNN engine.
//
// Calling convention (every kernel): JavaScript allocates the output Float32Array and passes it first, then the
// inputs (Float32Array, zero-copy: they are the cpu backend's own buffers), then integer parameters. Kernels are
// synchronous and multi-threaded with OpenMP (oneDNN uses the same OpenMP pool).
#pragma once
#include <napi.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace dfer {

using Fn = Napi::Value (*)(const Napi::CallbackInfo&);

// Each source file registers its functions at static-initialisation time; addon.cc exports them all.
inline std::vector<std::pair<std::string, Fn>>& registry() {
  static std::vector<std::pair<std::string, Fn>> entries;
  return entries;
}
struct Register {
  Register(const char* name, Fn fn) { registry().emplace_back(name, fn); }
};
#define DFER_CONCAT2(a, b) a##b
#define DFER_CONCAT(a, b) DFER_CONCAT2(a, b)
#define DFER_EXPORT(name, fn) static ::dfer::Register DFER_CONCAT(dfer_register_, __LINE__)(name, fn)

inline float* f32(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::TypedArrayOf<float>>().Data();
}
inline size_t f32len(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::TypedArrayOf<float>>().ElementLength();
}
inline int64_t i64(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Int64Value();
}
inline bool flag(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Boolean>().Value();
}
inline std::vector<int64_t> i64s(const Napi::CallbackInfo& info, size_t i) {
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<int64_t> v(a.Length());
  for (uint32_t k = 0; k < a.Length(); k++) v[k] = a.Get(k).As<Napi::Number>().Int64Value();
  return v;
}

// exp(x[j] - shift) for n values, vectorised (elementwise.cc); reduce.cc's softmax uses it too.
void expShifted(float* out, const float* x, float shift, int64_t n);

// One CPU engine and one in-order stream for the process.
inline dnnl::engine& engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}
inline dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}

// Primitives built once per shape and kept. Building a oneDNN primitive descriptor dispatches over the
// implementations for the shape on every call; kept, a small convolution or matmul call is about 20 us faster
// (measured against the uncached build, same process, alternating calls), about 1 ms of a small-preset training step.
// Training repeats the same shapes every step. Kernels run on the JavaScript thread only, so the cache needs no lock;
// it is cleared when it reaches kMaxCached entries, which a network's few dozen shapes never do.
template <typename Value, typename Make>
Value& cached(const std::vector<int64_t>& key, Make&& make) {
  constexpr size_t kMaxCached = 1024;
  static std::map<std::vector<int64_t>, Value> cache;
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  if (cache.size() >= kMaxCached) cache.clear();
  return cache.emplace(key, make()).first->second;
}

// oneDNN reports errors as exceptions; turn them into JavaScript errors naming the kernel.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* what, F&& body) {
  try {
    body();
  } catch (const dnnl::error& e) {
    Napi::Error::New(info.Env(), std::string(what) + ": oneDNN: " + e.what()).ThrowAsJavaScriptException();
  } catch (const std::exception& e) {
    Napi::Error::New(info.Env(), std::string(what) + ": " + e.what()).ThrowAsJavaScriptException();
  }
  return info.Env().Undefined();
}

}  // namespace dfer
