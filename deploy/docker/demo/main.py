"""Demo backend. DEMO_FIXED=1 runs release 1.4.3; otherwise 1.4.2, which lacks a module."""
import os
import sys

RELEASE = "1.4.3" if os.environ.get("DEMO_FIXED") == "1" else "1.4.2"
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "release-" + RELEASE))

from app import server  # noqa: E402  (the release is chosen above)

sys.exit(server.main(RELEASE))
