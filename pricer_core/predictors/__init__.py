"""The predictors the core ships, registered through the same hook as any plugin (`plugin`): the
sanity baselines (`baselines`: constant mean and median, uniform random) and the `ensemble`, which
blends other fitted predictors. Learned models live in the plugin distributions under plugins/."""
