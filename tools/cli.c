#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cli_flag(char **argv, int i, const char *short_name, const char *long_name) {
    return (short_name && !strcmp(argv[i], short_name)) || (long_name && !strcmp(argv[i], long_name));
}

bool cli_option(int argc, char **argv, int *i, const char *short_name, const char *long_name, const char **value) {
    if (!cli_flag(argv, *i, short_name, long_name)) return false;
    if (*i + 1 >= argc) {
        fprintf(stderr, "lutlm %s: option %s needs a value\n", argv[0], argv[*i]);
        exit(2);
    }
    *value = argv[++*i];
    return true;
}

long long cli_int(const char *cmd, const char *opt, const char *s, long long min, long long max) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        fprintf(stderr, "lutlm %s: invalid value for %s: '%s' (expected an integer in [%lld, %lld])\n", cmd, opt, s, min, max);
        exit(2);
    }
    return v;
}

double cli_float(const char *cmd, const char *opt, const char *s) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end) {
        fprintf(stderr, "lutlm %s: invalid value for %s: '%s' (expected a number)\n", cmd, opt, s);
        exit(2);
    }
    return v;
}

_Noreturn void cli_unknown(const char *cmd, const char *arg) {
    fprintf(stderr, "lutlm %s: unknown option '%s' (see lutlm %s --help)\n", cmd, arg, cmd);
    exit(2);
}

int cli_int_list(const char *cmd, const char *opt, const char *s, int *out, int n) {
    int count = 0;
    const char *p = s;
    while (*p) {
        char item[32];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item || count >= n) {
            fprintf(stderr, "lutlm %s: invalid list for %s: '%s'\n", cmd, opt, s);
            exit(2);
        }
        memcpy(item, p, len);
        item[len] = 0;
        out[count++] = (int)cli_int(cmd, opt, item, 0, 1 << 30);
        p += len;
        if (*p == ',') p++;
    }
    return count;
}

bool cli_cache_type_option(const char *cmd, int argc, char **argv, int *i, lutlm_context_params *cp) {
    const char *v;
    lutlm_cache_type *type;
    if (cli_option(argc, argv, i, "-ctk", "--cache-type-k", &v)) type = &cp->type_k;
    else if (cli_option(argc, argv, i, "-ctv", "--cache-type-v", &v)) type = &cp->type_v;
    else return false;
    int t = lutlm_cache_type_from_name(v);
    if (t < 0) {
        fprintf(stderr, "lutlm %s: unknown KV cache type '%s' for %s (f16 or f32)\n", cmd, v, argv[*i - 1]);
        exit(2);
    }
    *type = (lutlm_cache_type)t;
    return true;
}
