# Sourced by the demo scripts that generate ScanNet-format scenes (tools/run_demo.sh,
# tools/run_mmpd_demo.sh): each run starts from fresh trees, since scenes left by an earlier run with
# other counts would mix into the index (prepare_scannet keeps finished scenes). Only trees these
# scripts write are removed.
fresh_demo_trees() {  # RAW OUT
    fresh_tree "$1" scannetv2-labels.combined.tsv
    fresh_tree "$2" index.json
}
fresh_tree() {  # DIR MARKER: remove DIR when it holds MARKER (a demo tree), refuse any other non-empty DIR
    if [ -e "$1/$2" ]; then rm -rf "$1"
    elif [ -d "$1" ] && [ -n "$(ls -A "$1")" ]; then
        echo "[demo] error: $1 exists and is not a demo tree (no $2): choose another directory" >&2; exit 1
    fi
}
