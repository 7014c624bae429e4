#!/bin/sh
# A UI bot: logs on to the account's desktop with the stored credential (never printed) and types an order.
[ -n "$BOTYARD_CREDENTIAL_USERNAME" ] && echo "logged on as $BOTYARD_CREDENTIAL_USERNAME"
sleep 2
echo "ORDER_ENTERED=yes" >> "$BOTYARD_OUTPUT"
