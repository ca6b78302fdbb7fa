// Batched matrix product on oneDNN: c (B, M, N) = op(a) (Ba, M, K) x op(b) (Bb, K, N), where op transposes the last
// two axes when asked (by strides: no copy) and a batch of 1 broadcasts against the other operand's batch.
#include "common.h"

namespace {

using dnnl::memory;
constexpr auto f32t = memory::data_type::f32;

// batchMatMul(c, a, b, batchA, batchB, m, k, n, transposeA, transposeB)
Napi::Value BatchMatMul(const Napi::CallbackInfo& info) {
  return dfer::guarded(info, "batchMatMul", [&] {
    int64_t ba = dfer::i64(info, 3), bb = dfer::i64(info, 4);
    int64_t m = dfer::i64(info, 5), k = dfer::i64(info, 6), n = dfer::i64(info, 7);
    bool ta = dfer::flag(info, 8), tb = dfer::flag(info, 9);
    int64_t batch = std::max(ba, bb);
    auto& eng = dfer::engine();
    // Row-major storage of a is (Ba, M, K), or (Ba, K, M) when transposed: describe the logical (Ba, M, K) by strides.
    memory::desc aMd({ba, m, k}, f32t, ta ? memory::dims{m * k, 1, m} : memory::dims{m * k, k, 1});
    memory::desc bMd({bb, k, n}, f32t, tb ? memory::dims{k * n, 1, k} : memory::dims{k * n, n, 1});
    memory::desc cMd({batch, m, n}, f32t, memory::dims{m * n, n, 1});
    dnnl::matmul& mm = dfer::cached<dnnl::matmul>({ba, bb, m, k, n, ta, tb}, [&] {
      return dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(aMd, bMd, cMd), eng));
    });
    memory c(cMd, eng, dfer::f32(info, 0));
    memory a(aMd, eng, dfer::f32(info, 1));
    memory b(bMd, eng, dfer::f32(info, 2));
    mm.execute(dfer::stream(), {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
    dfer::stream().wait();
  });
}

DFER_EXPORT("batchMatMul", BatchMatMul);

}  // namespace
