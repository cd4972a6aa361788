#!/usr/bin/env bash
# The last step of make bench: bench/results/REPORT.md, one page over the
# results files the benchmark scripts wrote, and a CSV next to every
# results file that has none of its own.
#
# For each benchmark, in the order below, the report gives its title, the
# file's date line, every table of the file that has a PASS or FAIL cell
# (its header and the rows with a verdict; rows without one are left in
# the file) and every other line that carries a verdict, then its plots.
# Nothing is computed here: every figure is copied from a results file,
# so the report says no more than the runs did.  A results file that is
# missing (its benchmark was not run) is listed as such.
#
# CSV: for a results file X.md without X.csv written by its own script,
# the first table after its "## Results" heading goes to X.csv (header
# row, then one line per row; cells with a comma are quoted).
#
# Run alone: bash scripts/bench_report.sh
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RESULTS_DIR="$REPO/bench/results"
REPORT="$RESULTS_DIR/REPORT.md"
# results files whose script writes its CSV itself
OWN_CSV="flush observe replacement scan_resistance governor"
# file:what the issue asks of it
BENCHES=(
    "hit_path:1. Hit path against ReadBuffer/ReleaseBuffer"
    "replacement:2. Replacement quality against plain LRU and the clock sweep"
    "scan_resistance:2b. Scan resistance with the page cleaners running (issue 15)"
    "alloc:3. Allocators against malloc and palloc"
    "resize:4. Online resize"
    "flush:5. Flushing against the disk (fio) and the cost of doublewrite"
    "memory_overhead:6. Memory overhead per page"
    "observe:7. Observability cost on the hit path"
    "redo:Durable writes and recovery (redo log)"
    "warm:Warm restart: dump and load (issue 18)"
    "governor:Memory governor against a memory hog (issue 19)"
    "kv:Key-value store on bufpool pages against a PostgreSQL table (issue 20)"
    "huge_pages:Huge pages against 4 kB pages: hit path on 2 GiB, grow (issue 21)"
    "zip:Compressed spaces against the same space uncompressed, Zipf reads (issue 22)"
    "size_classes:Size-class pools against the buddy allocator, Slab and malloc (issue 23)"
)

# verdict_tables FILE: the tables with a verdict, reduced to header +
# separator + the rows with one; then the lines outside tables with one.
verdict_tables() {
    awk '
        function flush_table() {
            if (n_rows > 0) {
                print header; print sep
                for (i = 1; i <= n_rows; i++) print rows[i]
                print ""
            }
            in_table = 0; n_rows = 0; header = ""; sep = ""
        }
        /^\|/ {
            if (!in_table) { in_table = 1; header = $0; line_no = 0 }
            line_no++
            if (line_no == 2) { sep = $0; next }
            if (line_no > 2 && ($0 ~ /[| ]PASS[ |]/ || $0 ~ /[| ]FAIL[ |]/)) rows[++n_rows] = $0
            next
        }
        {
            if (in_table) flush_table()
            if ($0 ~ /: (PASS|FAIL)$/ || $0 ~ /\((PASS|FAIL)\)/) { print "- " $0; print "" }
        }
        END { if (in_table) flush_table() }
    ' "$1"
}

# results_csv NAME: X.md's first table after "## Results" -> X.csv
results_csv() {
    awk '
        /^## Results/ { on = 1; next }
        on && /^## / { exit }
        on && /^\|/ {
            n++
            if (n == 2) next   # the |---| line
            line = $0
            sub(/^\| */, "", line); sub(/ *\|$/, "", line)
            k = split(line, cell, / *\| */)
            out = ""
            for (i = 1; i <= k; i++) {
                c = cell[i]
                if (c ~ /[,"]/) { gsub(/"/, "\"\"", c); c = "\"" c "\"" }
                out = out (i > 1 ? "," : "") c
            }
            print out
            seen = 1
            next
        }
        on && seen && !/^\|/ { exit }
    ' "$RESULTS_DIR/$1.md" >"$RESULTS_DIR/$1.csv"
    [ -s "$RESULTS_DIR/$1.csv" ] || rm -f "$RESULTS_DIR/$1.csv"
}

newest=$(find "$RESULTS_DIR" -maxdepth 1 -name '*.md' ! -name REPORT.md -printf '%T@ %p\n' | sort -rn | head -1 | cut -d' ' -f2-)
machine=$(awk '/^## Machine/ { on = 1; print; next } on && /^## / { exit } on' "$newest")

{
    echo "# bufpool_ext benchmark report"
    echo
    echo "Assembled by scripts/bench_report.sh (\`make bench\`) on $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "from the results files in this directory; each benchmark's file has the"
    echo "method, every run and its own machine description.  Each result is a"
    echo "ratio against its peer measured in the same run (median of repeats)."
    echo
    echo "$machine" | sed 's/^## Machine/## Machine (of the newest results file)/'
    echo
    for b in "${BENCHES[@]}"; do
        name=${b%%:*}
        what=${b#*:}
        f="$RESULTS_DIR/$name.md"
        echo "## $what"
        echo
        if [ ! -f "$f" ]; then
            echo "Not run: no $name.md."
            echo
            continue
        fi
        title=$(head -1 "$f" | sed 's/^# *//')
        written=$(grep -m1 '^Written by' "$f" || true)
        echo "[$name.md]($name.md): $title.  $written"
        echo
        case " $OWN_CSV " in
            *" $name "*) ;;
            *) results_csv "$name" ;;
        esac
        verdicts=$(verdict_tables "$f")
        if [ -n "$verdicts" ]; then
            echo "$verdicts"
        else
            echo "(no PASS/FAIL lines in $name.md)"
            echo
        fi
        echo
        for png in "$RESULTS_DIR/$name"*.png; do
            [ -f "$png" ] || continue
            p=$(basename "$png")
            echo "![$p]($p)"
            echo
        done
    done
    files=()
    for b in "${BENCHES[@]}"; do
        [ -f "$RESULTS_DIR/${b%%:*}.md" ] && files+=("$RESULTS_DIR/${b%%:*}.md")
    done
    n_pass=$(cat "${files[@]}" | grep -v 'PASS/FAIL' | grep -o -w PASS | wc -l)
    n_fail=$(cat "${files[@]}" | grep -v 'PASS/FAIL' | grep -o -w FAIL | wc -l)
    echo "## Count"
    echo
    echo "Verdicts in these results files (every PASS or FAIL cell or line, including the per-run tables): $n_pass PASS, $n_fail FAIL."
} >"$REPORT.tmp"
mv "$REPORT.tmp" "$REPORT"
log "report written to $REPORT"
