#!/bin/sh
# Always fails: the export folder it needs does not exist.
echo "exporting to /srv/export"
echo "export folder missing" >&2
exit 2
