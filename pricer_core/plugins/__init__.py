"""How plugins are found and kept apart: the hook specs (`hookspecs`), the registry that loads entry
points in isolation and collects what each registers (`registry`), and the scaffold behind
`pricer plugins new`. The core's own predictors register through the same hook (`pricer_core.predictors`)."""
