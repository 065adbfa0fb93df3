"""Data in and out: the four input formats read into Items with every dropped row counted (`readers`),
the cleaning rules of the course's curation (`cleaning`, `text`, `units`), train/validation/test and the
one `load_splits(source)` for the bundle, a folder, a DatasetDict or a hub id (`splits`), the
DatasetDict and hub round-trip (`hub`), and the recipe that builds the bundled dataset in `bundle/`."""
