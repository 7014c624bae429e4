#!/bin/sh
# Succeeds and reports outputs: reads "invoices" for the customer it is given.
echo "reading invoices for ${BOTYARD_INPUT_CUSTOMER:-nobody} (job $BOTYARD_JOB_ID, attempt $BOTYARD_ATTEMPT)"
sleep 1
echo "INVOICES=3" >> "$BOTYARD_OUTPUT"
echo "TOTAL_EUR=1249.50" >> "$BOTYARD_OUTPUT"
echo "done"
