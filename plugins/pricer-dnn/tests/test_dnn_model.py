import numpy as np
import torch

from pricer_dnn.config import NetConfig
from pricer_dnn.model import ResidualPricer, SparseLinear, parameter_count
from pricer_dnn.sparse_rows import hash_texts


def test_seed_network_has_289_128_449_parameters():
    with torch.device("meta"):
        model = ResidualPricer(NetConfig(n_features=5000, width=4096, depth=8, dropout=0.2))
    assert parameter_count(model) == 289_128_449


def test_sparse_linear_equals_dense_linear_on_binary_rows():
    torch.manual_seed(0)
    rows = hash_texts(["red cordless drill", "blue cable for charging phones", "drill"], n_features=64)
    layer = SparseLinear(64, 8)
    indices, offsets = rows.batch(np.arange(3))
    dense = torch.from_numpy(rows.dense()) @ layer.weight + layer.bias
    assert torch.allclose(layer(indices, offsets), dense, atol=1e-6)


def test_hashed_rows_are_compact_and_stop_words_dropped():
    rows = hash_texts(["the drill and the saw", ""], n_features=5000)
    assert rows.indices.dtype == np.int16
    assert rows.indptr.tolist() == [0, 2, 2]  # "the", "and" are English stop words; empty text has no words
