/* Chat templates: formatting of each family (expected strings written from llama.cpp's
 * llm_chat_apply_template) and detection from real tokenizer.chat_template texts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "gguf/gguf.h"
#include "test_util.h"
#include "tokenizer/chat.h"

static const lt_chat_msg CONV[] = {
    { "system", "You are helpful." }, { "user", "Hi" }, { "assistant", "Hello!" }, { "user", " Bye " },
};

static void check_format(lt_chat_template t, bool add_assistant, const char *want) {
    char *got = lt_chat_apply(t, CONV, 4, add_assistant);
    CHECKF(got && !strcmp(got, want), "%s: got\n%s\nwant\n%s", lt_chat_name(t), got ? got : "(null)", want);
    free(got);
}

int main(void) {
    check_format(LT_CHAT_CHATML, true,
                 "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                 "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n Bye <|im_end|>\n<|im_start|>assistant\n");
    check_format(LT_CHAT_LLAMA3, true,
                 "<|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>"
                 "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                 "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\n");
    check_format(LT_CHAT_PHI3, true,
                 "<|system|>\nYou are helpful.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n"
                 "<|user|>\n Bye <|end|>\n<|assistant|>\n");
    check_format(LT_CHAT_PHI3, false,
                 "<|system|>\nYou are helpful.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n"
                 "<|user|>\n Bye <|end|>\n");
    check_format(LT_CHAT_LLAMA2_SYS, true, "[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHi [/INST]Hello!</s>[INST]  Bye  [/INST]");
    check_format(LT_CHAT_LLAMA2, true, "[INST] You are helpful.\nHi [/INST]Hello!</s>[INST]  Bye  [/INST]");
    check_format(LT_CHAT_LLAMA2_SYS_BOS, true, "[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHi [/INST]Hello!</s><s>[INST]  Bye  [/INST]");
    check_format(LT_CHAT_LLAMA2_SYS_STRIP, true, "[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHi [/INST]Hello!</s>[INST] Bye [/INST]");
    CHECK(lt_chat_apply(LT_CHAT_UNKNOWN, CONV, 4, true) == NULL);

    CHECK(lt_chat_from_name("chatml") == LT_CHAT_CHATML && lt_chat_from_name("nope") == LT_CHAT_UNKNOWN);
    CHECK(lt_chat_detect(NULL) == LT_CHAT_UNKNOWN);
    CHECK(lt_chat_detect("{{ messages }}") == LT_CHAT_UNKNOWN);
    CHECK(lt_chat_detect("{% if message['role'] == 'system' %}<<SYS>>{% endif %}[INST]") == LT_CHAT_LLAMA2_SYS);

    /* real templates: the Phi-3 vocab GGUF, and the Llama-3 / Qwen3 tokenizer_config.json */
    gguf_file *f = gguf_open(shared_path("models/llamacpp-vocab/ggml-vocab-phi-3.gguf"));
    CHECKF(f && lt_chat_detect(gguf_get_str(f, "tokenizer.chat_template")) == LT_CHAT_PHI3, "phi-3 template");
    gguf_close(f);
    const char *configs[][2] = { { "models/tokenizer-llama3-npm/tokenizer_config.json", "llama3" },
                                 { "models/tokenizer-qwen3-npm/tokenizer_config.json", "chatml" } };
    for (int i = 0; i < 2; i++) {
        char *text = lt_read_file(shared_path(configs[i][0]), NULL);
        char *tmpl = text ? strstr(text, "\"chat_template\"") : NULL;
        CHECKF(tmpl && !strcmp(lt_chat_name(lt_chat_detect(tmpl)), configs[i][1]), "%s", configs[i][0]);
        free(text);
    }
    return TEST_DONE();
}
