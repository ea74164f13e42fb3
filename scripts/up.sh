#!/bin/bash
# Set up and bring the platform up on its embedded defaults.  Until sandhostd
# exists (issue 5), that means: build, then run a demo container with sbx.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh build
exec ./scripts/demo.sh
