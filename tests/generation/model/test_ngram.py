"""The n-gram baseline is a proper distribution and learns."""

import math

from generation.model.ngram import NGram


def test_probabilities_sum_to_one_and_training_helps():
    seqs = [[1, 2, 3, 4, 2, 3, 4, 5], [1, 2, 3, 4, 5, 5]] * 5
    ng = NGram(3, 8).fit(seqs)
    for ctx in [(), (2,), (2, 3), (7, 7)]:
        assert math.isclose(sum(ng.prob(ctx, t) for t in range(8)), 1.0, rel_tol=1e-9)
    total, count = ng.nll([[1, 2, 3, 4, 5]])
    assert count == 4
    assert total / count < math.log(8) / 2
