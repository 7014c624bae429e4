#!/bin/sh
# A demo office bot for pipelines and workflows, steered by its inputs:
#   WORK     what it says it does       SECONDS   how long it works
#   FAIL_ON  attempts that fail ("1")   EXIT      exit code of a failing attempt (default 1)
#   OUTPUT   a KEY=VALUE line for its outputs (a workflow passes it on as BOTYARD_VAR_KEY)
#   BUSINESS the reason of a business exception it raises (never retried)
echo "attempt $BOTYARD_ATTEMPT: ${BOTYARD_INPUT_WORK:-working}"
for variable in $(env | grep '^BOTYARD_VAR_' | sort); do echo "  got $variable"; done
sleep "${BOTYARD_INPUT_SECONDS:-0}"
if [ -n "${BOTYARD_INPUT_BUSINESS:-}" ]; then
  echo "  business exception: $BOTYARD_INPUT_BUSINESS"
  echo "BUSINESS_EXCEPTION=$BOTYARD_INPUT_BUSINESS" >> "$BOTYARD_OUTPUT"
  exit 1
fi
case " ${BOTYARD_INPUT_FAIL_ON:-} " in
  *" $BOTYARD_ATTEMPT "*) echo "  failed"; exit "${BOTYARD_INPUT_EXIT:-1}" ;;
esac
if [ -n "${BOTYARD_INPUT_OUTPUT:-}" ]; then echo "$BOTYARD_INPUT_OUTPUT" >> "$BOTYARD_OUTPUT"; fi
echo "  done"
