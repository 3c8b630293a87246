"""schemathesis hooks for the contract run (loaded through SCHEMATHESIS_HOOKS).

The bulk import reads NDJSON; schemathesis has no serializer for it, so the
generated text is sent as it is, like text/plain.
"""

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")

from hypothesis import strategies as st

# Ids the script seeded (1..3 exist for stories, speakers, articles and
# claims). Half of the generated requests point at them, so that the
# fuzzer reaches the code behind the 404s as well as the 404s.
SEEDED = st.integers(min_value=1, max_value=3)
ID_FIELDS = ("id", "n", "story_id", "speaker_id", "article_id", "target_id", "into", "story", "speaker")


def _toward_seeded(values):
    if not isinstance(values, dict):
        return st.just(values)
    keys = [k for k, v in values.items() if k in ID_FIELDS and isinstance(v, int) and not isinstance(v, bool)]
    if not keys:
        return st.just(values)
    seeded = st.fixed_dictionaries({k: SEEDED for k in keys}).map(lambda small: {**values, **small})
    return st.one_of(st.just(values), seeded)


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    return _toward_seeded(path_parameters)


@schemathesis.hook
def flatmap_query(context, query):
    return _toward_seeded(query)


@schemathesis.hook
def flatmap_body(context, body):
    return _toward_seeded(body)
