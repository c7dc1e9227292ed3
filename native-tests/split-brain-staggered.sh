#!/usr/bin/env bash
# split-brain.sh with the two pauses 2 s apart: n1 notices n3's first and forms epoch 2 with n2,
# then loses n2 too. On SIGCONT n2 still holds its stale view of n1 for a few seconds; the nodes
# must still end in one cluster (a member heard from another group stops counting for its old one).
SPLIT_GAP=2 exec bash "$(dirname "$0")/split-brain.sh"
