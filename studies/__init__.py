"""Studies: papers with their citations, exports, filters and import (studies.apps)."""
