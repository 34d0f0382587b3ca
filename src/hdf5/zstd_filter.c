/* zstd filter body. Buffers are allocated with malloc/free: HDF5 releases filter buffers with
   free() in release builds, and a plugin that called H5allocate_memory would have to link the
   one libhdf5 it is loaded into (h5py's serial one or our parallel one). */
#include "zstd_filter.h"

#include <stdlib.h>
#include <zstd.h>

static size_t zstd_filter(unsigned int flags, size_t cd_nelmts, const unsigned int cd_values[],
                          size_t nbytes, size_t* buf_size, void** buf) {
  if (flags & H5Z_FLAG_REVERSE) {
    unsigned long long n = ZSTD_getFrameContentSize(*buf, nbytes);
    if (n == ZSTD_CONTENTSIZE_ERROR) return 0;
    if (n == ZSTD_CONTENTSIZE_UNKNOWN) {
      /* Frames from other writers may omit the size: stream into a growing buffer. */
      size_t cap = nbytes * 4 + 1024, used = 0;
      void* out = malloc(cap);
      if (!out) return 0;
      ZSTD_DStream* ds = ZSTD_createDStream();
      ZSTD_initDStream(ds);
      ZSTD_inBuffer in = {*buf, nbytes, 0};
      for (;;) {
        ZSTD_outBuffer o = {(char*)out + used, cap - used, 0};
        size_t r = ZSTD_decompressStream(ds, &o, &in);
        used += o.pos;
        if (ZSTD_isError(r)) { ZSTD_freeDStream(ds); free(out); return 0; }
        if (r == 0) break;
        if (used == cap) {
          void* bigger = realloc(out, cap * 2);
          if (!bigger) { ZSTD_freeDStream(ds); free(out); return 0; }
          out = bigger;
          cap *= 2;
        } else if (in.pos == in.size && o.pos == 0) {
          ZSTD_freeDStream(ds); free(out); return 0; /* truncated frame */
        }
      }
      ZSTD_freeDStream(ds);
      free(*buf);
      *buf = out;
      *buf_size = cap;
      return used;
    }
    void* out = malloc(n ? (size_t)n : 1);
    if (!out) return 0;
    size_t got = ZSTD_decompress(out, (size_t)n, *buf, nbytes);
    if (ZSTD_isError(got) || got != n) { free(out); return 0; }
    free(*buf);
    *buf = out;
    *buf_size = (size_t)n;
    return got;
  }
  int level = cd_nelmts > 0 ? (int)cd_values[0] : 3;
  size_t cap = ZSTD_compressBound(nbytes);
  void* out = malloc(cap);
  if (!out) return 0;
  size_t got = ZSTD_compress(out, cap, *buf, nbytes, level);
  if (ZSTD_isError(got)) { free(out); return 0; }
  free(*buf);
  *buf = out;
  *buf_size = cap;
  return got;
}

const H5Z_class2_t esm_h5z_zstd_class = {
    H5Z_CLASS_T_VERS,
    (H5Z_filter_t)ESM_H5Z_ZSTD_ID,
    1, /* encoder present */
    1, /* decoder present */
    "zstd (esmpipe)",
    NULL, /* can_apply */
    NULL, /* set_local */
    zstd_filter,
};
