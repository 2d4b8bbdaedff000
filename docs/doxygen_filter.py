#!/usr/bin/env python3
"""Doxygen INPUT_FILTER for the public headers.

rollnet.h builds its rollnet_error enum from an X-macro list, so that the
enum and rollnet_error_string() come from one table. Doxygen cannot document
enum values that a macro produces; this filter writes them out, each with its
text from the list as its documentation, on the line of the expansion (line
numbers stay as they are). Every other file and line passes through unchanged.
"""
import re
import sys

ENTRY = re.compile(r'^\s*X\((\w+),\s*("(?:[^"\\]|\\.)*")\)')


def main(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    entries = []
    in_list = False
    for line in lines:
        if line.startswith("#define ROLLNET_ERROR_LIST(X)"):
            in_list = True
            continue
        if in_list:
            m = ENTRY.match(line)
            if m:
                entries.append((m.group(1), m.group(2)[1:-1]))
            if not line.rstrip().endswith("\\"):
                in_list = False
    out = []
    for line in lines:
        stripped = line.strip()
        if entries and stripped == "ROLLNET_ERROR_LIST(ROLLNET_X_ENUM)":
            line = " ".join(
                "ROLLNET_ERR_%s, /**< %s */" % (name, text.replace("*/", "* /"))
                for name, text in entries
            )
        elif entries and (stripped.startswith("#define ROLLNET_X_ENUM")
                          or stripped == "#undef ROLLNET_X_ENUM"):
            line = ""
        out.append(line)
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
