{
  # dfer's native CPU engine: kernels for tfjs' cpu backend on oneDNN (Debian: libdnnl-dev) and OpenMP.
  # Every src/*.cc is compiled; each registers its own functions (see common.h), so adding a kernel family is adding a file.
  "targets": [
    {
      "target_name": "dfer_native",
      "sources": ["<!@(node -p \"require('fs').readdirSync('src').filter(f => f.endsWith('.cc')).sort().map(f => 'src/' + f).join(' ')\")"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "DFER_SOURCE_HASH=\"<!(node source-hash.cjs .)\""],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fopenmp"],
      "libraries": ["-ldnnl", "-fopenmp"],
    }
  ]
}
