#!/usr/bin/env python3
"""Expected token ids for the Hugging Face tokenizer.json files in ../shared, made once with the
reference implementation (Hugging Face `tokenizers`, pip install tokenizers) and committed under
tests/fixtures/tokenizer/. The C test (tests/test_tokenizer_hf.c) converts the same tokenizer.json
files with lutlm's importer and must reproduce these ids without Python or the network.

    python3 scripts/gen_tokenizer_fixtures.py [--shared ../shared]

Files: hf-strings.inp (test strings separated by lines "__ggml_vocab_test__", like llama.cpp's
vocab tests), hf-<name>.out (ids per string, one line each, add_special_tokens=False), and
README.md noting the tokenizers version used.
"""
import argparse
import os

import tokenizers

STRINGS = [
    "Hello world",
    " Hello world",
    "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～",
    "I'M SURE THEY'LL SAY WE'D DONE IT, didn't we? You're right; it's 'quoted'.",
    "The quick brown fox jumps over the lazy dog.",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "for (int i = 0; i < 10; ++i) { printf(\"%d\\n\", a[i] >> 2); }\t// done",
    "人工智能是计算机科学的一个分支。今天天气很好！",
    "こんにちは、世界。カタカナとひらがな",
    "안녕하세요 세계",
    "Привет, мир! нещо на Български",
    "مرحبا بالعالم",
    "Cửa Việt — café naïve façade Führer",
    "🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅ 👨‍👩‍👧‍👦 🇫🇷",
    "3",
    "33",
    "333",
    "3333",
    "12345678901234567890",
    "pi = 3.14159265358979, e = 2.718281828; 1,000,000 and 10^100",
    "   leading and trailing spaces   ",
    "a  b   c    d     e",
    "\n",
    "\n\n\n",
    "line one\nline two\r\nline three\n\n\n  indented\n\t\ttabbed\n",
    "   \n   \n",
    "\u00a0non-breaking\u00a0space and\u3000ideographic space",
    "!!!!!!  ???  ...  ,,,  ;;;",
    "<html><body class=\"main\">&amp; &lt;tag&gt;</body></html>",
    "https://example.com/path?query=1&x=y#frag user@example.org",
    "ℌ𝔢𝔩𝔩𝔬 ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    "",
]

SEP = "\n__ggml_vocab_test__\n"


def main():
    ap = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--shared", default=os.path.join(root, "..", "shared"))
    args = ap.parse_args()
    out_dir = os.path.join(root, "tests", "fixtures", "tokenizer")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "hf-strings.inp"), "w", encoding="utf-8", newline="") as f:
        for s in STRINGS:
            f.write(s + SEP)
    for name, rel in (("llama3", "models/tokenizer-llama3-npm/tokenizer.json"),
                      ("qwen3", "models/tokenizer-qwen3-npm/tokenizer.json")):
        tok = tokenizers.Tokenizer.from_file(os.path.join(args.shared, rel))
        with open(os.path.join(out_dir, "hf-%s.out" % name), "w") as f:
            for s in STRINGS:
                ids = tok.encode(s, add_special_tokens=False).ids
                f.write("".join(" %d" % i for i in ids) + "\n")
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write("# Tokenizer fixtures\n\n"
                "`hf-strings.inp` holds test strings (separated by lines `__ggml_vocab_test__`); `hf-llama3.out` and\n"
                "`hf-qwen3.out` the token ids (one line per string) that Hugging Face `tokenizers` %s produced,\n"
                "with `add_special_tokens=False`, from `../shared/models/tokenizer-{llama3,qwen3}-npm/tokenizer.json`.\n"
                "Generated once by `scripts/gen_tokenizer_fixtures.py`; `tests/test_tokenizer_hf.c` converts the same\n"
                "files with lutlm's importer and compares, without Python or the network.\n" % tokenizers.__version__)


if __name__ == "__main__":
    main()
