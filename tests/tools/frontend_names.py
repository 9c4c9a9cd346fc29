#!/usr/bin/env python3
"""The library knows no front end: no string literal in lib/ names a command-line flag (--word)
or a CMake argument or variable of cmake/DrvSign.cmake. Front ends supply those names through
drvsign_diag's param_name. Usage: frontend_names.py REPO. Exit 0, or 1 listing each literal."""
import pathlib
import re
import sys

# Words that are both a CMake keyword and the plain name of a thing the library's messages talk
# about ("the INF copies ...", "which OS it is for", the INF token $ARCH$, a certificate
# authority's "CA:TRUE"): in a sentence they name no CMake argument.
ORDINARY_WORDS = {"INF", "OS", "ARCH", "CA"}


def literals(text):
    """(line, string) for every string literal in C source text; comments and character
    literals skipped."""
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif c in "\"'":
            j, value = i + 1, []
            while j < n and text[j] != c and text[j] != "\n":
                if text[j] == "\\" and j + 1 < n:
                    value.append(text[j : j + 2])
                    j += 2
                else:
                    value.append(text[j])
                    j += 1
            if c == '"':
                yield line, "".join(value)
            i = j + 1
        else:
            i += 1


def cmake_keywords(module):
    """The argument keywords of every drvsign_* function, and the DRVSIGN_* variables."""
    words = set()
    for m in re.finditer(r"set\((?:flags|single|multi)\s([^)]*)\)", module):
        words.update(m.group(1).split())
    for m in re.finditer(r"cmake_parse_arguments\(PARSE_ARGV \d+ arg \"([^\"]*)\" \"([^\"]*)\" \"([^\"]*)\"\)", module):
        for g in m.groups():
            words.update(w for w in g.split(";") if w)
    words.update(re.findall(r"\bDRVSIGN_[A-Z0-9_]+\b", module))
    return {w for w in words if not w.startswith("$")}


def main():
    repo = pathlib.Path(sys.argv[1])
    keywords = cmake_keywords((repo / "cmake" / "DrvSign.cmake").read_text()) - ORDINARY_WORDS
    if len(keywords) < 20:  # the module's shape changed: this test would check nothing
        print(f"only {len(keywords)} CMake keywords found in cmake/DrvSign.cmake: {sorted(keywords)}")
        return 1
    flag = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
    keyword = re.compile(r"\b(" + "|".join(sorted(map(re.escape, keywords))) + r")\b")
    bad = 0
    files = sorted((repo / "lib").glob("*.[ch]"))
    for path in files:
        for line, value in literals(path.read_text(errors="replace")):
            hit = flag.search(value) or keyword.search(value)
            if hit:
                print(f"lib/{path.name}:{line}: \"{value}\" names {hit.group(0)}, a front end's "
                      "word: take the name from drv_param(diag, DRVSIGN_PARAM_...)")
                bad += 1
    print(f"{len(files)} library files, {len(keywords)} CMake keywords ({' '.join(sorted(keywords))}): "
          f"{bad} front-end names")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
