#!/bin/sh
# Send a command to a partnership through Temporal's HTTP API with curl (no Temporal SDK).
#
#   examples/integrations/http-api.sh signal partnership-mianyang-cupertino record_meeting examples/record_meeting.json
#   examples/integrations/http-api.sh update partnership-mianyang-cupertino draft_memorandum examples/draft_memorandum.json
#   examples/integrations/http-api.sh query  partnership-mianyang-cupertino status
#
# The payload is json/plain, base64-encoded. The signal's Temporal requestId is the payload's
# request_id when it has one, so posting the same file twice delivers it once; the update's id
# is that request_id too, so a retried update answers with the first result.
# Environment: TEMPORAL_HTTP (http://localhost:7243; the dev server needs --http-port 7243),
#              TEMPORAL_NAMESPACE (default).
set -eu

usage() {
    echo "usage: $0 signal|update|query WORKFLOW_ID NAME [FILE.json]" >&2
    exit 2
}
[ $# -ge 3 ] || usage
action=$1 workflow_id=$2 name=$3 file=${4:-}
base="${TEMPORAL_HTTP:-http://localhost:7243}/api/v1/namespaces/${TEMPORAL_NAMESPACE:-default}/workflows/$workflow_id"

encoding=$(printf 'json/plain' | base64 | tr -d '\n')
if [ -n "$file" ]; then
    data=$(base64 <"$file" | tr -d '\n')
    # the payload's request_id, if any (good enough for the examples' one-key-per-line JSON)
    request_id=$(sed -n 's/.*"request_id": *"\([^"]*\)".*/\1/p' "$file" | head -n 1)
else
    data=$(printf '{}' | base64 | tr -d '\n')
    request_id=
fi
[ -n "$request_id" ] || request_id=$(cat /proc/sys/kernel/random/uuid 2>/dev/null || date +%s%N)
payloads="{\"payloads\":[{\"metadata\":{\"encoding\":\"$encoding\"},\"data\":\"$data\"}]}"

post() {
    answer=$(curl --silent --show-error --fail-with-body -X POST \
        -H 'Content-Type: application/json' --data "$2" "$1") || {
        echo "$answer" >&2
        exit 1
    }
    case $answer in
    *'"outcome":{"failure":'*) # a refused update: nothing was recorded
        echo "$answer" >&2
        exit 1
        ;;
    esac
    echo "$answer"
}

case $action in
signal)
    post "$base/signal/$name" "{\"input\":$payloads,\"identity\":\"http-api.sh\",\"requestId\":\"$request_id\"}"
    ;;
update)
    post "$base/update/$name" "{\"request\":{\"meta\":{\"updateId\":\"$request_id\",\"identity\":\"http-api.sh\"},\"input\":{\"args\":$payloads}},\"waitPolicy\":{\"lifecycleStage\":\"UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED\"}}"
    ;;
query)
    post "$base/query/$name" '{"query":{}}'
    ;;
*) usage ;;
esac
