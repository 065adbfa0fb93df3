"""Curation at scale: raw Amazon metadata to a sampled DatasetDict, as one Python call (`curate.curate`)
behind `pricer curate`. Blocks of lines are inflated into a shared-memory ring (`block_ring`,
`line_blocks`) that forked workers parse lazily (`raw_json`). Its speed-ups (pysimdjson, isal) are
optional: without them it falls back to the standard library. Nothing else in the core imports it."""
