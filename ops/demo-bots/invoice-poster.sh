#!/bin/sh
# Posts invoices from its work queue (the trigger that starts it gives QUEUE; 'invoices' otherwise)
# until none is ready, one claim at a time, with the botyard CLI (the worker gives the bot
# BOTYARD_URL and its job's token). An invoice without a customer is a business failure: final,
# not retried.
posted=0
while claimed=$(botyard item claim "${BOTYARD_INPUT_QUEUE:-invoices}" --format shell); do
  eval "$claimed"
  case "$BOTYARD_ITEM_PAYLOAD" in
    *'"customer"'*)
      botyard item complete "$BOTYARD_ITEM_ID" --token "$BOTYARD_ITEM_TOKEN" --result "{\"postedBy\": $BOTYARD_JOB_ID}" > /dev/null
      posted=$((posted + 1))
      echo "posted $BOTYARD_ITEM_REFERENCE" ;;
    *)
      botyard item fail "$BOTYARD_ITEM_ID" --token "$BOTYARD_ITEM_TOKEN" --kind business --reason "no customer" > /dev/null
      echo "refused $BOTYARD_ITEM_REFERENCE: no customer" ;;
  esac
  sleep 0.2
done
echo "POSTED=$posted" >> "$BOTYARD_OUTPUT"
