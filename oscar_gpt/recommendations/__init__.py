"""Recommendations: Oscar's signals in, precomputed lists with reasons out.

- :mod:`.events`: product views, basket lines and order lines read from Oscar's tables.
- :mod:`.recommenders`: the models behind one interface (co-occurrence and ALS from
  ``implicit``, content similarity on the product embeddings of :mod:`.embeddings`,
  popularity) and their weighted hybrid.
- :mod:`.service`: rebuild, incremental update, business rules, serving.
- :mod:`.evaluation`: leave-last-out hit rate and NDCG for every model and the baselines.
- :mod:`.signals`: Oscar's signals queue updates.
"""
