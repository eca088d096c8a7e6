"""The recommender's maths, pure (numpy; no Django, no database).

``features``      feat-v1: a track's measured attributes (or a compose request) → a vector
``taste``         a listener's Bayesian model of taste over those vectors, updated from events
``ranking``       Thompson-sampled scores, an ``allowed`` mask, MMR diversity re-rank
``compose_next``  the conditioning of new tracks that a sample of the taste likes best
``simulator``     RecSim-style listeners, documents and an environment (evaluation only)
``evaluation``    the policies compared by ``manage.py evaluate_recs``
"""
