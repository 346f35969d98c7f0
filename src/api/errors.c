#include "common/util.h"
#include "lutlm.h"

const char *lutlm_last_error(void) { return lt_error(); }
const char *lutlm_version(void) { return "0.1.0"; }
