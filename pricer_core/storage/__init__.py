"""Writing that cannot lose or destroy: atomic files and output folders swapped in only over pricer's
own (`atomic`), and model folders saved as data and loaded by predictor name (`persistence`)."""
