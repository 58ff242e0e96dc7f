#!/bin/sh
# layers.sh - the build's layering check (run by `make`, see Makefile.am's all-local).
#   layers.sh includes SRCDIR    every #include "..." in the modules and tests is written
#                                "module/file.h", and a module includes only what STYLE.md's
#                                table allows: capture <- analyzers <- (store, tui) <- cli,
#                                where store and tui see capture/ and analyzers/finding.h only.
#   layers.sh symbols NM LIB...  no library references a symbol that only a library of a
#                                higher (or sibling) layer defines; LIBs in layer order,
#                                lowest first: libcapture.a libanalyzers.a libstore.a
#                                libtui.a libcli.a.
# Prints every violation as file:line: reason (or library: symbol) and exits 1 if any.
set -u

# allowed MODULE HEADER: 0 when MODULE may include HEADER ("dir/file.h").
allowed() {
    case "$1:$2" in
    capture:capture/*) return 0 ;;
    analyzers:capture/* | analyzers:analyzers/*) return 0 ;;
    store:capture/* | store:store/* | store:analyzers/finding.h) return 0 ;;
    tui:capture/* | tui:tui/* | tui:analyzers/finding.h) return 0 ;;
    cli:capture/* | cli:analyzers/* | cli:store/* | cli:tui/* | cli:cli/*) return 0 ;;
    tests:*) return 0 ;;
    esac
    return 1
}

check_includes() {
    src=$1
    bad=0
    for mod in capture analyzers store tui cli tests; do
        for f in $(cd "$src" && find "$mod" -name '*.[ch]' ! -path 'tests/gen/*' | sort); do
            # "file:line:header" for every quoted include
            out=$(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$src/$f" |
                sed 's/^\([0-9]*\):.*include[[:space:]]*"\([^"]*\)".*/\1 \2/')
            [ -n "$out" ] || continue
            while read -r line hdr; do
                case "$hdr" in
                capture/*.h | analyzers/*.h | store/*.h | tui/*.h | cli/*.h | tests/*.h) ;;
                *)
                    echo "$f:$line: #include \"$hdr\": write it as \"module/file.h\""
                    bad=1
                    continue
                    ;;
                esac
                if ! allowed "$mod" "$hdr"; then
                    echo "$f:$line: #include \"$hdr\": $mod/ may not include ${hdr%%/*}/ (layering: capture <- analyzers <- store, tui <- cli; store and tui see only analyzers/finding.h)"
                    bad=1
                fi
            done <<EOT
$out
EOT
        done
    done
    return $bad
}

# layer LIB: the layer of a library, and the libraries it may use (besides system ones).
may_use() {
    case "$(basename "$1")" in
    libcapture.a) echo "libcapture.a" ;;
    libanalyzers.a) echo "libcapture.a libanalyzers.a" ;;
    libstore.a) echo "libcapture.a libanalyzers.a libstore.a" ;;
    libtui.a) echo "libcapture.a libanalyzers.a libtui.a" ;;
    libcli.a) echo "libcapture.a libanalyzers.a libstore.a libtui.a libcli.a" ;;
    *) echo "?" ;;
    esac
}

check_symbols() {
    nm_=$1
    shift
    tmp=$(mktemp -d) || exit 1
    trap 'rm -rf "$tmp"' EXIT
    for lib in "$@"; do
        b=$(basename "$lib")
        "$nm_" -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u >"$tmp/$b.def"
        "$nm_" -u "$lib" 2>/dev/null | awk 'NF >= 2 && $1 == "U" { print $2 }' | sort -u >"$tmp/$b.und"
    done
    bad=0
    for lib in "$@"; do
        b=$(basename "$lib")
        ok=$(may_use "$b")
        for other in "$@"; do
            o=$(basename "$other")
            case " $ok " in *" $o "*) continue ;; esac
            # symbols b needs that only a library it may not use defines
            comm -12 "$tmp/$b.und" "$tmp/$o.def" | while read -r sym; do
                found=0
                for allowed_lib in $ok; do
                    [ -f "$tmp/$allowed_lib.def" ] && grep -qx "$sym" "$tmp/$allowed_lib.def" && found=1
                done
                [ $found = 1 ] || echo "$b: uses $sym, defined in $o (a higher or sibling layer)"
            done >>"$tmp/violations"
        done
    done
    if [ -s "$tmp/violations" ]; then
        cat "$tmp/violations"
        bad=1
    fi
    return $bad
}

case "${1:-}" in
includes)
    check_includes "${2:-.}" || { echo "layers.sh: include layering violated (see STYLE.md, Modules)" >&2; exit 1; }
    ;;
symbols)
    shift
    nm_=$1
    shift
    check_symbols "$nm_" "$@" || { echo "layers.sh: a library calls up the layers (link order: cli tui store analyzers capture)" >&2; exit 1; }
    ;;
*)
    echo "usage: layers.sh includes SRCDIR | symbols NM LIB..." >&2
    exit 2
    ;;
esac
