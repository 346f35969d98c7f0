/* Small helpers shared by the subcommands: option matching and number parsing with clear errors. */
#ifndef LUTLM_TOOLS_CLI_H
#define LUTLM_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "lutlm.h"

/* If argv[*i] is `short_name` or `long_name` (either may be NULL), store the following argument in
 * *value, advance *i past it and return true. A missing value prints an error and exits(2). */
bool cli_option(int argc, char **argv, int *i, const char *short_name, const char *long_name, const char **value);
/* True if argv[*i] is the flag (no value). */
bool cli_flag(char **argv, int i, const char *short_name, const char *long_name);
/* Parse numbers; on garbage print "lutlm CMD: invalid value for OPT: 'x'" and exit(2). */
long long cli_int(const char *cmd, const char *opt, const char *s, long long min, long long max);
double cli_float(const char *cmd, const char *opt, const char *s);
/* Exit(2) with "lutlm CMD: unknown option 'X' (see lutlm CMD --help)". */
_Noreturn void cli_unknown(const char *cmd, const char *arg);
/* Parse a comma-separated list of ints ("1,2") into out (max n). Returns the count. */
int cli_int_list(const char *cmd, const char *opt, const char *s, int *out, int n);
/* -ctk / --cache-type-k T and -ctv / --cache-type-v T (f16, f32) into cp->type_k / type_v: true if
 * argv[*i] was one of them (then *i is past its value); an unknown type exits(2). */
bool cli_cache_type_option(const char *cmd, int argc, char **argv, int *i, lutlm_context_params *cp);
#define CLI_CACHE_TYPE_HELP                                                                    \
    "  -ctk, --cache-type-k T  KV cache storage of K: f16 (default, as llama.cpp) or f32\n"   \
    "  -ctv, --cache-type-v T  the same for V\n"

#endif
