/* The two entry points HDF5's plugin loader looks up by name in a module on HDF5_PLUGIN_PATH. */
#include <H5PLextern.h>

#include "zstd_filter.h"

__attribute__((visibility("default"))) H5PL_type_t H5PLget_plugin_type(void) { return H5PL_TYPE_FILTER; }
__attribute__((visibility("default"))) const void* H5PLget_plugin_info(void) { return &esm_h5z_zstd_class; }
