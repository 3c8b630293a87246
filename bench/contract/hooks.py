"""schemathesis hooks for the contract run (loaded through SCHEMATHESIS_HOOKS).

The bulk import reads NDJSON; schemathesis has no serializer for it, so the
generated text is sent as it is, like text/plain.
"""

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
