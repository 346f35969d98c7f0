/* The `lutlm` subcommands: one file each (tools/cmd_<name>.c), each `int cmd_<name>(argc, argv)`
 * with argv[0] = the subcommand name. Return the process exit code. */
#ifndef LUTLM_TOOLS_COMMANDS_H
#define LUTLM_TOOLS_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_bench_kernels(int argc, char **argv);

#endif
