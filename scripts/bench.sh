#!/usr/bin/env bash
# Placeholder: benchmarks are not written yet.
echo "bench: not yet implemented" >&2
exit 1
