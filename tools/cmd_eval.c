/* lutlm eval: not implemented yet (placeholder so the command table links). */
#include <stdio.h>

#include "commands.h"

int cmd_eval(int argc, char **argv) {
    (void)argc;
    fprintf(stderr, "lutlm %s: not implemented yet\n", argv[0]);
    return 2;
}
