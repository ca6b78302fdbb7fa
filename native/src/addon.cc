// Module entry: exports every function the kernel files registered, plus the library versions.
#include <omp.h>
#include "common.h"

namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const dnnl_version_t* v = dnnl_version();
  Napi::Object o = Napi::Object::New(env);
  o.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  o.Set("threads", omp_get_max_threads());
  o.Set("sourceHash", DFER_SOURCE_HASH);  // fingerprint of native/src when this was built (source-hash.cjs)
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Kernels and oneDNN assume the team size they ask for; with OMP_DYNAMIC=true oneDNN's training kernels were seen
  // to hang. A user who wants fewer threads sets OMP_NUM_THREADS.
  omp_set_dynamic(0);
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  for (auto& [name, fn] : dfer::registry()) exports.Set(name, Napi::Function::New(env, fn, name));
  return exports;
}

}  // namespace

NODE_API_MODULE(dfer_native, Init)
