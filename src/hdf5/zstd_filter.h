/* The zstd HDF5 filter (registered filter id 32015). cd_values[0] = compression level.
   Each chunk is one standard zstd frame with its content size, so any zstd 32015 reader
   (hdf5plugin, h5py with HDF5_PLUGIN_PATH, h5dump) decodes it. */
#pragma once
#include <H5public.h>
#include <H5Ipublic.h>
#include <H5Zpublic.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ESM_H5Z_ZSTD_ID 32015

/* The filter class; filled from headers only (no libhdf5 symbol is referenced). */
extern const H5Z_class2_t esm_h5z_zstd_class;

#ifdef __cplusplus
}
#endif
