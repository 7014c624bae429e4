#!/bin/sh
# Fails its first two attempts (the portal "times out"), succeeds on the third.
echo "logging in to the supplier portal, attempt $BOTYARD_ATTEMPT of $BOTYARD_MAX_ATTEMPTS"
if [ "$BOTYARD_ATTEMPT" -lt 3 ]; then
  echo "portal did not answer" >&2
  exit 1
fi
echo "ORDERS_CONFIRMED=12" >> "$BOTYARD_OUTPUT"
echo "confirmed 12 orders"
