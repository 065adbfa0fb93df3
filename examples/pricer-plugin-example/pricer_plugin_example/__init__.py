"""Example of a pricer plugin that lives outside the pricer repository's packages."""
